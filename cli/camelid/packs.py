"""Prompt packs: a folder with pack.yaml and Jinja templates, rendered in a sandbox.

A pack is half of a task (distilabel's split): it renders the prompt for a record and parses the
model's reply. Templates run in an immutable sandbox with undefined variables as errors and a
loader confined to the pack's folder, so a user's pack cannot reach files or Python internals.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import jinja2
import orjson
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from camelid.errors import CamelidError, UsageError
from camelid.io import describe_validation
from camelid.records import LineageEntry, Record
from camelid.resources import builtin_dir
from camelid.sampling import Sampling

SEMVER = r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$"


class MessageTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    template: str = Field(description="Template file in the pack folder.")


class ParserSpec(BaseModel):
    """How to read the model's reply."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["text", "json", "numbered_list", "regex", "task_list", "alpaca_batch"] = Field(
        "text",
        description="task_list and alpaca_batch: Self-Instruct's and Alpaca's task-list replies.",
    )
    json_schema: dict[str, Any] | None = Field(
        None, alias="schema", description="JSON Schema of the reply (json): enforced at decoding."
    )
    pattern: str | None = Field(None, description="Regex with named groups (regex).")


class Aspect(BaseModel):
    """One thing a rubric rates, and the shape of its judgement."""

    model_config = ConfigDict(extra="forbid")
    scale: list[float] = Field(min_length=2, description="The allowed ratings, low to high.")
    allow_na: bool = Field(False, description='"N/A" allowed where the aspect does not apply.')
    types: list[str] = Field(default_factory=list, description="Labels the judge may attach.")
    rationale_chars: int = Field(500, ge=20, le=4000, description="Longest rationale.")


class Rubric(BaseModel):
    """What a judging pack rates (used by `camelid score`)."""

    model_config = ConfigDict(extra="forbid")
    aspects: dict[str, Aspect] = Field(min_length=1)
    together: bool = Field(False, description="Rate all answers of a prompt in one request.")
    mode: Literal["rate", "pairwise"] = Field(
        "rate",
        description="rate: each answer on a scale; pairwise: which of two answers is better, "
        "each pair judged in both orders (the aspect's score is a completion's win rate).",
    )


class PackManifest(BaseModel):
    """pack.yaml"""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: str = Field(pattern=SEMVER)
    description: str
    mode: Literal["chat", "completion"] = Field(
        "chat",
        description="chat: messages through the model's chat template; completion: raw text.",
    )
    inputs: list[str] = Field(
        default_factory=list, description="Record fields that must be present and non-empty."
    )
    messages: list[MessageTemplate] = Field(default_factory=list)
    prompt: str | None = Field(None, description="Template file of the raw prompt (completion).")
    examples: str | None = Field(None, description="Few-shot JSONL file, given to templates.")
    sampling: Sampling = Field(default_factory=Sampling)
    parser: ParserSpec = Field(default_factory=ParserSpec)
    rubric: Rubric | None = None


@dataclass
class Parsed:
    value: Any
    error: str | None = None


