"""A pack's own system messages, one drawn per record (Orca's explanation traces).

A pack folder may hold `system_messages.yaml`: a list of {name, suits, text}. Each record is
answered under one message drawn among those that suit its kind of task (Orca chose system
messages by task collection: some only for multiple choice, some for CoT or NIv2 tasks). The
draw is fixed by the run's seed, the record and the completion's slot, as principle prompts are,
so it does not depend on batching or on which model writes the completion.
"""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from camelid.engines.base import record_seed
from camelid.errors import CamelidError
from camelid.io import describe_validation
from camelid.packs import Pack
from camelid.records import Record

FILE = "system_messages.yaml"

Kind = Literal["any", "multiple_choice", "reasoning", "translation", "with_input"]

# Two or more options on their own lines: "A) ...", "(b) ...", "C. ...", "1) ..." (not "1. ",
# which is any numbered list), or an explicit "Options:" / "Choices:" / "Answer choices" label.
OPTION_LINE = re.compile(r"^\s*(?:\(?[A-Ha-h][).:]|\([1-9]\)|[1-9]\))\s+\S", re.MULTILINE)
OPTIONS_LABEL = re.compile(r"\b(?:options|choices|answer choices)\s*:|\bchoose from\b", re.I)
ARITHMETIC = re.compile(r"\d\s*[-+*/×÷=^%]\s*\d")
REASONING_WORDS = re.compile(
    r"\b(?:calculat(?:e|ion|ing)|compute|solve|how many|how much|prove|equation|convert|"
    r"percent(?:age)?|probability|average|sum of|logic(?:al)?|puzzle|deduce|step[- ]by[- ]step)\b",
    re.I,
)
TRANSLATION = re.compile(r"\btranslat(?:e|ion|ing)\b", re.I)


class SystemMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    suits: list[Kind] = Field(min_length=1)
    text: str = Field(min_length=1)


MENU = TypeAdapter(list[SystemMessage])


def load(pack: Pack) -> list[SystemMessage]:
    """The pack's system messages (none when it has no system_messages.yaml)."""
    return _load(pack.path / FILE)


@cache
def _load(path: Path) -> list[SystemMessage]:
    if not path.is_file():
        return []
    try:
        menu = MENU.validate_python(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise CamelidError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise CamelidError(f"{path}: {describe_validation(exc)}") from None
    names = [m.name for m in menu]
    if not menu or len(set(names)) != len(names):
        raise CamelidError(f"{path}: needs at least one message, each with its own name")
    if not any("any" in m.suits for m in menu):
        raise CamelidError(f"{path}: needs a message that suits `any` task")
    return menu


def kinds(record: Record) -> set[str]:
    """The kinds of task a record is, from its instruction and input."""
    text = f"{record.instruction or ''}\n{record.input or ''}"
    found = {"any"}
    if len(OPTION_LINE.findall(text)) >= 2 or OPTIONS_LABEL.search(text):
        found.add("multiple_choice")
    if ARITHMETIC.search(text) or REASONING_WORDS.search(text):
        found.add("reasoning")
    if TRANSLATION.search(record.instruction or ""):
        found.add("translation")
    if (record.input or "").strip():
        found.add("with_input")
    return found


def suitable(menu: list[SystemMessage], record: Record) -> list[SystemMessage]:
    """The messages that suit the record: every `any` one, and those for its other kinds."""
    mine = kinds(record)
    return [m for m in menu if mine.intersection(m.suits)]


def choose(menu: list[SystemMessage], seed: int, record: Record, slot: int) -> SystemMessage:
    """The message for completion number `slot` of a record, uniformly among those that suit."""
    rng = random.Random(record_seed(seed, f"{record.id}:system:{slot}"))
    return rng.choice(suitable(menu, record))
