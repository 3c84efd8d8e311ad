"""`--executor ray`: the engine a stage sees, backed by engine replicas on a Ray cluster.

Only the model steps leave the driver. The driver renders prompts, reads the replies and writes
every record itself, so `-o`, `--rejects`, progress and `--resume` are exactly the local ones,
and records never pass through Arrow (unknown keys and odd types survive untouched). Each batch
of prompts is cut into chunks that go to whichever replica is free; per-request seeds make a
reply independent of which replica or chunk served it, so the records equal a local run's.

Failures: a replica process that dies (or the node under it) is restarted by Ray and its chunk
sent again (max_restarts / max_task_retries), so only the chunks in flight are redone; a chunk
whose engine raises becomes an error result per prompt, which the stage turns into rejects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from camelid.engines.base import Prompt, Result
from camelid.engines.options import EngineOptions
from camelid.errors import CamelidError
from camelid.runtime.cluster import connect, remote_cause
from camelid.sampling import Sampling

CHUNKS_PER_REPLICA = 2  # a free replica takes the next chunk: the slow one holds up less


class EngineReplica:
    """One engine inside a Ray actor (the options with executor=local build it)."""

    def __init__(self, options: EngineOptions, model: str | None, model_path: str | None):
        from camelid.engines import build_engine

        self.engine = build_engine(options, model, model_path)

    def describe(self) -> dict[str, Any]:
        return {"model": self.engine.model, "dtype": getattr(self.engine, "dtype", None)}

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling, seeds: Sequence[int] | None
    ) -> list[Result]:
        return self.engine.generate(prompts, sampling, seeds)


class RayEngine:
    def __init__(self, options: EngineOptions, model: str | None, model_path: str | None = None):
        import ray

        self._owns_ray = not ray.is_initialized()
        self.ray = connect(options.ray_address, options.verbose)
        local = options.model_copy(update={"executor": "local", "ray_address": None, "replicas": 1})
        if self.ray.cluster_resources().get("GPU", 0) > 0:
            resources: dict[str, Any] = {"num_gpus": options.tensor_parallel_size}
        else:
            resources = {"num_cpus": 1}
        actor = self.ray.remote(EngineReplica).options(
            max_restarts=-1,  # a replica lost with its node is started again elsewhere
            max_task_retries=-1,  # and the chunk it held is sent again
            scheduling_strategy="SPREAD",
            **resources,
        )
        # Each replica finds the model on its own node (a built-in is unpacked there from the
        # installed package): the driver's path need not exist on the workers.
        self.replicas = [actor.remote(local, model, None) for _ in range(options.replicas)]
        try:
            described = self.ray.get([r.describe.remote() for r in self.replicas])
        except self.ray.exceptions.RayError as exc:
            self.close()
            raise CamelidError(
                f"--executor ray: an engine replica failed to start: {remote_cause(exc)}"
            ) from None
        self.model: str = described[0]["model"]
        self.dtype: str | None = described[0]["dtype"]

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling, seeds: Sequence[int] | None = None
    ) -> list[Result]:
        parts = max(1, min(len(prompts), len(self.replicas) * CHUNKS_PER_REPLICA))
        chunks = [range(i, len(prompts), parts) for i in range(parts)]
        results: list[Result | None] = [None] * len(prompts)
        todo, idle = deque(chunks), list(self.replicas)
        running: dict[Any, tuple[range, Any]] = {}
        while todo or running:
            while todo and idle:
                chunk, replica = todo.popleft(), idle.pop()
                sent = [prompts[i] for i in chunk]
                chunk_seeds = [seeds[i] for i in chunk] if seeds else None
                running[replica.generate.remote(sent, sampling, chunk_seeds)] = (chunk, replica)
            [ready], _ = self.ray.wait(list(running), num_returns=1)
            chunk, replica = running.pop(ready)
            idle.append(replica)
            try:
                found = self.ray.get(ready)
            except self.ray.exceptions.RayTaskError as exc:
                found = [Result(error=f"engine replica failed: {remote_cause(exc)}")] * len(chunk)
            for i, result in zip(chunk, found, strict=True):
                results[i] = result
        return [r if r is not None else Result(error="not run") for r in results]

    def close(self) -> None:
        for replica in self.replicas:
            self.ray.kill(replica)
        self.replicas = []
        if self._owns_ray:
            self.ray.shutdown()
