"""Reading fields of records kept as plain dicts (the fast paths of filter, dedup, pairs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def json_type(value: Any) -> str:
    """How JSON names a value's type, for messages: "an object", "a string", "null"."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), "a number")


class BadField(ValueError):
    """A field of the wrong type, found without validating the whole record: `field "x": ...`."""

    def __init__(self, path: str, expected: str, value: Any):
        super().__init__(f'field "{path}": expected {expected}, got {json_type(value)}')


def getter(path: str) -> Callable[[dict[str, Any]], Any]:
    """A reader for a dotted path (scores.quality, completions.0.text); None when absent."""
    parts = path.split(".")

    def get(record: dict[str, Any]) -> Any:
        value: Any = record
        for part in parts:
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
        return value

    return get


def extra_text(record: Any, name: str) -> str:
    """A record's unknown (pass-through) field as stripped text; "" when absent or not text."""
    value = (getattr(record, "model_extra", None) or {}).get(name)
    return value.strip() if isinstance(value, str) else ""
