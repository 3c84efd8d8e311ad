"""The two answers each evaluation prompt is judged on: read from two answer files, or written
in the run by two models (one loaded at a time, as respond's pool does)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from camelid.engines import Engine
from camelid.io import read_records
from camelid.packs import Pack
from camelid.records import Completion, Record, Reject
from camelid.sampling import Sampling
from camelid.stages.respond.stage import Responder, answer_with_pool

SIDES = ("A", "B")


@dataclass(frozen=True)
class Pair:
    a: Completion
    b: Completion


Pairs = dict[str, "Pair | str"]  # prompt id -> its two answers, or why it has none


@dataclass
class AnswerFile:
    """One side's answers, found by the prompt's id or else by its instruction and input."""

    flag: str  # how the user named it: --answers-a
    path: str
    name: str  # recorded as the answers' model
    by_id: dict[str, Record]
    by_text: dict[tuple[str, str], Record]

    @classmethod
    def read(cls, flag: str, path: str) -> AnswerFile:
        by_id: dict[str, Record] = {}
        by_text: dict[tuple[str, str], Record] = {}
        for record in read_records([path]):  # a bad line stops the run, naming file and line
            by_id.setdefault(record.id, record)
            by_text.setdefault(text_key(record), record)
        return cls(flag, path, path, by_id, by_text)

    def answer(self, prompt: Record) -> Completion | str:
        found = self.by_id.get(prompt.id) or self.by_text.get(text_key(prompt))
        if found is None:
            return (
                f"no answer in {self.flag} {self.path} (matched by id, then instruction and input)"
            )
        text = found.output or (found.completions[0].text if found.completions else None)
        if not text or not text.strip():
            return f"the answer in {self.flag} {self.path} is empty (no output)"
        # the model that wrote it, when `respond` did (a later stage's model would be a judge's)
        wrote = [e.model for e in found.lineage or [] if e.stage == "respond" and e.model]
        return Completion(text=text, model=wrote[-1] if wrote else self.name)


def text_key(record: Record) -> tuple[str, str]:
    return ((record.instruction or "").strip(), (record.input or "").strip())


def pair_from_files(prompts: list[Record], a: AnswerFile, b: AnswerFile) -> Pairs:
    out: Pairs = {}
    for prompt in prompts:
        found = [a.answer(prompt), b.answer(prompt)]
        missing = [x for x in found if isinstance(x, str)]
        out[prompt.id] = "; ".join(missing) if missing else Pair(*found)  # type: ignore[arg-type]
    return out


def pair_from_models(
    prompts: list[Record],
    pack: Pack,
    sampling: Sampling,
    names: list[str],
    open_model: Callable[[int], AbstractContextManager[Engine]],
    batch_size: int,
) -> Pairs:
    """Both models answer every prompt with the same pack and sampling (each request seeded by
    the prompt and the model's name); answers cut off at --max-tokens are kept, as written."""
    responder = Responder(
        pack, sampling.merged(n=2), names, keep_truncated=True, name="eval answers"
    )
    out: Pairs = {}
    for prompt, made in zip(prompts, answer_with_pool(prompts, responder, open_model, batch_size),
                            strict=True):  # fmt: skip
        if isinstance(made, Reject):
            out[prompt.id] = f"the models gave no answer: {made.reason}"
            continue
        by_model = {c.model: c for c in made.completions or []}
        lost = [f"{side} ({name})" for side, name in zip(SIDES, names, strict=True)
                if name not in by_model]  # fmt: skip
        if lost:
            out[prompt.id] = f"no answer from {' and '.join(lost)}"
            continue
        a, b = (by_model[name] for name in names)
        out[prompt.id] = Pair(a, b)
    return out
