"""The three model stages of one evolution round, chained: Evolve (rewrite, then the rules that
need no model), EqualJudge (no information gain over the parent), Answer (can the model answer
it? with --respond the answer is the record's output).

A candidate carries its parent's task text under `evolved_from` until Answer removes it, so each
reject shows both texts.
"""

from __future__ import annotations

from dataclasses import dataclass

from camelid.records import Outcome, Record, Reject, make_record, with_extras
from camelid.runtime.model import PackStage, Reply, Request, lacks_inputs
from camelid.sampling import Sampling
from camelid.stages.backtranslate.stage import read_instruction
from camelid.stages.evolve.checks import evolution_problem, read_equal, unanswerable
from camelid.stages.evolve.operations import Operation, choose

STAGE = "evolve"
SOURCE = "evolved"
PARENT_TEXT = "evolved_from"  # in flight only: the parent's task, for the judge and rejects


def task_text(record: Record) -> str:
    """What is evolved: the instruction, with its input when it has one (as WizardLM merged
    Alpaca's); the evolution is one instruction without a separate input."""
    parts = [(record.instruction or "").strip(), (record.input or "").strip()]
    return "\n\n".join(p for p in parts if p)


def evolve_round(record: Record) -> int:
    """The round that made this record (0: not made by evolve)."""
    rounds = [e.model_extra.get("round", 0) for e in record.lineage or [] if e.stage == STAGE]
    return int(rounds[-1]) if rounds else 0


@dataclass
class Evolve(PackStage):
    """Each parent -> one evolution by a seeded operation, or why it failed."""

    operations: tuple[Operation, ...] = ()
    round: int = 1
    name: str = STAGE

    def requests(self, record: Record) -> list[Request] | Reject:
        if lacks := lacks_inputs(self.pack, record, STAGE):
            return lacks
        op = choose(self.operations, self.sampling.seed or 0, record.id)
        prompt = self.pack.render(record, task=task_text(record), operation=op.name, kind=op.kind)
        return [Request(prompt, f"{record.id}/evolve", self.sampling, op)]

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        reply, op = replies[0], replies[0].request.note
        parent = task_text(record)
        entry = with_extras(self.lineage, operation=op.name, kind=op.kind, round=self.round,
                            parent=record.id)  # fmt: skip
        history = [e for e in record.lineage or [] if e.stage == STAGE]
        base = {"source": SOURCE, "tags": ["evol-instruct", op.kind, op.name],
                "parent": record.id, "lineage": [*history, entry]}  # fmt: skip
        if reply.result.error is not None:
            return Reject.of(STAGE, reply.result.error, record)
        gen = reply.result.generations[0]
        if gen.truncated:
            why = f"rewrite cut off at --max-tokens {self.sampling.max_tokens}"
            return Reject.of(STAGE, why, with_extras(record, reply=gen.text))
        text, error = read_instruction(self.pack, gen.text)
        if text is None:
            return Reject.of(STAGE, error or "no instruction", with_extras(record, reply=gen.text))
        candidate = make_record(instruction=text, **base, **{PARENT_TEXT: parent})
        if problem := evolution_problem(text, parent):
            return Reject.of(STAGE, problem, candidate)
        return candidate


@dataclass
class EqualJudge(PackStage):
    """Drops an evolution the model judges equal to its parent (no information gain). The
    question is asked twice, "yes" named first and then "no" (the 135M default model picks
    whichever is named first): only both answers "yes" drop it, as the pairwise judge counts a
    preference only when both orders agree; a split vote keeps it (no equality shown)."""

    name: str = f"{STAGE}.equal"
    split: int = 0  # evolutions whose two votes disagreed, over the run

    def requests(self, record: Record) -> list[Request]:
        parent = (record.model_extra or {})[PARENT_TEXT]
        out = []
        for options in (["yes", "no"], ["no", "yes"]):
            prompt = self.pack.render(record, first=parent, second=record.instruction,
                                      options=options)  # fmt: skip
            shaped = self.sampling.merged(json_schema=equal_schema(self.sampling, options))
            out.append(Request(prompt, f"{record.id}/equal/{options[0]}", shaped))
        return out

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        votes = []
        for reply in replies:
            if reply.result.error is not None:
                return Reject.of(STAGE, f"equality judge: {reply.result.error}", record)
            votes.append(read_equal(reply.result.generations[0].text))
        if None in votes:
            return Reject.of(STAGE, "equality judgement did not parse", record)
        if all(votes):
            return Reject.of(STAGE, "no information gain: judged equal to its parent", record)
        self.split += any(votes)
        return record


def equal_schema(sampling: Sampling, options: list[str]) -> dict | None:
    """The pack's reply schema with its yes/no enum in the order the prompt names them."""
    schema = sampling.json_schema
    if not schema or "equal" not in schema.get("properties", {}):
        return schema
    props = {**schema["properties"], "equal": {"enum": options}}
    return {**schema, "properties": props}


@dataclass
class Answer(PackStage):
    """Answers each evolution; drops the ones the model cannot answer. With `respond` the
    answer becomes `output` (an answer cut off at max tokens leaves the output unset)."""

    respond: bool = False
    name: str = f"{STAGE}.answer"
    cut: int = 0  # answers cut off at max tokens, over the run

    def requests(self, record: Record) -> list[Request]:
        return [Request(self.pack.render(record), f"{record.id}/answer", self.sampling)]

    def finish(self, record: Record, replies: list[Reply]) -> Outcome:
        result = replies[0].result
        if result.error is not None:
            return Reject.of(STAGE, f"answer: {result.error}", record)
        gen = result.generations[0]
        if problem := unanswerable(gen.text):
            return Reject.of(STAGE, problem, with_extras(record, answer=gen.text))
        record = with_extras(record, **{PARENT_TEXT: None})
        if not self.respond:
            return record
        if gen.truncated:
            self.cut += 1
            return record
        return record.model_copy(update={"output": gen.text.strip()}).with_lineage(self.lineage)
