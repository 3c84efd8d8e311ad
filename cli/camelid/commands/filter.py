"""`camelid filter`: options -> FilterConfig -> stages.filter.run on the runtime's raw path."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from camelid.commands import common
from camelid.errors import UsageError
from camelid.runtime import Run, RunOptions
from camelid.stages.filter import TEXT_FIELDS, Filter, FilterConfig
from camelid.stages.filter.run import run_filter
from camelid.stages.filter.top import Top

HELP = "Keep or drop records by scores, length, regexes, blacklisted words, fields, source or tags."
DESCRIPTION = f"""{HELP}

All predicates must pass (AND). A dropped record goes to --rejects with the first failing
predicate as its reason (e.g. "score quality 3 < 4"); --stats writes the counts per reason.
Checks run in this order: --best-of, --require, --source, --tag, --min/--max-score, --min-mean,
lengths, --match, --exclude, --blacklist; then --top keeps the best of the rest. A null or absent score fails its threshold ("score
quality missing"). Kept records are written byte for byte as they were read (line endings
too), unless --best-of rewrote them. FIELD may be a dotted path (scores.quality, completions.0.text)."""

Specs = list[str] | None


def register(app: typer.Typer) -> None:
    app.command(
        "filter",
        help=DESCRIPTION,
        short_help=HELP,
        epilog=common.epilog(
            "camelid filter scored.jsonl --min-score quality=4 --min-words 20 "
            "--blacklist 'as an ai' --rejects dropped.jsonl --stats stats.json -o kept.jsonl",
            "any record; the fields the predicates name (scores, output, source, tags, "
            "completions[{text, model, scores}] with --best-of)",
            "the kept records unchanged; with --best-of the best completion as output, its "
            "scores as scores, completions removed and a lineage entry",
        ),
    )(filter_records)


def _opt(metavar: str, help: str, **kw: Any) -> Any:
    return typer.Option(metavar=metavar, help=help, show_default=False, **kw)


@common.run_flags
def filter_records(
    run: RunOptions,
    inputs: common.Inputs = None,
    min_score: Annotated[Specs, _opt("ASPECT=N", "Keep scores >= N (repeatable).")] = None,
    max_score: Annotated[Specs, _opt("ASPECT=N", "Keep scores <= N (repeatable).")] = None,
    min_mean: Annotated[
        float | None, _opt("X", "Keep when the mean of the (non-null) scores is >= X.")
    ] = None,
    field: Annotated[
        str, typer.Option(metavar="FIELD", help="The field the length bounds measure.")
    ] = "output",
    min_words: Annotated[int | None, _opt("N", "Fewest words in --field.", min=0)] = None,
    max_words: Annotated[int | None, _opt("N", "Most words in --field.", min=0)] = None,
    min_chars: Annotated[int | None, _opt("N", "Fewest characters in --field.", min=0)] = None,
    max_chars: Annotated[int | None, _opt("N", "Most characters in --field.", min=0)] = None,
    match: Annotated[
        Specs, _opt("FIELD=REGEX", "Keep when the field matches (repeatable).")
    ] = None,
    exclude: Annotated[
        Specs, _opt("FIELD=REGEX", "Drop when the field matches (repeatable).")
    ] = None,
    blacklist: Annotated[
        Specs, _opt("WORDS", "Comma-separated words or phrases; whole words, any case.")
    ] = None,
    blacklist_file: Annotated[
        Path | None, _opt("FILE", "More blacklisted words, one per line; # comments.")
    ] = None,
    blacklist_field: Annotated[
        Specs, _opt("FIELD", "Fields the blacklist searches.  [default: instruction input output]")
    ] = None,
    require: Annotated[
        Specs, _opt("FIELD", "Keep when FIELD is present and not empty (repeatable).")
    ] = None,
    source: Annotated[Specs, _opt("SOURCE", "Keep records from this source (repeatable).")] = None,
    tag: Annotated[Specs, _opt("TAG", "Keep records with any of these tags (repeatable).")] = None,
    top: Annotated[
        str | None,
        _opt(
            "N|N%",
            "Keep the best N records, or the best N percent, by --top-by (after the other "
            "predicates; records without that score rank last).",
        ),
    ] = None,
    top_by: Annotated[
        str | None, _opt("ASPECT", "The score --top ranks by.  [default: the mean score]")
    ] = None,
    best_of: Annotated[
        bool,
        typer.Option(
            "--best-of", help="Best completion by mean score becomes output (rejection sampling)."
        ),
    ] = False,
    best_of_aspect: Annotated[
        str | None, _opt("NAME", "--best-of by this aspect's score (implies --best-of).")
    ] = None,
) -> None:
    config = FilterConfig(
        best_of=best_of,
        best_of_aspect=best_of_aspect,
        require=require or [],
        sources=source or [],
        tags=tag or [],
        min_scores=[parse_score("--min-score", s) for s in min_score or []],
        max_scores=[parse_score("--max-score", s) for s in max_score or []],
        min_mean=min_mean,
        length_field=field,
        words=_bounds("words", min_words, max_words),
        chars=_bounds("chars", min_chars, max_chars),
        match=[parse_regex("--match", s) for s in match or []],
        exclude=[parse_regex("--exclude", s) for s in exclude or []],
        blacklist=_words(blacklist or [], blacklist_file),
        blacklist_fields=tuple(blacklist_field or TEXT_FIELDS),
    )
    ranked = None
    if top is not None:
        try:
            ranked = Top.parse(top, top_by)
        except ValueError as exc:
            raise UsageError(f"--top {exc}") from None
    elif top_by is not None:
        raise UsageError("--top-by goes with --top")
    empty = FilterConfig(length_field=field, blacklist_fields=config.blacklist_fields)
    if config == empty and ranked is None:
        raise UsageError("nothing to filter by: add a predicate, e.g. --min-score quality=4")
    paths = common.input_paths(inputs)
    with Run("filter", run) as out:
        run_filter(out, Filter(config), paths, ranked)


def _bounds(unit: str, low: int | None, high: int | None) -> tuple[int | None, int | None]:
    if low is not None and high is not None and low > high:
        raise UsageError(f"--min-{unit} {low} is above --max-{unit} {high}")
    return low, high


def _words(specs: list[str], path: Path | None) -> list[str]:
    """Blacklisted words from comma lists and a file, lower-cased, blanks dropped."""
    words = [w for spec in specs for w in spec.split(",")]
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the blacklist: {exc.strerror}") from None
        words += [line for line in lines if not line.lstrip().startswith("#")]
    return [w.strip().lower() for w in words if w.strip()]


def parse_score(option: str, spec: str) -> tuple[str, float]:
    """'quality=4' -> ('quality', 4.0); the option is named in the error."""
    name, value = _assignment(option, spec)
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if math.isnan(number):
        raise UsageError(f"{option} {spec!r}: {value!r} is not a number")
    return name, number


def parse_regex(option: str, spec: str) -> tuple[str, re.Pattern[str]]:
    name, value = _assignment(option, spec)
    try:
        return name, re.compile(value)
    except re.error as exc:
        raise UsageError(f"{option} {spec!r}: bad regular expression: {exc}") from None


def _assignment(option: str, spec: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"{option} {spec!r}: expected NAME=VALUE")
    return name.strip(), value
