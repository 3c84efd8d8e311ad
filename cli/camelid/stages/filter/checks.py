"""Keep or drop records by predicates, all AND-ed; a drop names the first predicate that failed.

Predicates read plain dicts, not Records: the filter is the one stage that must keep up with jq
on millions of lines, and validating each record with pydantic would cost more than parsing it.
Only the fields a predicate touches are type-checked (BadField), when it touches them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from camelid.fields import BadField, getter
from camelid.stages.pairs import best_of, fmt, mean_score
from camelid.text import word_count


class Drop(NamedTuple):
    reason: str
    key: str = ""  # the reason without the record's own values, if it has any: stats count it


Check = Callable[[dict[str, Any]], Drop | None]
TEXT_FIELDS = ("instruction", "input", "output")


@dataclass
class FilterConfig:
    """What to keep; checked in this order, best-of first, blacklist last."""

    best_of: bool = False
    best_of_aspect: str | None = None
    require: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    min_scores: list[tuple[str, float]] = field(default_factory=list)
    max_scores: list[tuple[str, float]] = field(default_factory=list)
    min_mean: float | None = None
    length_field: str = "output"
    words: tuple[int | None, int | None] = (None, None)
    chars: tuple[int | None, int | None] = (None, None)
    match: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    exclude: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    blacklist: list[str] = field(default_factory=list)
    blacklist_fields: tuple[str, ...] = TEXT_FIELDS


def memo(make: Callable[[Any], Drop]) -> Callable[[Any], Drop]:
    """Drops by the offending value, built once: formatting a reason per dropped line cost as
    much as parsing the line."""
    cache: dict[Any, Drop] = {}

    def get(value: Any) -> Drop:
        drop = cache.get(value)
        if drop is None:
            drop = make(value)
            if len(cache) < 4096:  # scores and lengths repeat; stay bounded when they do not
                cache[value] = drop
        return drop

    return get


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def score_check(aspect: str, bound: float, above: bool) -> Check:
    op = ">" if above else "<"
    missing, key = Drop(f"score {aspect} missing"), f"score {aspect} {op} {fmt(bound)}"
    fail = memo(lambda value: Drop(f"score {aspect} {fmt(value)} {op} {fmt(bound)}", key))

    def check(record: dict[str, Any]) -> Drop | None:  # the hot path: no helper calls
        scores = record.get("scores")
        if type(scores) is not dict:
            if scores is None:
                return missing
            raise BadField("scores", "an object", scores)
        value = scores.get(aspect)
        if value is None:
            return missing
        if type(value) not in (int, float):
            raise BadField(f"scores.{aspect}", "a number", value)
        if (value > bound) if above else (value < bound):
            return fail(value)
        return None

    return check


def mean_check(bound: float) -> Check:
    missing, key = Drop("scores missing"), f"mean score < {fmt(bound)}"
    fail = memo(lambda value: Drop(f"mean score {fmt(value)} < {fmt(bound)}", key))

    def check(record: dict[str, Any]) -> Drop | None:
        value = mean_score(record.get("scores"), None)
        if value is None:
            return missing
        return fail(value) if value < bound else None

    return check


def length_check(path: str, unit: str, low: int | None, high: int | None) -> Check:
    get = getter(path)
    measure: Callable[[str], int] = word_count if unit == "words" else len
    short = memo(lambda n: Drop(f"{path} {n} {unit} < {low}", f"{path} {unit} < {low}"))
    long = memo(lambda n: Drop(f"{path} {n} {unit} > {high}", f"{path} {unit} > {high}"))

    def check(record: dict[str, Any]) -> Drop | None:
        text = get(record)
        if text is None:
            return Drop(f"{path} missing")
        if type(text) is not str:
            raise BadField(path, "a string", text)
        n = measure(text)
        if low is not None and n < low:
            return short(n)
        if high is not None and n > high:
            return long(n)
        return None

    return check


def regex_check(path: str, pattern: re.Pattern[str], keep_if_found: bool) -> Check:
    get = getter(path)
    drop = Drop(f"{path} {'does not match' if keep_if_found else 'matches'} {pattern.pattern!r}")

    def check(record: dict[str, Any]) -> Drop | None:
        value = get(record)
        found = value is not None and pattern.search(_text(value)) is not None
        return None if found == keep_if_found else drop

    return check


def blacklist_check(words: Iterable[str], paths: Iterable[str]) -> Check:
    # One alternation, longest first; lookarounds instead of \b so "c++" is a whole word too.
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    getters = [(path, getter(path)) for path in paths]

    def check(record: dict[str, Any]) -> Drop | None:
        for path, get in getters:
            value = get(record)
            found = pattern.search(_text(value)) if value is not None else None
            if found:
                return Drop(f"blacklisted word {found.group(0).lower()!r} in {path}")
        return None

    return check


def require_check(path: str) -> Check:
    get = getter(path)
    missing, empty = Drop(f"{path} missing"), Drop(f"{path} empty")

    def check(record: dict[str, Any]) -> Drop | None:
        value = get(record)
        if value is None:
            return missing
        is_empty = not value.strip() if isinstance(value, str) else value in ([], {})
        return empty if is_empty else None

    return check


def source_check(sources: Iterable[str]) -> Check:
    wanted = set(sources)

    def check(record: dict[str, Any]) -> Drop | None:
        source = record.get("source")
        if source in wanted:
            return None
        reason = "source missing" if source is None else f"source {_text(source)!r} not selected"
        return Drop(reason, "source not selected")

    return check


def tag_check(tags: Iterable[str]) -> Check:
    wanted = list(dict.fromkeys(tags))
    drop = Drop("not tagged " + " or ".join(wanted))

    def check(record: dict[str, Any]) -> Drop | None:
        have = record.get("tags") or []
        if not isinstance(have, list):
            raise BadField("tags", "an array", have)
        return None if any(tag in have for tag in wanted) else drop

    return check


class Filter:
    """The checks of a config, in order; `apply` returns the first Drop, or None to keep."""

    def __init__(self, config: FilterConfig):
        c = config
        self.transforms = c.best_of or c.best_of_aspect is not None  # records change: re-encode
        checks: list[Check] = [self._best_of] if self.transforms else []
        self._aspect = c.best_of_aspect
        checks += [require_check(path) for path in c.require]
        checks += [source_check(c.sources)] if c.sources else []
        checks += [tag_check(c.tags)] if c.tags else []
        checks += [score_check(a, bound, above=False) for a, bound in c.min_scores]
        checks += [score_check(a, bound, above=True) for a, bound in c.max_scores]
        checks += [mean_check(c.min_mean)] if c.min_mean is not None else []
        for unit, (low, high) in (("words", c.words), ("chars", c.chars)):
            if low is not None or high is not None:
                checks.append(length_check(c.length_field, unit, low, high))
        checks += [regex_check(path, pattern, True) for path, pattern in c.match]
        checks += [regex_check(path, pattern, False) for path, pattern in c.exclude]
        checks += [blacklist_check(c.blacklist, c.blacklist_fields)] if c.blacklist else []
        self.checks = checks
        if len(checks) == 1:  # the common case, one call less per record
            self.apply = checks[0]  # type: ignore[method-assign]

    def _best_of(self, record: dict[str, Any]) -> Drop | None:
        reason = best_of(record, self._aspect)  # changes the record in place
        return None if reason is None else Drop(reason)

    def apply(self, record: dict[str, Any]) -> Drop | None:
        for check in self.checks:
            drop = check(record)
            if drop is not None:
                return drop
        return None

    def batch(self, records: Iterable[dict[str, Any]]) -> list[Drop | None]:
        """`apply` over one batch, in order (e.g. a Ray Data map_batches)."""
        apply = self.apply
        return [apply(record) for record in records]
