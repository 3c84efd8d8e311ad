"""LoRA adapter directories as models: merged into their base once, on demand, into the cache.

`camelid train` (LoRA, without --merge) writes an adapter directory: adapter_config.json and the
adapter weights, the tokenizer, and camelid-train.json naming the base model. Every generation
command takes it as --model: `resolve_model` sees an adapter directory (adapter_config.json, no
config.json) and hands the engine $CAMELID_CACHE/merged/NAME-HASH instead, a normal model
directory built here the first time (seconds for the default model) and reused while the
adapter is unchanged. `train --merge` writes the same merge into the output directory.
torch, transformers and peft are imported only when merging.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from camelid.errors import CamelidError, UsageError

try:
    import fcntl
except ImportError:  # not POSIX: no lock, the final rename is still atomic
    fcntl = None  # type: ignore[assignment]

ADAPTER_CONFIG = "adapter_config.json"
TRAIN_MARKER = "camelid-train.json"
MERGED_MARKER = "camelid-merged.json"
HASHED = (ADAPTER_CONFIG, "adapter_model.safetensors", "adapter_model.bin", TRAIN_MARKER)


def local_model(path: Path) -> str:
    """A local model directory for the engines: itself, or an adapter's merged copy."""
    if trained_task(path) == "reward":
        raise UsageError(
            f"model directory '{path}' is a reward model (`camelid train --task reward`): it "
            "scores answers and does not write them; use it with `camelid score --reward-model`"
        )
    if is_adapter_dir(path):
        return merged_model(path)
    if (path / TRAIN_MARKER).is_file() and not (path / "config.json").is_file():
        raise UsageError(
            f"model directory '{path}' holds no model yet: its training did not finish "
            "(run the same `camelid train` again to resume it)"
        )
    return str(path)


def trained_task(path: Path) -> str | None:
    """The task `camelid train` wrote this directory for (None: not written by train)."""
    try:
        task = json.loads((path / TRAIN_MARKER).read_text()).get("task")
    except (OSError, ValueError, AttributeError):
        return None
    return task if isinstance(task, str) else None


def is_adapter_dir(path: Path) -> bool:
    return (path / ADAPTER_CONFIG).is_file() and not (path / "config.json").is_file()


def base_model(adapter: Path) -> str:
    """The model the adapter was trained on: as `train` recorded it, else as peft did."""
    for name, key in ((TRAIN_MARKER, "model"), (ADAPTER_CONFIG, "base_model_name_or_path")):
        try:
            value = json.loads((adapter / name).read_text()).get(key)
        except (OSError, ValueError):
            continue
        if isinstance(value, str) and value:
            return value
    raise CamelidError(f"{adapter}: LoRA adapter without a base model in {ADAPTER_CONFIG}")


def merged_model(adapter: Path, log: Callable[[str], None] | None = None) -> str:
    """The adapter merged into its base, as a cached model directory (built once)."""
    from camelid.models import cache_dir, resolve_model

    base = resolve_model(base_model(adapter))  # a base that is itself an adapter merges first
    digest = hashlib.sha256(base.encode())
    for name in HASHED:
        if (adapter / name).is_file():
            digest.update(name.encode() + (adapter / name).read_bytes())
    root = cache_dir() / "merged"
    target = root / f"{adapter.resolve().name}-{digest.hexdigest()[:16]}"
    if (target / MERGED_MARKER).is_file():
        return str(target)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{target.name}.lock", "w") as lock:
        if fcntl:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one merge at a time; the others reuse it
        if (target / MERGED_MARKER).is_file():
            return str(target)
        (log or _log)(f"merging LoRA adapter {adapter} into {base} (once): {target}")
        build = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=root))
        try:
            merge(adapter, base, build / "model")
            shutil.rmtree(target, ignore_errors=True)
            (build / "model").rename(target)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return str(target)


def merge(adapter: Path, base: str, out: Path) -> None:
    """Write base + adapter as one model directory, in the base's dtype, marker last."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    try:
        import torch
        from peft import PeftModel
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise CamelidError(
            f"merging a LoRA adapter needs torch, transformers and peft ({exc}): "
            "pip install 'camelid[train]'"
        ) from None
    dtype = getattr(AutoConfig.from_pretrained(base), "dtype", None) or torch.float32
    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(adapter)).save_pretrained(out)
    marker = {"adapter": str(adapter.resolve()), "base": base}
    (out / MERGED_MARKER).write_text(json.dumps(marker, indent=1) + "\n")


def _log(message: str) -> None:
    print(f"camelid: {message}", file=sys.stderr, flush=True)
