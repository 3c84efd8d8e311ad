"""What this machine's CPU can do, and the dtype that runs a model fastest on it.

Measured with raw vLLM on two 2-core machines: without bf16 units (AVX2 only), 16 prompts of
~430 tokens took 249.9 s in bfloat16 and 48.1 s in float32 (5.2x); on an AMD EPYC with
avx512_bf16, float32 ran the same workloads at 0.67-0.75x the speed of bf16 (cpu_speed.py). A
CPU without native bf16 emulates it, so float32 wins there; with AVX-512 BF16 or AMX, bf16 is
the faster (and half the memory). GPUs keep the model's own dtype.
"""

from __future__ import annotations

from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16")
DTYPES = ("auto", "float32", "bfloat16", "float16")


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The feature flags of the first CPU in /proc/cpuinfo (empty where there is none)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def has_native_bf16(flags: set[str]) -> bool:
    return any(flag in flags for flag in BF16_FLAGS)


def choose_dtype(requested: str, on_cpu: bool, flags: set[str] | None = None) -> str:
    """The dtype to load the model in: the request, or for "auto" the fastest on this device."""
    if requested != "auto":
        return requested
    if not on_cpu:
        return "auto"  # the model's own dtype (bf16 for the built-in models)
    return "bfloat16" if has_native_bf16(cpu_flags() if flags is None else flags) else "float32"
