"""What dedup reads from a record (a plain dict, as filter reads them): the text it compares,
the record's id, and how much the record is worth keeping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import ValidationError

from camelid.fields import BadField, getter
from camelid.io import describe_validation
from camelid.records import Record
from camelid.stages.pairs import mean_score

__all__ = ["BadField", "KEEP", "field_text", "priority", "record_id"]

DEFAULT_FIELDS = ("instruction", "input")
Keep = Literal["first", "best-score", "longest"]
KEEP: tuple[str, ...] = ("first", "best-score", "longest")
_getters: dict[str, Any] = {}


def field_text(record: dict[str, Any], fields: Sequence[str]) -> str:
    """The fields' texts joined by newlines; absent or null fields are skipped. A field may be a
    dotted path, or a list of chat messages (their contents are used)."""
    parts = []
    for path in fields:
        get = _getters.get(path) or _getters.setdefault(path, getter(path))
        value = get(record)
        if value is None or value == "":
            continue
        if type(value) is str:
            parts.append(value)
        elif isinstance(value, list) and all(isinstance(m, dict) for m in value):
            for k, message in enumerate(value):
                content = message.get("content")
                if content is not None and type(content) is not str:
                    raise BadField(f"{path}.{k}.content", "a string", content)
                parts.append(content or "")
        else:
            raise BadField(path, "a string", value)
    return "\n".join(parts)


def priority(record: dict[str, Any], text: str, keep: Keep, aspects: Sequence[str] | None) -> float:
    """Higher is kept first: 0 for every record with --keep first (so the first one wins); the
    characters of the compared text and the output for `longest`; the mean of `scores` (of
    `aspects` when given) for `best-score`, -inf when a record has none."""
    if keep == "longest":
        output = record.get("output")
        return float(len(text) + (len(output) if type(output) is str else 0))
    if keep == "best-score":
        value = mean_score(record.get("scores"), aspects)
        return float("-inf") if value is None else float(value)
    return 0.0


def record_id(record: dict[str, Any]) -> str:
    """The record's id, or the content hash every command gives a record without one."""
    ident = record.get("id")
    if type(ident) is str and ident:
        return ident
    try:
        return Record.model_validate(record).id
    except ValidationError as exc:
        raise ValueError(describe_validation(exc)) from None
