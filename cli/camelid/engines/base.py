"""The engine protocol: a batch of prompts in, for each one or more generations out.

A prompt is either a chat conversation (a list of {role, content}), sent through the model's
chat template, or a raw string that a (base) model continues, as few-shot prompts are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from camelid.sampling import Sampling

Conversation = list[dict[str, str]]
Prompt = Conversation | str


@dataclass
class TokenChoice:
    """One generated token and the most likely tokens at its position (with Sampling.logprobs):
    what a judge's expected rating is read from."""

    token: str
    top: dict[str, float]  # token text -> log-probability, the generated token among them


@dataclass
class Generation:
    text: str
    # "stop" (ended by itself or a stop string), "length" (cut at max_tokens) or "error".
    finish_reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    logprobs: list[TokenChoice] | None = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@dataclass
class Result:
    """What one prompt got back: its generations, or the reason it could not be run."""

    generations: list[Generation] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Engine(Protocol):
    """What every engine provides. `model` is the name recorded in lineage."""

    model: str

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling, seeds: Sequence[int] | None = None
    ) -> list[Result]:
        """One Result per prompt, in order. A prompt that cannot run (too long for the context,
        refused by a server) gets Result(error=...) and never stops its neighbours.

        `seeds` gives each prompt its own random seed, so a record's answer does not depend on
        which other records share its batch (what makes resumed runs match uninterrupted ones).
        """
        ...

    def close(self) -> None: ...


def record_seed(seed: int, record_id: str) -> int:
    """A per-record seed: fixed by the run's seed and the record, independent of batching."""
    digest = hashlib.sha256(f"{seed}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
