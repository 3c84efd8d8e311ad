"""The baseline of the dedup benchmark: the same job done the plain way with datasketch.

    python tests/bench/dedup_baseline.py FILE N > kept.jsonl

For the first N records of FILE: the same text (instruction and input), the same shingles (the
word tokens camelid uses), a datasketch MinHash of 128 permutations, MinHashLSH with camelid's
bands and rows, candidates confirmed by their estimated Jaccard >= 0.7, clusters by union-find,
and a second pass writing the first record of each cluster, as camelid does. Prints nothing else
to stdout; its time and peak memory are measured by the caller.
"""

from __future__ import annotations

import json
import sys
from itertools import islice

from datasketch import MinHash, MinHashLSH

from camelid.stages.dedup.minhash import MinHashParams
from camelid.text import unicode_tokenize

THRESHOLD = 0.7


def main(path: str, n: int) -> None:
    bands, rows = MinHashParams(threshold=THRESHOLD).banding()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128, params=(bands, rows))
    signatures: dict[int, MinHash] = {}
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(islice(f, n)):
            record = json.loads(line)
            text = "\n".join(record[k] for k in ("instruction", "input") if record.get(k))
            m = MinHash(num_perm=128, seed=1)
            m.update_batch([t.encode() for t in set(unicode_tokenize(text))])
            for other in lsh.query(m):
                if m.jaccard(signatures[other]) >= THRESHOLD:
                    a, b = root(i), root(other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
            lsh.insert(i, m)
            signatures[i] = m
    out = sys.stdout
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(islice(f, n)):
            if root(i) == i:
                out.write(line)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
