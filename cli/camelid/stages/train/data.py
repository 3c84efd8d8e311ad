"""Records -> the rows TRL trains on, one function per task; wrong shapes fail with file:line.

All rows are conversational, in TRL's prompt-completion (sft, backward) or preference (dpo)
shape, so the trainers compute the loss on the answer tokens only, with any chat template:
- sft: the prompt is exactly what `respond --pack P` sends for the record (default plain), with
  the record's `system`, else its Humpback tag (--humpback-tags), else the pack's default; the
  answer is `output`. A `messages` conversation gives one row per assistant turn, each with
  the turns before it as the prompt, so every answer is trained on and no prompt is.
- backward: `backward_messages(output)` as the prompt, the instruction (a blank line, then the
  input, if any) as the answer: what the backward pack sends and expects at inference.
- dpo: the prompt as sft renders it (or the record's `prompt`), `chosen` and `rejected` as the
  answers; chosen/rejected conversations that share their first turns need no prompt field.
- reward: the same preference rows as dpo. RewardTrainer scores prompt + answer as one chat,
  so `reward_conversation` builds what `score --reward-model` scores the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from camelid.errors import BadInputError
from camelid.packs import Pack
from camelid.records import Message, Record
from camelid.stages.backtranslate.stage import backward_messages
from camelid.stages.backtranslate.tags import tag_system_prompt

TASKS = ("sft", "backward", "dpo", "reward")
ROLES = ("system", "user", "assistant")
Turns = list[dict[str, str]]
Row = dict[str, Turns]


@dataclass(frozen=True)
class Prompting:
    """How sft and dpo prompts are built: the pack respond will use, and the Humpback tags."""

    pack: Pack
    humpback_tags: bool = False

    def system(self, record: Record) -> str | None:
        if record.system:
            return record.system
        return tag_system_prompt(record) if self.humpback_tags else None

    def render(self, record: Record) -> Turns:
        # The pack's templates decide the turns; system=None lets the pack use its default.
        rendered = self.pack.render(record, system=self.system(record))
        return rendered if isinstance(rendered, list) else [{"role": "user", "content": rendered}]

    def with_system(self, record: Record, turns: Turns) -> Turns:
        """A conversation from the data: its own system turn wins, else the record's or tag."""
        system = self.system(record)
        if system is None or (turns and turns[0]["role"] == "system"):
            return turns
        return [{"role": "system", "content": system}, *turns]


def training_rows(records: Iterable[Record], task: str, prompting: Prompting | None) -> list[Row]:
    """Every record's rows, in order; the first record with the wrong shape stops it all."""
    rows: list[Row] = []
    for record in records:
        if task == "sft":
            rows += sft_rows(record, _need(prompting))
        elif task == "backward":
            rows.append(backward_row(record))
        elif task in ("dpo", "reward"):
            rows.append(dpo_row(record, _need(prompting), task))
        else:
            raise ValueError(f"unknown task {task!r}")
    return rows


def sft_rows(record: Record, prompting: Prompting) -> list[Row]:
    if _text(record.instruction) and _text(record.output):
        return [{"prompt": prompting.render(record), "completion": [_assistant(record.output)]}]
    if record.messages:
        turns = prompting.with_system(record, _turns(record, record.messages, "messages"))
        rows = [
            {"prompt": turns[:i], "completion": [turn]}
            for i, turn in enumerate(turns)
            if turn["role"] == "assistant" and any(t["role"] == "user" for t in turns[:i])
        ]
        if rows:
            return rows
        raise _bad(record, "record's messages have no assistant turn after a user turn, "
                   "which --task sft needs")  # fmt: skip
    if _text(record.output) and not _text(record.instruction):
        raise _bad(record, "record has no instruction, which --task sft needs "
                   "(bare segments get one from `camelid backtranslate`)")  # fmt: skip
    if _text(record.instruction):
        raise _bad(record, "record has no output, which --task sft needs")
    raise _bad(record, "record has no instruction/output or messages, which --task sft needs")


