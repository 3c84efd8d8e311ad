"""Engines: in-process vLLM (default), any OpenAI-compatible server, or scripted replies."""

from __future__ import annotations

from camelid.engines.base import Engine, Generation, Prompt, Result
from camelid.engines.options import EngineOptions

__all__ = ["Engine", "EngineOptions", "Generation", "Prompt", "Result", "build_engine"]


def build_engine(
    options: EngineOptions, model: str | None = None, model_path: str | None = None
) -> Engine:
    """The engine the options ask for, serving `model` (default: options.model).

    `model_path` is where the vllm engine finds the model (see camelid.models.resolve_model).
    """
    name = model or options.model
    if options.executor == "ray":
        from camelid.engines.ray_engine import RayEngine

        return RayEngine(options, model, model_path)
    if options.engine == "scripted":
        from camelid.engines.scripted import ScriptedEngine

        return ScriptedEngine.from_file(
            options.replies or "",
            model=name or "scripted",
            delay=options.replies_delay,
            by_seed=options.replies_pick == "seed",
        )
    if options.engine == "openai":
        from camelid.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(options, model=name)
    from camelid.engines.vllm_engine import VLLMEngine
    from camelid.models import DEFAULT_MODEL, resolve_model

    name = name or DEFAULT_MODEL
    return VLLMEngine(options, model_path=model_path or resolve_model(name), model_name=name)
