"""Engine and sampling settings shared by every generation command.

Precedence: command-line flags, then the `--config` YAML file, then CAMELID_* environment
variables, then defaults. Everything is checked here, before any model is loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from camelid.errors import UsageError


class EngineOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: Literal["vllm", "openai", "scripted"] = "vllm"
    # None: the default model (SmolLM2-135M-Instruct), or the server's only model (openai).
    model: str | None = None
    max_model_len: int | None = Field(None, ge=16)
    tensor_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float = Field(0.9, gt=0.0, le=1.0)
    # None: chosen by device (eager on the CPU, where compiling bought ~3% for minutes of start-up).
    enforce_eager: bool | None = None
    # CPU only: memory for the KV cache, GiB (vLLM-CPU's VLLM_CPU_KVCACHE_SPACE).
    cpu_kv_cache_gb: float = Field(2.0, gt=0.0)
    # auto: float32 on CPUs without native bf16 (5x faster there), bf16 where the CPU has it,
    # the model's own dtype on GPUs (see engines/device.py).
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    # Show what the engine's libraries print while loading (camelid keeps known noise out).
    verbose: bool = False
    trust_remote_code: bool = False
    # Every request of a pack shares its long instructions and exemplars: keep them cached.
    prefix_caching: bool = True
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(8, ge=1, le=1024)
    request_timeout: float = Field(300.0, gt=0.0)
    max_retries: int = Field(5, ge=0)
    replies: str | None = Field(None, description="JSONL replies for the scripted engine.")
    # Scripted only: seconds each prompt takes (what a slow model looks like, for benchmarks),
    # and how a reply is chosen: in turn, or by the request's seed (the same reply for the same
    # request whatever the batching or the replica: what executor parity is tested with).
    replies_delay: float = Field(0.0, ge=0.0)
    replies_pick: Literal["cycle", "seed"] = "cycle"
    # Where the model steps run: in this process, or on replicas in a Ray cluster.
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    replicas: int = Field(1, ge=1)
    batch_size: int = Field(256, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> EngineOptions:
        if self.engine == "openai" and not self.base_url:
            raise ValueError("--engine openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        if self.engine != "openai" and self.base_url:
            raise ValueError(f"--base-url is only for --engine openai, not --engine {self.engine}")
        if self.engine == "scripted" and not self.replies:
            raise ValueError("--engine scripted needs --replies FILE")
        if self.replies and self.engine != "scripted":
            raise ValueError("--replies is only for --engine scripted")
        if self.executor != "ray" and (self.ray_address or self.replicas > 1):
            flag = "--ray-address" if self.ray_address else "--replicas"
            raise ValueError(f"{flag} is only for --executor ray")
        if self.replies and not Path(self.replies).is_file():
            raise ValueError(f"--replies {self.replies}: no such file")
        return self

    def sampling_overrides(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}


# Every setting may also come from the environment, as CAMELID_<NAME> (CAMELID_BASE_URL, ...),
# except running code from a model's folder: that is asked for on the command line or in a file.
ENV_SETTINGS = tuple(name for name in EngineOptions.model_fields if name != "trust_remote_code")


def resolve_options(flags: dict[str, Any], config: str | None = None) -> EngineOptions:
    """Merge flags over the config file over the environment, and validate the result."""
    from_env: dict[str, Any] = {}
    for name in ENV_SETTINGS:
        value = os.environ.get(f"CAMELID_{name.upper()}")
        if value not in (None, ""):
            from_env[name] = value
    merged = dict(from_env)
    if config:
        merged |= read_config(config, EngineOptions)
    merged |= {k: v for k, v in flags.items() if v is not None}
    # A served model in the environment (`camelid serve`) does not stand in the way of a
    # command that asks for another engine: its server settings are left out then.
    for name, engine in (("base_url", "openai"), ("replies", "scripted")):
        if merged.get(name) == from_env.get(name) and merged.get("engine", "vllm") != engine:
            merged.pop(name, None)
    try:
        return EngineOptions.model_validate(merged)
    except ValidationError as exc:
        raise UsageError(describe_errors(exc)) from None


def read_config(path: str, model: type[BaseModel]) -> dict[str, Any]:
    """A --config YAML file as settings of `model`; unknown keys refused (typos fail at once)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise UsageError(f"--config {path}: no such file") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"--config {path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--config {path}: expected a mapping of settings")
    data = {str(k).replace("-", "_"): v for k, v in data.items()}
    known = set(model.model_fields)
    unknown = sorted(set(data) - known)
    if unknown:
        raise UsageError(
            f"--config {path}: unknown setting {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    return data


def describe_errors(exc: ValidationError) -> str:
    """Validation errors as one line, each setting named as the flag the user would type."""
    parts = []
    for err in exc.errors()[:3]:
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["loc"]:  # one setting: name it as the flag the user would type
            flag = "--" + str(err["loc"][0]).replace("_", "-")
            message = f"{flag}: {message} (got {err['input']!r})"
        parts.append(message)
    return "; ".join(parts)
