"""Humpback self-augmentation: write the instruction each unlabelled segment would answer.

Two packs do it:
- `backward`: a backward model, trained by `camelid train --task backward` to predict the
  instruction from the answer (the paper's p(x|y)), gets the segment as its only user turn,
  exactly as `backward_messages` builds it, and replies with the instruction;
- `backtranslate` (default): an instruct model is shown a few examples of answers and their
  instructions and infers the instruction, replying in JSON under a schema.

A kept record has `instruction`, the segment unchanged as `output`, `source: augmented` and a
lineage entry. The Humpback tag for augmented data is not written here: `export` and `train`
apply it from `source` (see humpback_tags). Segments too long for the context come back from the
engine as errors and are rejected with that reason; so are unusable instructions
(backtranslate_filters) and records that already have an instruction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from camelid.engines.base import Engine, Result
from camelid.packs import Pack
from camelid.pipeline import Reject
from camelid.records import Record, with_extras
from camelid.sampling import Sampling
from camelid.stages.backtranslate_filters import Exemplar, instruction_problem
from camelid.stages.generate import Apply, run_pack

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


def backtranslator(pack: Pack, model: str, sampling: Sampling) -> Apply:
    """The function that turns one engine result into the augmented record (or its reject)."""
    lineage = pack.lineage(STAGE, model, sampling)
    examples, bound = exemplars(pack), max_chars(pack)

    def apply(record: Record, result: Result) -> Record | Reject:
        reply = result.generations[0]

        def reject(reason: str) -> Reject:
            # The reply goes with the reject, so a user can see what the model wrote.
            kept = with_extras(record, reply=reply.text)
            return Reject(STAGE, reason, record=kept, where=record._where or None)

        if reply.truncated:
            return reject(f"reply cut off at --max-tokens {sampling.max_tokens}")
        instruction, error = read_instruction(pack, reply.text)
        if instruction is None:
            return reject(error or "no instruction")
        problem = instruction_problem(instruction, record.output or "", examples, bound)
        if problem is not None:
            return reject(problem)
        update = {"instruction": instruction, "source": AUGMENTED}
        return record.model_copy(update=update).with_lineage(lineage)

    return apply


def backtranslate(
    records: Iterable[Record],
    pack: Pack,
    engine: Engine,
    sampling: Sampling,
    batch_size: int = 256,
) -> Iterator[list[Record | Reject]]:
    """For each batch of segments, the augmented records and rejects, records in input order."""
    held: list[Reject] = []

    def unlabelled() -> Iterator[Record]:
        for record in records:
            if record.instruction and record.instruction.strip():
                reason = "already has an instruction (backtranslate labels bare segments)"
                held.append(Reject(STAGE, reason, record=record, where=record._where or None))
            else:
                yield record

    apply = backtranslator(pack, engine.model, sampling)
    for batch in run_pack(unlabelled(), pack, engine, sampling, apply, STAGE, batch_size):
        yield [*held, *batch]
        held.clear()
    if held:
        yield list(held)
