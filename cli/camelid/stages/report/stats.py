"""The numbers of `camelid report`: records (and reject lines) in, one plain dict out.

No plotting and no parsing here: report_verbs adds the verb-noun picture, report_charts draws,
report_page lays out. Every section is None when its data is absent, so the page can say so.
"""

from __future__ import annotations

import statistics as st
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from camelid.errors import BadInputError
from camelid.io import iter_lines, parse_object
from camelid.records import Record, reason_group
from camelid.text import word_count

NONE = "(none)"
NA = "n/a"
REDTEAM, OTHER = "red-team", "other"
# Word counts are skewed (instructions short, answers long): bins that widen as they go.
LENGTH_EDGES = (0, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000)
NOVELTY_BINS = 20  # of width 0.05 over ROUGE-L 0..1, as the Self-Instruct figure
SCORE_BINS = 10  # for scores that are not small integers


def statistics(records: Sequence[Record], rejects: Sequence[dict[str, Any]] | None) -> dict:
    """Every section of the report but the verbs (see report_verbs)."""
    return {
        "records": len(records),
        "counts": counts(records),
        "lengths": lengths(records),
        "novelty": novelty(records),
        "scores": scores(records),
        "rejects": None if rejects is None else reject_shares(len(records), rejects),
        "principles": principles(records),
    }


def instructions(records: Iterable[Record]) -> list[str]:
    return [r.instruction for r in records if r.instruction and r.instruction.strip()]


