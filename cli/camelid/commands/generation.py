"""What every generation command does around its stage: load the engine safely, close it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from camelid.engines import Engine, EngineOptions, build_engine
from camelid.pipeline import stderr


def protect_stdout() -> None:
    """Point file descriptor 1 at stderr and keep the real stdout for records only.

    Engines and their worker processes (vLLM, torch, tokenizers) may print to stdout; in a
    pipeline that would corrupt the JSONL. Called before any output file is opened.
    """
    if getattr(protect_stdout, "done", False):
        return
    sys.stdout.flush()
    records_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(records_fd, "w", encoding="utf-8", closefd=True)
    protect_stdout.done = True  # type: ignore[attr-defined]


@contextmanager
def open_engine(
    options: EngineOptions, model: str | None = None, quiet: bool = False
) -> Iterator[Engine]:
    protect_stdout()
    if options.engine == "vllm" and not quiet:
        stderr.print(f"loading {model or options.model or 'the default model'} in vLLM…")
    engine = build_engine(options, model)
    try:
        yield engine
    finally:
        engine.close()
