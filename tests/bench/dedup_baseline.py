"""The anchors of the dedup benchmark: the same job done the plain way with a MinHash library.

    python tests/bench/dedup_baseline.py {datasketch,rensa} FILE N [--stats S.json] [--clusters]

For the first N records of FILE: the text camelid compares (instruction, then input, joined by a
newline), its set of word tokens (`camelid.text.unicode_tokenize`, as camelid's default
shingles), a MinHash of 128 permutations, an LSH index, every candidate it returns confirmed by
the estimated Jaccard similarity of the two full signatures (>= 0.7), clusters by union-find,
and a second pass writing the first record of each cluster as it was read. Records without a
token are kept and never indexed, as camelid does.

- datasketch, as its docs recommend: `MinHash.bulk` on batches of 4,096 records (one template
  per batch, whose permutations every copy shares: none regenerated per record), each sketch
  kept as a `LeanMinHash` (no permutations, no hash function), `MinHashLSH` with camelid's
  bands and rows (`MinHashParams(threshold=0.7).banding()`, 18 x 7), query then insert, record
  by record. Its default token hash (SHA-1) is kept.
- rensa: `RMinHash.from_token_sets` a batch at a time, `RMinHashLSH.insert_many` and
  `query_all`. Its LSH needs num_perm divisible by the bands, which 18 is not for 128: it uses
  16 bands of 8 rows (the divisor of 128 whose S-curve is nearest camelid's).

Prints the kept lines (or, with --clusters, for each record the index of the record its cluster
keeps) and nothing else to stdout; --stats writes counts (candidate pairs checked, confirmed).
Its time and peak memory are measured by the caller.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from itertools import islice

import orjson

from camelid.stages.dedup.minhash import MinHashParams
from camelid.text import unicode_tokenize

THRESHOLD = 0.7
NUM_PERM = 128
SEED = 1
BATCH = 4096
RENSA_BANDS = 16  # 128 / 16 = 8 rows; camelid's 18 x 7 does not divide 128
FIELDS = ("instruction", "input")

Record = tuple[int, list[str]]  # (record index, distinct tokens)


def token_sets(path: str, n: int) -> Iterator[Record]:
    """(index, distinct tokens) of each of the first n records that has a token."""
    with open(path, "rb") as f:
        for i, line in enumerate(islice(f, n)):
            record = orjson.loads(line)
            text = "\n".join(record[k] for k in FIELDS if record.get(k))
            tokens = set(unicode_tokenize(text))
            if tokens:
                yield i, list(tokens)


def batches(records: Iterator[Record]) -> Iterator[tuple[list[int], list[list[str]]]]:
    while batch := list(islice(records, BATCH)):
        yield [i for i, _ in batch], [t for _, t in batch]


class Clusters:
    """Union-find over record indices; a root is always its cluster's first record."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def root(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.root(i), self.root(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def with_datasketch(records: Iterator[Record], clusters: Clusters, stats: dict) -> None:
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    bands, rows = MinHashParams(threshold=THRESHOLD).banding()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, params=(bands, rows))
    stats["bands_rows"] = [bands, rows]
    sketches: dict[int, LeanMinHash] = {}
    for keys, sets in batches(records):
        encoded = [[t.encode() for t in tokens] for tokens in sets]
        for i, full in zip(keys, MinHash.bulk(encoded, num_perm=NUM_PERM, seed=SEED), strict=True):
            m = LeanMinHash(full)  # frozen, without the permutations: the memory-lean form
            for j in lsh.query(m):
                stats["candidates"] += 1
                if m.jaccard(sketches[j]) >= THRESHOLD:
                    stats["confirmed"] += 1
                    clusters.join(j, i)
            lsh.insert(i, m, check_duplication=False)  # keys are unique record indices
            sketches[i] = m


def with_rensa(records: Iterator[Record], clusters: Clusters, stats: dict) -> None:
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=RENSA_BANDS)
    stats["bands_rows"] = [RENSA_BANDS, NUM_PERM // RENSA_BANDS]
    sketches: list = []  # by LSH key: the order records were indexed in
    index: list[int] = []  # LSH key -> record index
    for keys, sets in batches(records):
        start = len(sketches)
        batch = RMinHash.from_token_sets(sets, num_perm=NUM_PERM, seed=SEED)
        sketches += batch
        index += keys
        lsh.insert_many(batch, start_key=start)
        for k, found in enumerate(lsh.query_all(batch), start):
            m = sketches[k]
            for j in found:
                if j >= k:  # itself, or a later record: that pair is checked from its side
                    continue
                stats["candidates"] += 1
                if m.jaccard(sketches[j]) >= THRESHOLD:
                    stats["confirmed"] += 1
                    clusters.join(index[j], index[k])


LIBRARIES = {"datasketch": with_datasketch, "rensa": with_rensa}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", choices=sorted(LIBRARIES))
    parser.add_argument("path")
    parser.add_argument("n", type=int)
    parser.add_argument("--stats", help="write counts here as JSON")
    parser.add_argument("--clusters", action="store_true", help="print each record's keeper")
    args = parser.parse_args()
    clusters = Clusters(args.n)
    stats = {"library": args.library, "read": 0, "candidates": 0, "confirmed": 0}
    LIBRARIES[args.library](token_sets(args.path, args.n), clusters, stats)
    out = sys.stdout.buffer
    kept = 0
    with open(args.path, "rb") as f:  # pass 2, as camelid: kept lines byte for byte
        for i, line in enumerate(islice(f, args.n)):
            keeper = clusters.root(i)
            kept += keeper == i
            if args.clusters:
                out.write(b"%d\n" % keeper)
            elif keeper == i:
                out.write(line if line.endswith(b"\n") else line + b"\n")
            stats["read"] = i + 1
    stats["kept"] = kept
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(stats, f)


if __name__ == "__main__":
    main()