def _extra(item: Any, key: str) -> Any:
    return (item.__pydantic_extra__ or {}).get(key)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ranked(counter: Counter) -> list[list[Any]]:
    """[[key, count], ...], most common first, ties by key: the same input, the same table."""
    return [[k, n] for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def counts(records: Iterable[Record]) -> dict[str, list[list[Any]]]:
    """Records per source, command (the last stage), stage, pack version, model, question type.

    A record counts once per value: a record scored twice by one judge is one record for it."""
    tables: dict[str, Counter] = {k: Counter() for k in ("source", "command", "stage", "pack")}
    tables |= {"model": Counter(), "question_type": Counter()}
    for r in records:
        lineage = r.lineage or []
        tables["source"][r.source or NONE] += 1
        tables["command"][lineage[-1].stage if lineage else NONE] += 1
        tables["stage"].update({e.stage for e in lineage})
        packs = {f"{e.pack} {e.pack_version or '?'} ({e.stage})" for e in lineage if e.pack}
        tables["pack"].update(packs)
        models = {f"{e.model} ({e.stage})" for e in lineage if e.model}
        pools = [(e, _extra(e, "models")) for e in lineage]  # respond with a model pool
        models |= {f"{m} ({e.stage})" for e, pool in pools if isinstance(pool, list) for m in pool}
        tables["model"].update(models)
        if (qtype := _extra(r, "question_type")) is not None:
            tables["question_type"][str(qtype)] += 1
    return {k: _ranked(c) for k, c in tables.items() if c}


def _answers(r: Record) -> list[str]:
    """The answers of a record: its output and every completion's text."""
    return [t for t in [r.output, *(c.text for c in r.completions or [])] if t is not None]


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {"n": len(values), "mean": round(st.fmean(values), 4), "median": st.median(values),
            "min": min(values), "max": max(values)}  # fmt: skip


def length_bins(words: Iterable[int]) -> list[list[Any]]:
    edges = LENGTH_EDGES
    labels = [f"{a}-{b - 1}" for a, b in zip(edges, edges[1:], strict=False)] + [f"{edges[-1]}+"]
    bins = [0] * len(labels)
    for n in words:
        bins[sum(n >= e for e in edges[1:])] += 1
    return [[label, count] for label, count in zip(labels, bins, strict=True)]


def lengths(records: Sequence[Record]) -> dict[str, Any] | None:
    """Words (split on whitespace) per instruction (with its input) and per answer."""
    texts = {
        "instruction": [" ".join(filter(None, (r.instruction, r.input))) for r in records],
        "answer": [t for r in records for t in _answers(r)],
    }
    out = {}
    for kind, found in texts.items():
        words = [word_count(t) for t in found if t.strip()]
        if words:
            out[kind] = summary(words) | {"bins": length_bins(words)}
    return out or None


def novelty(records: Iterable[Record]) -> dict[str, Any] | None:
    """ROUGE-L of each self-instruct record to its most similar pool instruction."""
    best, averages = [], []
    for r in records:
        similar = _extra(r, "most_similar_instructions")
        if similar is not None and not (
            isinstance(similar, dict) and all(map(_number, similar.values()))
        ):
            problem = 'field "most_similar_instructions": expected an object of ROUGE-L scores'
            raise BadInputError(r._where or "a record", None, problem)  # fmt: skip
        if similar:
            best.append(float(max(similar.values())))
        if _number(avg := _extra(r, "avg_similarity_score")):
            averages.append(float(avg))
    if not best:
        return None
    bins = [0] * NOVELTY_BINS
    for v in best:
        # round: 0.45 * 20 must land in the 0.45 bin, not in 0.40 by a float's last digit
        bins[min(int(round(v * NOVELTY_BINS, 9)), NOVELTY_BINS - 1)] += 1
    width = 1 / NOVELTY_BINS
    labels = [f"{i * width:.2f}" for i in range(NOVELTY_BINS)]
    out = summary(best) | {"bins": [list(b) for b in zip(labels, bins, strict=True)]}
    return out | {"avg_similarity_mean": round(st.fmean(averages), 4) if averages else None}


def score_bins(values: Sequence[float]) -> list[list[Any]]:
    """One bar per value for small integer scales (1-5, 1-10), else SCORE_BINS even bins."""
    if all(v.is_integer() for v in values) and len(set(values)) <= 21:
        low, high = int(min(values)), int(max(values))
        found = Counter(int(v) for v in values)
        if high - low <= 20:
            return [[str(v), found[v]] for v in range(low, high + 1)]
    low, high = min(values), max(values)
    width = (high - low) / SCORE_BINS or 1.0
    bins = [0] * SCORE_BINS
    for v in values:
        bins[min(int((v - low) / width), SCORE_BINS - 1)] += 1
    return [[f"{low + i * width:.3g}", n] for i, n in enumerate(bins)]


def scores(records: Iterable[Record]) -> dict[str, Any] | None:
    """Per rubric aspect, over record scores and completion scores; null counted as n/a."""
    found: dict[str, list[float | None]] = {}
    where: dict[str, Counter] = {}
    for r in records:
        targets = [("records", r.scores)] + [("completions", c.scores) for c in r.completions or []]
        for kind, table in targets:
            for aspect, value in (table or {}).items():
                found.setdefault(aspect, []).append(value)
                where.setdefault(aspect, Counter())[kind] += 1
    out = {}
    for aspect in sorted(found):
        numbers = [float(v) for v in found[aspect] if v is not None]
        missing = len(found[aspect]) - len(numbers)
        stats = summary(numbers) | {"bins": score_bins(numbers)} if numbers else {"n": 0}
        out[aspect] = stats | {NA: missing, "from": dict(where[aspect])}
    return out or None


def read_rejects(paths: list[str]) -> list[dict[str, Any]]:
    """The stage and reason of each line of --rejects files; anything else is bad input."""
    out = []
    for name, number, line in iter_lines(paths):
        row = parse_object(name, number, line)
        stage, reason = row.get("stage"), row.get("reason")
        if not isinstance(stage, str) or not isinstance(reason, str):
            raise BadInputError(name, number, 'not a reject line: needs "stage" and "reason"')
        out.append({"stage": stage, "reason": reason})
    return out


def reject_shares(kept: int, rejects: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Kept (the records given) against the rejects, by stage and by (stage, reason group)."""
    by_stage: Counter = Counter()
    by_reason: Counter = Counter()
    for line in rejects:
        by_stage[line["stage"]] += 1
        by_reason[(line["stage"], reason_group(line["reason"]))] += 1
    total = kept + sum(by_stage.values())
    reasons = [[stage, reason, n] for (stage, reason), n in _ranked(by_reason)]
    return {"kept": kept, "rejected": total - kept, "total": total,
            "by_stage": _ranked(by_stage), "by_reason": reasons}  # fmt: skip


def principles(records: Iterable[Record]) -> dict[str, Any] | None:
    """How often each principle was invoked per answer, red-team records against the others.

    An answer is a record with `principles` or a completion with them (respond --n K)."""
    from camelid.stages.respond.self_align import PRINCIPLES  # the canonical order of the figure

    groups = {REDTEAM: Counter(), OTHER: Counter()}
    answers = Counter()
    for r in records:
        group = REDTEAM if r.source == "redteam" else OTHER
        for item in [r, *(r.completions or [])]:
            names = _extra(item, "principles")
            if isinstance(names, list):
                answers[group] += 1
                groups[group].update({str(n) for n in names})
    if not answers:
        return None
    seen = set().union(*groups.values())
    names = [p for p in PRINCIPLES if p in seen] + sorted(seen - set(PRINCIPLES))
    out: dict[str, Any] = {"names": names, "groups": {}}
    for group, counter in groups.items():
        n = answers[group]
        shares = [round(counter[p] / n, 4) if n else 0.0 for p in names]
        out["groups"][group] = {"answers": n, "counts": [counter[p] for p in names],
                                "shares": shares}  # fmt: skip
    return out
