"""The engine and sampling flags every generation command takes, added by one decorator.

A command decorated with @engine_flags declares a parameter `options: EngineOptions`; the
decorator adds the shared flags to its signature and hands it the merged, validated options
(flags over --config over CAMELID_* environment), before any model is loaded.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints

import typer

from camelid.engines.options import EngineOptions, resolve_options

PANEL = "Engine and sampling"


def _flag(help: str, *names: str) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=PANEL, show_default=False)


SHARED: dict[str, Any] = {
    "config": Annotated[
        str | None, _flag("YAML file of these settings; flags override it.", "--config")
    ],
    "engine": Annotated[
        str | None, _flag("vllm (default, in-process), openai (a server) or scripted.", "--engine")
    ],
    "model": Annotated[
        str | None,
        _flag(
            "Model: a built-in name (see `camelid models`), a local directory or a hub id. "
            "Default smollm2-135m-instruct. [env CAMELID_MODEL]",
            "--model",
        ),
    ],
    "max_model_len": Annotated[int | None, _flag("Context length to serve.", "--max-model-len")],
    "tensor_parallel_size": Annotated[
        int | None, _flag("GPUs to split the model over.", "--tensor-parallel-size")
    ],
    "gpu_memory_utilization": Annotated[
        float | None, _flag("Share of GPU memory vLLM may take.", "--gpu-memory-utilization")
    ],
    "enforce_eager": Annotated[
        bool | None,
        _flag("No CUDA graphs / compilation (default: on for CPU).", "--eager/--no-eager"),
    ],
    "cpu_kv_cache_gb": Annotated[
        float | None, _flag("CPU only: GiB for the KV cache (default 2).", "--cpu-kv-cache-gb")
    ],
    "dtype": Annotated[
        str | None,
        _flag(
            "auto (default: float32 on CPUs without native bf16, where it runs ~5x faster; "
            "bfloat16 on CPUs with it; the model's own on GPUs), float32, bfloat16, float16.",
            "--dtype",
        ),
    ],
    "verbose": Annotated[
        bool | None,
        _flag(
            "Show the engine's own start-up messages (warnings camelid leaves out).", "--verbose"
        ),  # fmt: skip
    ],
    "trust_remote_code": Annotated[
        bool | None, _flag("Allow model code from the model's folder.", "--trust-remote-code")
    ],
    "base_url": Annotated[
        str | None, _flag("OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.", "--base-url")
    ],
    "api_key_env": Annotated[
        str | None, _flag("Environment variable holding the API key.", "--api-key-env")
    ],
    "concurrency": Annotated[int | None, _flag("Parallel requests (openai).", "--concurrency")],
    "replies": Annotated[str | None, _flag("Canned replies (JSONL) for scripted.", "--replies")],
    "temperature": Annotated[float | None, _flag("Sampling temperature.", "--temperature")],
    "top_p": Annotated[float | None, _flag("Nucleus sampling mass.", "--top-p")],
    "max_tokens": Annotated[int | None, _flag("Most tokens per reply.", "--max-tokens")],
    "seed": Annotated[int | None, _flag("Random seed (default 0).", "--seed")],
    "executor": Annotated[
        str | None,
        _flag(
            "local (default: the model runs in this process) or ray (--replicas engines on a "
            "Ray cluster; the output is still written here).",
            "--executor",
        ),
    ],
    "ray_address": Annotated[
        str | None,
        _flag(
            "Ray cluster to join (default: RAY_ADDRESS, else a local one is started).",
            "--ray-address",
        ),
    ],
    "replicas": Annotated[
        int | None,
        _flag(
            "With --executor ray: engine replicas, each on --tensor-parallel-size GPUs "
            "(one CPU each on a CPU cluster).",
            "--replicas",
        ),
    ],
    "batch_size": Annotated[
        int | None, _flag("Records per engine batch (and per flush).", "--batch-size")
    ],
}


# For commands that answer with a pool of models (respond): --model may be repeated.
POOL_MODEL = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        help="Model: a built-in name (see `camelid models`), a local directory or a hub id. "
        "Repeat it for a pool, each model loaded once, one after another: a pool of at least "
        "--n models gives each record --n distinct ones drawn at random (seeded by the record, "
        "as UltraFeedback drew 4 of 17); a smaller pool shares the --n out evenly. NAME=MODEL records the answers under NAME, so one model can "
        "serve twice: --model a=smollm2-135m-instruct --model b=smollm2-135m-instruct. "
        "Default smollm2-135m-instruct. [env CAMELID_MODEL]",
        metavar="[NAME=]MODEL",
        rich_help_panel=PANEL,
        show_default=False,
    ),
]


def engine_flags(
    func: Callable[..., Any] | None = None, *, pool: bool = False
) -> Callable[..., Any]:
    """Add the shared flags. With pool=True, --model may be repeated: the command then takes
    `models: list[str]` (the --model values as given; empty: options.model from config or
    environment) and options.model is left to the config and environment."""
    if func is None:
        return functools.partial(engine_flags, pool=pool)
    hints = get_type_hints(func, include_extras=True)
    skip = {"options", "models"} if pool else {"options"}
    own = [p for p in inspect.signature(func).parameters.values() if p.name not in skip]
    own = [p.replace(annotation=hints[p.name]) for p in own]
    flag_hints = SHARED | ({"model": POOL_MODEL} if pool else {})
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=hint)
        for name, hint in flag_hints.items()
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        flags = {name: kwargs.pop(name) for name in SHARED}
        config = flags.pop("config")
        if pool:
            kwargs["models"] = flags.pop("model") or []
        return func(options=resolve_options(flags, config), **kwargs)

    wrapper.__signature__ = inspect.Signature([*own, *shared])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *shared]}
    return wrapper


__all__ = ["EngineOptions", "engine_flags"]
