"""Humpback self-augmentation: write the instruction each unlabelled segment would answer.

Two packs do it:
- `backward`: a backward model, trained by `camelid train --task backward` to predict the
  instruction from the answer (the paper's p(x|y)), gets the segment as its only user turn,
  exactly as `backward_messages` builds it, and replies with the instruction;
- `backtranslate` (default): an instruct model is shown a few examples of answers and their
  instructions and infers the instruction, replying in JSON under a schema.

A kept record has `instruction`, the segment unchanged as `output`, `source: augmented` and a
lineage entry. The Humpback tag for augmented data is not written here: `export` and `train`
apply it from `source` (see tags.py). Segments too long for the context come back from the
engine as errors and are rejected with that reason; so are unusable instructions
(filters.py) and records that already have an instruction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from camelid.packs import Pack
from camelid.records import Outcome, Record, Reject, with_extras
from camelid.runtime.model import PackStage, Reply, Request, lacks_inputs
from camelid.stages.backtranslate.filters import Exemplar, instruction_problem

STAGE = "backtranslate"
AUGMENTED = "augmented"


def backward_messages(output: str) -> list[dict[str, str]]:
    """The backward model's prompt: the segment alone, as the user's turn.

    Training (`train --task backward`: this prompt, the instruction as the completion) and
    inference (the `backward` pack, kept identical by a test) both use this one format.
    """
    return [{"role": "user", "content": output}]


def read_instruction(pack: Pack, text: str) -> tuple[str | None, str | None]:
    """(instruction, None) from a reply, or (None, reason). A text reply is the instruction;
    a JSON or regex reply holds it under "instruction"."""
    parsed = pack.parse(text)
    if parsed.error is not None:
        return None, parsed.error
    value: Any = parsed.value
    if isinstance(value, dict):
        value = value.get("instruction")
    if not isinstance(value, str):
        return None, "reply holds no instruction text"
    return value.strip(), None


def exemplars(pack: Pack) -> list[Exemplar]:
    """The pack's in-context examples, for the rules that catch an example copied or echoed."""
    return [
        Exemplar(row["instruction"], tuple(row.get("topic_words", ())))
        for row in pack.examples
        if isinstance(row.get("instruction"), str)
    ]


def max_chars(pack: Pack) -> int | None:
    """The reply schema's bound on the instruction's length, if it sets one."""
    schema = pack.manifest.parser.json_schema or {}
    bound = schema.get("properties", {}).get("instruction", {}).get("maxLength")
    return bound if isinstance(bound, int) else None


@dataclass
class Backtranslate(PackStage):
    """Each bare segment -> the instruction it answers, or why none could be kept."""

    name: str = STAGE

    def __post_init__(self) -> None:
        self._examples, self._bound = exemplars(self.pack), max_chars(self.pack)

    def requests(self, record: Record) -> list[Request] | Reject:
        if record.instruction and record.instruction.strip():
            return Reject.of(STAGE, "already has an instruction (backtranslate labels bare segments)", record)  # fmt: skip
        lacks = lacks_inputs(self.pack, record, STAGE)
        return lacks or [Request(self.pack.render(record), record.id, self.sampling)]

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        result = replies[0].result
        if result.error is not None:
            return Reject.of(STAGE, result.error, record)
        reply = result.generations[0]

        def reject(reason: str) -> Reject:
            # The reply goes with the reject, so a user can see what the model wrote.
            return Reject.of(STAGE, reason, with_extras(record, reply=reply.text))

        if reply.truncated:
            return reject(f"reply cut off at --max-tokens {self.sampling.max_tokens}")
        instruction, error = read_instruction(self.pack, reply.text)
        if instruction is None:
            return reject(error or "no instruction")
        problem = instruction_problem(instruction, record.output or "", self._examples, self._bound)
        if problem is not None:
            return reject(problem)
        update = {"instruction": instruction, "source": AUGMENTED}
        return record.model_copy(update=update).with_lineage(self.lineage)
