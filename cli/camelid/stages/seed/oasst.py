"""OpenAssistant-style message trees, reduced to first-turn pairs.

The rows are flat (message_id, parent_id, role, text, rank, lang) and a reply may come before its
prompt, so the whole file is read first. Each root prompter message is paired with its best
assistant reply: the lowest rank, with unranked replies last and file order breaking ties.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from camelid.records import Record, Reject, make_record
from camelid.stages.seed.formats import SEED, BadRow, lineage, optional, require


@dataclass
class Message:
    where: str
    row: dict[str, Any]
    order: int

    @property
    def sort_key(self) -> tuple[int, float, int]:
        rank = self.row.get("rank")
        ranked = isinstance(rank, (int, float)) and not isinstance(rank, bool)
        return (0, rank, self.order) if ranked else (1, 0.0, self.order)


def check_row(row: dict[str, Any]) -> None:
    """Raise BadRow unless the row is a usable tree message."""
    require(row, "message_id")
    role = require(row, "role")
    if role not in ("prompter", "assistant"):
        raise BadRow(f'key "role" should be "prompter" or "assistant", got "{role}"')
    require(row, "text")
    optional(row, "parent_id")


def first_turn_pairs(rows: list[tuple[str, dict[str, Any]]]) -> Iterator[Record | Reject]:
    """rows: ("file:line", checked row). Yields one record per root prompt, in file order."""
    roots: list[Message] = []
    replies: dict[str, list[Message]] = {}
    for order, (where, row) in enumerate(rows):
        if row.get("deleted") is True:  # moderators removed it: not data
            continue
        message = Message(where, row, order)
        if row.get("parent_id") is None:
            if row["role"] == "prompter":
                roots.append(message)
        elif row["role"] == "assistant":
            replies.setdefault(row["parent_id"], []).append(message)
    for root in roots:
        answers = sorted(replies.get(root.row["message_id"], []), key=lambda m: m.sort_key)
        if not answers:
            yield Reject("seed", "prompt has no assistant reply", record=root.row, where=root.where)
            continue
        best = answers[0].row
        yield make_record(
            instruction=root.row["text"],
            output=best["text"],
            source=SEED,
            lineage=lineage("oasst"),
            origin_id=root.row["message_id"],
            reply_id=best["message_id"],
            lang=root.row.get("lang"),
            message_tree_id=root.row.get("message_tree_id"),
        )
