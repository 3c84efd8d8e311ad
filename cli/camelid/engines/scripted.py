"""A scripted engine for fast tests: replays canned replies and records what it was sent.

It is also a real `--engine scripted` choice (with `--replies FILE`), handy for trying a
pipeline's plumbing without a model; every generation command is still tested on vLLM.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import orjson

from camelid.engines.base import Generation, Prompt, Result
from camelid.errors import CamelidError
from camelid.sampling import Sampling

Reply = str | Generation | Result
ReplyFn = Callable[[Prompt, Sampling], Reply]


class ScriptedEngine:
    def __init__(
        self,
        replies: Iterable[Reply] | ReplyFn = (),
        model: str = "scripted",
        cycle: bool = False,
        delay: float = 0.0,
        by_seed: bool = False,
    ):
        self.model = model
        self.delay = delay  # seconds per prompt: a slow model, for benchmarks
        self.by_seed = by_seed  # the reply chosen by the request's seed, not in turn
        self.sent: list[tuple[Prompt, Sampling]] = []
        self.seeds: list[int | None] = []
        self._fn = replies if callable(replies) else None
        self._queue: deque[Reply] = deque([] if callable(replies) else replies)
        self._cycle = cycle

    @classmethod
    def from_file(
        cls, path: str, model: str = "scripted", delay: float = 0.0, by_seed: bool = False
    ) -> ScriptedEngine:
        """Replies from a JSONL file: each line a string, or {"text", "finish_reason"}."""
        replies: list[Reply] = []
        for line in Path(path).read_bytes().splitlines():
            if line.strip():
                value = orjson.loads(line)
                replies.append(value if isinstance(value, str) else Generation(**value))
        return cls(replies, model=model, cycle=True, delay=delay, by_seed=by_seed)

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling, seeds: Sequence[int] | None = None
    ) -> list[Result]:
        results = []
        for i, prompt in enumerate(prompts):
            seed = seeds[i] if seeds else None
            self.sent.append((prompt, sampling))
            self.seeds.append(seed)
            if self.delay:
                time.sleep(self.delay)
            if self.by_seed and seed is not None and self._queue:
                picked = [self._queue[(seed + k) % len(self._queue)] for k in range(sampling.n)]
            else:
                picked = [self._next(prompt, sampling) for _ in range(sampling.n)]
            results.append(self._result(picked))
        return results

    def close(self) -> None:
        pass

    def _next(self, prompt: Prompt, sampling: Sampling) -> Reply:
        if self._fn is not None:
            return self._fn(prompt, sampling)
        if not self._queue:
            raise CamelidError("scripted engine: no replies left")
        reply = self._queue.popleft()
        if self._cycle:
            self._queue.append(reply)
        return reply

    @staticmethod
    def _result(replies: list[Reply]) -> Result:
        if len(replies) == 1 and isinstance(replies[0], Result):
            return replies[0]
        gens = [r if isinstance(r, Generation) else Generation(str(r), "stop") for r in replies]
        return Result(generations=gens)
