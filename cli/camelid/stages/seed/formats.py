"""Turn one row of a known seed format into a camelid Record.

Each converter takes the parsed JSON object and raises BadRow (a message without file or line;
the reader adds those) when a required key is missing or has the wrong type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from camelid.records import LineageEntry, Record, make_record

# Self-Instruct / Alpaca seeds and chats are "seed"; red-team questions keep their own source so
# that later stages (and jq) can tell human-written red-team prompts from ordinary tasks.
SEED, REDTEAM_SEED = "seed", "redteam-seed"

# ShareGPT speaker names seen in the wild, mapped to chat roles; others pass through unchanged.
SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "assistant": "assistant",
    "system": "system",
}


class BadRow(ValueError):
    """A row of a recognized format that cannot become a record."""


def lineage(fmt: str) -> list[LineageEntry]:
    return [LineageEntry(stage="seed", format=fmt)]


def require(row: dict[str, Any], key: str, kind: type = str, where: str = "") -> Any:
    """row[key], checked for presence and type: the error says exactly what is wrong."""
    label = f"{where}{key}"
    if key not in row or row[key] is None:
        raise BadRow(f'missing key "{label}"')
    value = row[key]
    if not isinstance(value, kind):
        raise BadRow(f'key "{label}" should be {_kind_name(kind)}, got {_kind_name(type(value))}')
    return value


def optional(row: dict[str, Any], key: str, where: str = "") -> str | None:
    return None if row.get(key) is None else require(row, key, str, where)


def _kind_name(kind: type) -> str:
    names = {str: "a string", list: "a list", dict: "an object", bool: "a boolean"}
    return names.get(kind, "a number" if kind in (int, float) else kind.__name__)


def _extras(row: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """Keys worth keeping: the original id as origin_id, and unknown keys that clash with nothing."""
    extras = {k: v for k, v in row.items() if k not in used and k not in Record.model_fields}
    if row.get("id") is not None:
        extras["origin_id"] = row["id"]
    return extras


def from_self_instruct(row: dict[str, Any], fmt: str = "self-instruct") -> Record:
    instruction = require(row, "instruction")
    instances = require(row, "instances", list)
    if not instances:
        raise BadRow('key "instances" is empty: a seed task needs at least one instance')
    for i, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise BadRow(f'key "instances[{i}]" should be an object')
        require(instance, "output", str, f"instances[{i}].")
        optional(instance, "input", f"instances[{i}].")
    first = instances[0]
    extras = _extras(row, {"instruction", "instances", "is_classification", "name"})
    return make_record(
        instruction=instruction,
        input=first.get("input") or "",
        output=first["output"],
        source=SEED,
        lineage=lineage(fmt),
        origin_id=extras.pop("origin_id", None),
        name=row.get("name"),
        instances=instances,
        is_classification=bool(row.get("is_classification", False)),
        **extras,
    )


def from_alpaca(row: dict[str, Any]) -> Record:
    return make_record(
        instruction=require(row, "instruction"),
        input=optional(row, "input"),
        output=require(row, "output"),
        system=optional(row, "system"),
        source=SEED,
        lineage=lineage("alpaca"),
        **_extras(row, {"instruction", "input", "output", "system"}),
    )


def from_redteam(row: dict[str, Any]) -> Record:
    return make_record(
        instruction=require(row, "question"),
        source=REDTEAM_SEED,
        lineage=lineage("redteam"),
        topic=optional(row, "topic"),
        question_type=optional(row, "question_type"),
        **_extras(row, {"question", "topic", "question_type"}),
    )


def from_sharegpt(row: dict[str, Any]) -> Record:
    turns = require(row, "conversations", list)
    messages = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise BadRow(f'key "conversations[{i}]" should be an object')
        speaker = require(turn, "from", str, f"conversations[{i}].")
        text = require(turn, "value", str, f"conversations[{i}].")
        messages.append({"role": SHAREGPT_ROLES.get(speaker.lower(), speaker), "content": text})
    return _chat_record(messages, "conversations", "sharegpt", row)


def from_messages(row: dict[str, Any]) -> Record:
    turns = require(row, "messages", list)
    messages = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise BadRow(f'key "messages[{i}]" should be an object')
        role = require(turn, "role", str, f"messages[{i}].")
        messages.append({"role": role, "content": require(turn, "content", str, f"messages[{i}].")})
    return _chat_record(messages, "messages", "messages", row)


def _chat_record(messages: list[dict[str, str]], key: str, fmt: str, row: dict) -> Record:
    """A chat keeps all its turns; instruction/output come from the first user->assistant pair."""
    if not messages:
        raise BadRow(f'key "{key}" is empty')
    system = messages[0]["content"] if messages[0]["role"] == "system" else None
    instruction = output = None
    for i, message in enumerate(messages):
        if message["role"] == "user":
            instruction = message["content"]
            following = messages[i + 1] if i + 1 < len(messages) else None
            if following is not None and following["role"] == "assistant":
                output = following["content"]
            break
    return make_record(
        instruction=instruction,
        output=output,
        system=optional(row, "system") or system,
        messages=messages,
        source=SEED,
        lineage=lineage(fmt),
        **_extras(row, {key, "system"}),
    )


ROW_READERS: dict[str, Callable[[dict[str, Any]], Record]] = {
    "self-instruct": from_self_instruct,
    "alpaca": from_alpaca,
    "sharegpt": from_sharegpt,
    "messages": from_messages,
    "redteam": from_redteam,
}