@dataclass
class Pack:
    manifest: PackManifest
    path: Path
    env: ImmutableSandboxedEnvironment = field(repr=False)

    @property
    def name(self) -> str:
        return self.manifest.name

    @cached_property
    def template_hash(self) -> str:
        """Hash of every file of the pack: changes whenever what the model sees can change."""
        digest = hashlib.sha256()
        for file in sorted(p for p in self.path.rglob("*") if p.is_file()):
            digest.update(file.relative_to(self.path).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
        return digest.hexdigest()[:12]

    @cached_property
    def examples(self) -> list[dict[str, Any]]:
        if not self.manifest.examples:
            return []
        lines = (self.path / self.manifest.examples).read_bytes().splitlines()
        return [orjson.loads(line) for line in lines if line.strip()]

    @property
    def sampling(self) -> Sampling:
        """The pack's sampling defaults, with its reply schema enforced at decoding."""
        return self.manifest.sampling.merged(json_schema=self.manifest.parser.json_schema)

    def missing_inputs(self, record: Record) -> list[str]:
        return [name for name in self.manifest.inputs if not _value(record, name)]

    def render(self, record: Record, **variables: Any) -> list[dict[str, str]] | str:
        """The conversation (chat) or prompt text (completion) the model receives for a record."""
        context = _context(record) | {"examples": self.examples} | variables
        if self.manifest.mode == "completion":
            return self._render_file(self.manifest.prompt or "", context)
        return [
            {"role": m.role, "content": self._render_file(m.template, context)}
            for m in self.manifest.messages
        ]

    def parse(self, text: str) -> Parsed:
        return parse_reply(self.manifest.parser, text)

    def lineage(self, stage: str, model: str | None, sampling: Sampling) -> LineageEntry:
        return LineageEntry(
            stage=stage,
            pack=self.name,
            pack_version=self.manifest.version,
            template_hash=self.template_hash,
            model=model,
            sampling=sampling.model_dump(exclude={"seed", "json_schema"}),
            seed=sampling.seed,
        )

    def _render_file(self, name: str, context: dict[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(context)
        # Not only TemplateError: a pack's own bug ({{ 1/0 }}, range(10**9)) is the pack's error.
        except Exception as exc:  # noqa: BLE001
            raise CamelidError(f"pack {self.name}: template {name}: {exc}") from None


def _context(record: Record) -> dict[str, Any]:
    # Every known field is defined (None when unset) so templates can test `{% if input %}`;
    # unknown keys are there too, and the whole record as `record`.
    data = record.to_dict()
    known = {name: data.get(name) for name in Record.model_fields}
    return data | known | {"record": data}


def _value(record: Record, name: str) -> Any:
    return record.to_dict().get(name)


def builtin_packs_dir() -> Path:
    return builtin_dir("prompts")


def list_builtin() -> list[str]:
    root = builtin_packs_dir()
    return sorted(p.name for p in root.iterdir() if (p / "pack.yaml").is_file())


def is_path(name_or_path: str) -> bool:
    """A pack given as a path (`./plain`, `packs/mine`, `~/p`); a bare name is a built-in one."""
    return "/" in name_or_path or os.sep in name_or_path or name_or_path.startswith((".", "~"))


def load_pack(name_or_path: str) -> Pack:
    """A built-in pack by name, or the user's own pack folder by path. A bare name never means
    a folder of the current directory (a `./plain/` there would silently replace `plain`)."""
    if is_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not (path / "pack.yaml").is_file():
            raise UsageError(f"{name_or_path}: not a pack folder (it holds no pack.yaml)")
    else:
        path = builtin_packs_dir() / name_or_path
        if not (path / "pack.yaml").is_file():
            known = ", ".join(list_builtin())
            here = Path(name_or_path, "pack.yaml").is_file()
            hint = f"; for the folder here, write ./{name_or_path}" if here else ""
            raise UsageError(
                f"no pack named {name_or_path!r}: built-in packs are {known}, "
                f"or give a folder that holds a pack.yaml{hint}"
            )
    manifest_file = path / "pack.yaml"
    try:
        raw = yaml.safe_load(manifest_file.read_text(encoding="utf-8"))
        manifest = PackManifest.model_validate(raw)
    except yaml.YAMLError as exc:
        raise CamelidError(f"{manifest_file}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise CamelidError(f"{manifest_file}: {describe_validation(exc)}") from None
    env = ImmutableSandboxedEnvironment(
        loader=_PackLoader(path),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )
    pack = Pack(manifest=manifest, path=path, env=env)
    _check_files(pack)
    return pack


class _PackLoader(jinja2.FileSystemLoader):
    """Templates from the pack's folder only: a symlink pointing out of it is not followed."""

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        source, filename, uptodate = super().get_source(environment, template)
        root = Path(self.searchpath[0]).resolve()
        if not Path(filename).resolve().is_relative_to(root):
            raise jinja2.TemplateNotFound(f"{template} (it leads out of the pack folder)")
        return source, filename, uptodate


def _check_files(pack: Pack) -> None:
    m = pack.manifest
    if m.mode == "chat" and not m.messages:
        raise CamelidError(f"{pack.path}/pack.yaml: a chat pack needs `messages`")
    if m.mode == "completion" and not m.prompt:
        raise CamelidError(f"{pack.path}/pack.yaml: a completion pack needs `prompt`")
    if m.parser.type == "regex" and not m.parser.pattern:
        raise CamelidError(f"{pack.path}/pack.yaml: a regex parser needs `pattern`")
    files = [t.template for t in m.messages] + [f for f in (m.prompt, m.examples) if f]
    root = pack.path.resolve()
    for name in files:
        if not (pack.path / name).is_file():
            raise CamelidError(f"{pack.path}/pack.yaml: names {name}, which is not in the pack")
        if not (pack.path / name).resolve().is_relative_to(root):
            raise CamelidError(f"{pack.path}/pack.yaml: {name} leads out of the pack folder")


_NUMBERED = re.compile(r"^\s*(\d+)\s*[.):]\s*(.+?)\s*$")


def parse_reply(spec: ParserSpec, text: str) -> Parsed:
    """Read a reply; a failure gives value None and a reason, never a made-up default."""
    if spec.type == "text":
        return Parsed(text.strip())
    if spec.type == "numbered_list":
        items = [m.group(2) for line in text.splitlines() if (m := _NUMBERED.match(line))]
        return Parsed(items) if items else Parsed(None, "no numbered items in the reply")
    if spec.type == "regex":
        match = re.search(spec.pattern or "", text, flags=re.DOTALL)
        if not match:
            return Parsed(None, "reply does not match the pack's pattern")
        return Parsed({k: v.strip() for k, v in match.groupdict().items() if v is not None})
    if spec.type in ("task_list", "alpaca_batch"):
        # The reply continues the prompt's numbered list: the stage that sent the prompt
        # (stages/instructions) reads it, with the list's open last line.
        return Parsed(text)
    try:
        value = orjson.loads(text.strip())
    except orjson.JSONDecodeError as exc:
        return Parsed(None, f"reply is not valid JSON: {str(exc).split(':')[0]}")
    required = (spec.json_schema or {}).get("required", [])
    missing = [key for key in required if not isinstance(value, dict) or key not in value]
    if missing:
        return Parsed(None, f"reply lacks {', '.join(missing)}")
    return Parsed(value)
