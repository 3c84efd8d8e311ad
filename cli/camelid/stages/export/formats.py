"""Records -> the rows trainers read, one pure function per format; a row, or why there is none.

The user turn is the instruction, then a blank line and the input when there is one: exactly
what the plain pack (prompts/plain/user.jinja) sends for the record, so a model trained on an
export is prompted the way `respond` prompts it. The record's `system` becomes a system turn;
with `humpback_tags`, a record without one gets its Humpback tag (stages.humpback_tags). No
default system prompt is added: the export holds what the data says.

Which records give a conversation (messages, prompt-completion, sharegpt, openai, alpaca):
instruction + output first (as `respond` writes them), else `messages`. Preference rows need
chosen and rejected (as `camelid pairs` writes them) and a prompt: the instruction, a `prompt`
field (text or turns), or the turns chosen and rejected conversations share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from camelid.records import Message, Record, Reject
from camelid.stages.backtranslate.tags import tag_system_prompt

Turn = dict[str, str]
Row = dict[str, Any]
Maker = Callable[[Record, bool], "Row | str"]

ROLES = ("system", "user", "assistant")
SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


def user_text(record: Record) -> str:
    """Instruction and input as one user turn, the way the plain pack renders them."""
    text = record.instruction or ""
    if _text(record.input):
        text += f"\n\n{record.input}"
    return text


def system_prompt(record: Record, humpback_tags: bool) -> str | None:
    if record.system:
        return record.system
    return tag_system_prompt(record) if humpback_tags else None


def conversation(record: Record, humpback_tags: bool) -> list[Turn] | str:
    """The record as a conversation ending in the answer, with its system turn if any."""
    if _text(record.instruction) and _text(record.output):
        turns = [_turn("user", user_text(record)), _turn("assistant", record.output or "")]
    elif record.messages:
        checked = _turns(record.messages, "messages")
        if isinstance(checked, str):
            return checked
        if not any(t["role"] == "user" for t in checked):
            return "messages have no user turn"
        if checked[-1]["role"] != "assistant":
            return f"messages end with a {checked[-1]['role']} turn, not an answer"
        turns = checked
    else:
        return _no_conversation(record)
    return _with_system(turns, system_prompt(record, humpback_tags))


def messages_row(record: Record, humpback_tags: bool = False) -> Row | str:
    """TRL conversational: {"messages": [{role, content}, ...]}."""
    turns = conversation(record, humpback_tags)
    return turns if isinstance(turns, str) else {"messages": turns}


# OpenAI chat fine-tuning takes the same rows: role and content only, system optional.
openai_row = messages_row


def prompt_completion_row(record: Record, humpback_tags: bool = False) -> Row | str:
    """TRL prompt-completion, conversational: everything before the last answer is the prompt."""
    turns = conversation(record, humpback_tags)
    return turns if isinstance(turns, str) else {"prompt": turns[:-1], "completion": turns[-1:]}


def sharegpt_row(record: Record, humpback_tags: bool = False) -> Row | str:
    """ShareGPT: {"conversations": [{from: system|human|gpt, value}, ...]}."""
    turns = conversation(record, humpback_tags)
    if isinstance(turns, str):
        return turns
    return {
        "conversations": [{"from": SHAREGPT_FROM[t["role"]], "value": t["content"]} for t in turns]
    }


def alpaca_row(record: Record, humpback_tags: bool = False) -> Row | str:
    """Alpaca: instruction, input ("" when none), output; `system` too when there is one (the
    column LLaMA-Factory's alpaca format reads). A conversation fits if it is one exchange."""
    system = system_prompt(record, humpback_tags)
    if _text(record.instruction) and _text(record.output):
        row = {
            "instruction": record.instruction,
            "input": record.input or "",
            "output": record.output,
        }
    else:
        turns = conversation(record, humpback_tags)
        if isinstance(turns, str):
            return turns
        if turns[0]["role"] == "system":
            system, turns = turns[0]["content"], turns[1:]
        if [t["role"] for t in turns] != ["user", "assistant"]:
            return f"messages hold {len(turns)} turns; alpaca holds one instruction and its output"
        row = {"instruction": turns[0]["content"], "input": "", "output": turns[1]["content"]}
    return row | {"system": system} if system else row


def preference_row(record: Record, humpback_tags: bool = False) -> Row | str:
    """TRL preference, conversational: {"prompt", "chosen", "rejected"}, each a list of turns."""
    missing = [f for f in ("chosen", "rejected") if not _given(getattr(record, f))]
    if missing:
        hint = (
            " (it has completions: make pairs with `camelid pairs`)" if record.completions else ""
        )
        return f"record has no {'/'.join(missing)}{hint}"
    chosen, rejected = _answer(record.chosen, "chosen"), _answer(record.rejected, "rejected")
    if isinstance(chosen, str) or isinstance(rejected, str):
        return chosen if isinstance(chosen, str) else str(rejected)
    if chosen[0]["role"] == "assistant" and rejected[0]["role"] == "assistant":
        prompt = _prompt(record)
    else:  # whole conversations (UltraFeedback-binarized style): the shared turns are the prompt
        shared = 0
        while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
            shared += 1
        while shared and chosen[shared - 1]["role"] == "assistant":
            shared -= 1
        if shared == 0 or shared in (len(chosen), len(rejected)):
            return "chosen and rejected conversations share no prompt turns to answer"
        prompt, chosen, rejected = chosen[:shared], chosen[shared:], rejected[shared:]
    if isinstance(prompt, str):
        return prompt
    if chosen == rejected:
        return "chosen and rejected are the same"
    prompt = _with_system(prompt, system_prompt(record, humpback_tags))
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


FORMATS: dict[str, Maker] = {
    "messages": messages_row,
    "prompt-completion": prompt_completion_row,
    "preference": preference_row,
    "alpaca": alpaca_row,
    "sharegpt": sharegpt_row,
    "openai": openai_row,
}
HF_LAYOUTS = ("messages", "prompt-completion", "preference")  # what `--format hf --as` takes


def export(
    records: Iterable[Record], fmt: str, humpback_tags: bool = False
) -> Iterator[Row | Reject]:
    """Rows for a stream (or one batch) of records; the ones without a row become Rejects."""
    make = FORMATS[fmt]
    for record in records:
        made = make(record, humpback_tags)
        if isinstance(made, str):
            yield Reject("export", made, record=record, where=record._where or None)
        else:
            yield made


def _prompt(record: Record) -> list[Turn] | str:
    if _text(record.instruction):
        return [_turn("user", user_text(record))]
    given = (record.model_extra or {}).get("prompt")
    if _text(given):
        return [_turn("user", given)]
    if isinstance(given, list) and given:
        try:
            turns = _turns([Message.model_validate(m) for m in given], "prompt")
        except ValueError:
            return 'field "prompt": expected a string or a list of {role, content} turns'
        if isinstance(turns, str) or any(t["role"] == "user" for t in turns):
            return turns
        return "prompt has no user turn"
    return "record has no instruction or prompt for its chosen/rejected"


def _answer(value: str | list[Message] | None, name: str) -> list[Turn] | str:
    return [_turn("assistant", value)] if isinstance(value, str) else _turns(value or [], name)


def _turns(messages: list[Message], name: str) -> list[Turn] | str:
    # Role and content only: a dataset is one table, extra keys on some turns would clash.
    for i, m in enumerate(messages):
        if m.role not in ROLES:
            return f'{name}.{i}: role "{m.role}" is not system, user or assistant'
        if m.role != "system" and not m.content.strip():
            return f"{name}.{i}: empty {m.role} turn"
    return [_turn(m.role, m.content) for m in messages]


def _with_system(turns: list[Turn], system: str | None) -> list[Turn]:
    """The conversation's own system turn wins over the record's (or the tag)."""
    if system is None or turns[0]["role"] == "system":
        return turns
    return [_turn("system", system), *turns]


def _no_conversation(record: Record) -> str:
    if _text(record.instruction):
        if record.completions:
            return "record has no output (it has completions: pick one with `camelid filter --best-of`)"
        if _given(record.chosen):
            return "record has no output (it is a preference pair: export it as preference)"
        return "record has no output"
    if _text(record.output):
        return "record has no instruction (bare segments get one from `camelid backtranslate`)"
    return "record has no instruction/output or messages"


def _turn(role: str, content: str) -> Turn:
    return {"role": role, "content": content}


def _given(value: str | list[Message] | None) -> bool:
    return _text(value) if isinstance(value, str) else bool(value)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
