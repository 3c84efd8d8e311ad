"""A JSON file holding one array (Alpaca's alpaca_data.json), read element by element so that
every element keeps the line number it starts on, as JSON Lines rows do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from camelid.errors import BadInputError


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _text(name: str, lines: Iterable[tuple[str, int, bytes]]) -> str:
    """The document again from io.iter_lines' non-blank lines, blank lines put back in place."""
    parts: list[str] = []
    at = 1
    for _, number, line in lines:
        try:
            parts.append("\n" * (number - at) + line.decode("utf-8"))
        except UnicodeDecodeError:
            raise BadInputError(name, number, "invalid UTF-8") from None
        at = number
    return "".join(parts)


class _Lines:
    """Line numbers of positions met in increasing order, counted once (arrays can be large)."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def array_items(name: str, lines: Iterable[tuple[str, int, bytes]]) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each element of the array. Bad JSON stops here, skipping or not:
    past a syntax error inside an array there is no telling where the next element starts."""
    text = _text(name, lines)
    where = _Lines(text)
    decoder = json.JSONDecoder(parse_constant=_refuse_constant)
    pos = _skip(text, 0) + 1  # past the "["
    state = "first"  # "first" element or "]", an "item" after a comma, or "next" (, or ])
    while True:
        pos = _skip(text, pos)
        if pos >= len(text):
            raise BadInputError(name, where.at(pos), "invalid JSON: the array is not closed")
        if text[pos] == "]":
            if state == "item":
                raise BadInputError(name, where.at(pos), "invalid JSON: a comma before ]")
            break
        if state == "next":
            if text[pos] != ",":
                raise BadInputError(name, where.at(pos), "invalid JSON: expected ',' or ']'")
            pos, state = pos + 1, "item"
            continue
        line = where.at(pos)
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise BadInputError(name, exc.lineno, f"invalid JSON: {exc.msg}") from None
        except ValueError as exc:
            raise BadInputError(name, line, f"invalid JSON: {exc}") from None
        yield line, value
        state = "next"
    end = _skip(text, pos + 1)
    if end < len(text):
        raise BadInputError(name, where.at(end), "invalid JSON: extra data after the array")


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