def backward_row(record: Record) -> Row:
    missing = [f for f in ("instruction", "output") if not _text(getattr(record, f))]
    if missing:
        raise _bad(record, f"record has no {'/'.join(missing)}, which --task backward needs")
    target = record.instruction or ""
    if _text(record.input):
        target += f"\n\n{record.input}"
    return {"prompt": backward_messages(record.output or ""), "completion": [_assistant(target)]}


def dpo_row(record: Record, prompting: Prompting, task: str = "dpo") -> Row:
    """A preference row (dpo, reward): prompt, chosen and rejected turns."""
    missing = [f for f in ("chosen", "rejected") if not _answer_given(getattr(record, f))]
    if missing:
        raise _bad(record, f"record has no {'/'.join(missing)}, which --task {task} needs")
    chosen = _answers(record, record.chosen, "chosen")
    rejected = _answers(record, record.rejected, "rejected")
    if chosen == rejected:
        raise _bad(record, f"chosen and rejected are the same, which --task {task} cannot "
                   "learn from")  # fmt: skip
    if chosen[0]["role"] != "assistant" or rejected[0]["role"] != "assistant":
        return _implicit_prompt(record, chosen, rejected, prompting, task)
    return {"prompt": preference_prompt(record, prompting, task), "chosen": chosen,
            "rejected": rejected}  # fmt: skip


def reward_conversation(prompt: Turns, answer: str) -> Turns:
    """What a reward model scores: the prompt turns, then the answer as the assistant's turn
    (RewardTrainer joins prompt and chosen/rejected the same way before the chat template)."""
    return [*prompt, _assistant(answer)]


def preference_prompt(record: Record, prompting: Prompting, task: str = "dpo") -> Turns:
    """The prompt an answer of the record answers: the rendered instruction, else `prompt`."""
    prompt = (record.model_extra or {}).get("prompt")
    if _text(record.instruction):
        return prompting.render(record)
    if isinstance(prompt, str) and prompt.strip():
        return prompting.render(record.model_copy(update={"instruction": prompt, "input": None}))
    if isinstance(prompt, list) and prompt:
        try:
            messages = [Message.model_validate(m) for m in prompt]
        except ValueError:
            raise _bad(record, 'field "prompt": expected a string or a list of '
                       "{role, content} turns") from None  # fmt: skip
        return prompting.with_system(record, _turns(record, messages, "prompt"))
    raise _bad(record, f"record has no prompt or instruction, which --task {task} needs")


def _implicit_prompt(record: Record, chosen: Turns, rejected: Turns, prompting: Prompting,
                     task: str) -> Row:  # fmt: skip
    """Whole conversations (as in UltraFeedback-binarized): the shared first turns are the prompt."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    while shared and chosen[shared - 1]["role"] == "assistant":
        shared -= 1  # the answers start at the first assistant turn after the shared prompt
    if shared == 0 or shared == len(chosen) or shared == len(rejected):
        raise _bad(record, "chosen and rejected conversations share no prompt turns to "
                   f"answer, which --task {task} needs")  # fmt: skip
    prompt = prompting.with_system(record, chosen[:shared])
    return {"prompt": prompt, "chosen": chosen[shared:], "rejected": rejected[shared:]}


def _answers(record: Record, value: str | list[Message] | None, name: str) -> Turns:
    return [_assistant(value)] if isinstance(value, str) else _turns(record, value or [], name)


def _answer_given(value: str | list[Message] | None) -> bool:
    return _text(value) if isinstance(value, str) else bool(value)


def _turns(record: Record, messages: list[Message], name: str) -> Turns:
    # Only role and content: the trainers build one table from all rows, extras would clash.
    for i, m in enumerate(messages):
        if m.role not in ROLES:
            raise _bad(record, f'{name}.{i}: role "{m.role}" is not system, user or assistant')
    return [{"role": m.role, "content": m.content} for m in messages]


def _assistant(text: str | None) -> dict[str, str]:
    return {"role": "assistant", "content": text or ""}


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _need(prompting: Prompting | None) -> Prompting:
    if prompting is None:
        raise ValueError("sft, dpo and reward rows need a Prompting (the pack whose prompt is "
                         "trained)")  # fmt: skip
    return prompting


def _bad(record: Record, problem: str) -> BadInputError:
    return BadInputError(record._where or f"record {record.id}", None, problem)
