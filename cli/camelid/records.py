"""The one record type every command reads and writes.

Field names follow Alpaca / Self-Instruct so that jq and existing trainers understand them.
Unknown keys pass through untouched, in the order they came.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

# Fields that make up what a record *is*; its id is a hash of them.
CONTENT_FIELDS = ("system", "instruction", "input", "output", "messages", "chosen", "rejected")


class Message(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str


class Completion(BaseModel):
    """One candidate answer to a record's prompt, with who wrote it and how it was judged."""

    model_config = ConfigDict(extra="allow")
    text: str
    model: str | None = None
    finish_reason: str | None = None
    scores: dict[str, float | None] | None = None
    rationales: dict[str, str] | None = None


class LineageEntry(BaseModel):
    """What one stage did to a record: enough to reproduce it."""

    model_config = ConfigDict(extra="allow")
    stage: str
    pack: str | None = None
    pack_version: str | None = None
    template_hash: str | None = None
    model: str | None = None
    sampling: dict[str, Any] | None = None
    seed: int | None = None


class Record(BaseModel):
    """A unit of alignment data: a prompt, its answer(s), judgements and history."""

    model_config = ConfigDict(extra="allow", validate_assignment=False)

    id: str = Field("", description="Stable content hash, filled in when missing.")
    instruction: str | None = Field(None, description="The task, as Alpaca names it.")
    input: str | None = Field(None, description="Optional context for the instruction.")
    output: str | None = Field(None, description="The answer.")
    system: str | None = Field(None, description="System prompt for this record.")
    messages: list[Message] | None = Field(None, description="A multi-turn conversation.")
    completions: list[Completion] | None = Field(None, description="Candidate answers.")
    chosen: str | list[Message] | None = Field(None, description="Preferred answer (pairs).")
    rejected: str | list[Message] | None = Field(None, description="Dispreferred answer.")
    scores: dict[str, float | None] | None = Field(None, description="Score per rubric aspect.")
    rationales: dict[str, str] | None = Field(None, description="Reasoning per aspect.")
    tags: list[str] | None = None
    source: str | None = Field(None, description="seed, generated, augmented, redteam, ...")
    lineage: list[LineageEntry] | None = Field(None, description="One entry per stage.")
    # "file:line" the record was read from, for error messages; never written out.
    _where: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _fill_id(self) -> Record:
        if not self.id:
            self.id = self.content_id()
        return self

    def content_id(self) -> str:
        """A stable hash of the record's content fields (key order and unset fields ignored)."""
        return content_hash(self.model_dump(include=set(CONTENT_FIELDS), exclude_none=True))

    def to_dict(self) -> dict[str, Any]:
        """Known fields in canonical order (unset ones left out), then unknown keys as they came."""
        return _plain(self)

    def with_lineage(self, entry: LineageEntry) -> Record:
        """A copy with one more lineage entry appended."""
        return self.model_copy(update={"lineage": [*(self.lineage or []), entry]})


@dataclass
class Reject:
    """A record (or raw line) that a stage refused, and why; written to --rejects."""

    stage: str
    reason: str
    record: Record | dict[str, Any] | None = None
    where: str | None = None  # "file:line" of the input record, when known
    line: str | None = None  # a line that could not be read as a record

    def to_dict(self) -> dict[str, Any]:
        record = self.record.to_dict() if isinstance(self.record, Record) else self.record
        out = {"stage": self.stage, "reason": self.reason, "where": self.where}
        out |= {"record": record} if record is not None else {"line": self.line}
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def of(cls, stage: str, reason: str, record: Record) -> Reject:
        """The usual reject: a record read from input, refused by a stage."""
        return cls(stage, reason, record=record, where=record._where or None)


Outcome = Record | Reject  # what a stage makes of a record

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?")


def reason_group(reason: str) -> str:
    """A reject reason without its specifics, so that alike reasons count together: quoted text
    becomes '…' and numbers 'N', e.g. "too similar to a pool instruction (ROUGE-L 0.812 > 0.7):
    'Write a poem.'" -> "too similar to a pool instruction (ROUGE-L N > N): …"."""
    return " ".join(_NUMBER.sub("N", _QUOTED.sub("…", reason)).split())


ModelT = TypeVar("ModelT", bound=BaseModel)


def _plain(value: Any) -> Any:
    """JSON-ready data: a model's set fields (None and empty ones left out), then its unknown
    keys untouched (nulls too), at every depth."""
    if isinstance(value, BaseModel):
        known = {name: _plain(getattr(value, name)) for name in type(value).model_fields}
        known = {k: v for k, v in known.items() if v is not None and v != [] and v != {}}
        return known | (value.__pydantic_extra__ or {})
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def with_extras(model: ModelT, **values: Any) -> ModelT:
    """A copy with these unknown keys set, or removed where the value is None."""
    copy = model.model_copy()
    extra = dict(copy.__pydantic_extra__ or {})
    for key, value in values.items():
        if value is None:
            extra.pop(key, None)
        else:
            extra[key] = value
    copy.__pydantic_extra__ = extra
    return copy


def content_hash(content: dict[str, Any]) -> str:
    """16 hex digits of the SHA-256 of canonical JSON: stable across runs, machines and key order."""
    blob = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:16]


def make_record(**fields: Any) -> Record:
    """Build a record from keyword fields, leaving out the ones that are None."""
    return Record.model_validate({k: v for k, v in fields.items() if v is not None})
