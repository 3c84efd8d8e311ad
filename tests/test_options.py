"""Engine options: flags over --config over CAMELID_* environment, refused before any load."""

from __future__ import annotations

from pathlib import Path

import pytest

from camelid.engines.options import resolve_options
from camelid.errors import UsageError
from tests.conftest import camelid


def test_precedence_flags_config_environment(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("model: from-config\ntemperature: 0.2\nmax-tokens: 99\n")
    monkeypatch.setenv("CAMELID_MODEL", "from-env")
    monkeypatch.setenv("CAMELID_TOP_P", "0.5")
    monkeypatch.setenv("CAMELID_TEMPERATURE", "1.5")
    options = resolve_options({"temperature": 0.9, "model": None}, str(config))
    assert (options.model, options.temperature, options.top_p, options.max_tokens) == (
        "from-config", 0.9, 0.5, 99,
    )  # fmt: skip
    assert resolve_options({}).model == "from-env"


def test_every_engine_setting_can_come_from_the_environment(monkeypatch) -> None:
    env = {"DTYPE": "float32", "CPU_KV_CACHE_GB": "3", "ENFORCE_EAGER": "false",
           "TENSOR_PARALLEL_SIZE": "2", "API_KEY_ENV": "MY_KEY", "REQUEST_TIMEOUT": "9",
           "MAX_RETRIES": "1", "PREFIX_CACHING": "0"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(f"CAMELID_{name}", value)
    options = resolve_options({})
    assert (options.dtype, options.cpu_kv_cache_gb, options.enforce_eager) == ("float32", 3, False)
    assert (options.tensor_parallel_size, options.api_key_env) == (2, "MY_KEY")
    assert (options.request_timeout, options.max_retries, options.prefix_caching) == (9, 1, False)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"engine": "openai"}, "--engine openai needs --base-url (e.g. http://127.0.0.1:8000/v1)"),
        ({"base_url": "http://x"}, "--base-url is only for --engine openai, not --engine vllm"),
        ({"engine": "scripted"}, "--engine scripted needs --replies FILE"),
        ({"engine": "tgi"}, "--engine: Input should be 'vllm', 'openai' or 'scripted' (got 'tgi')"),
        ({"top_p": 0}, "--top-p: Input should be greater than 0 (got 0)"),
        (
            {"gpu_memory_utilization": 1.5},
            "--gpu-memory-utilization: Input should be less than or equal to 1 (got 1.5)",
        ),
    ],
)
def test_conflicts_and_invalid_values(flags: dict, message: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve_options(flags)
    assert str(err.value) == message


def test_bad_environment_value_names_the_setting(monkeypatch) -> None:
    monkeypatch.setenv("CAMELID_MAX_TOKENS", "lots")
    with pytest.raises(UsageError, match=r"^--max-tokens: Input should be a valid integer"):
        resolve_options({})


def test_config_typos_and_missing_file(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("temprature: 0.3\n")
    with pytest.raises(
        UsageError, match=r"^--config .*c.yaml: unknown setting temprature \(known: "
    ):
        resolve_options({}, str(config))
    with pytest.raises(UsageError, match="no such file"):
        resolve_options({}, str(tmp_path / "none.yaml"))


def test_cli_refuses_before_loading_a_model(tmp_path: Path) -> None:
    # A vllm engine would take tens of seconds to load; these fail at once with exit 2.
    seeds = tmp_path / "s.jsonl"
    seeds.write_text('{"instruction": "hi"}\n')
    result = camelid("respond", str(seeds), "--temperature", "-1")
    assert (result.returncode, result.stderr) == (
        2, "camelid: error: --temperature: Input should be greater than or equal to 0 (got -1.0)\n",
    )  # fmt: skip
    result = camelid("respond", str(seeds), "--model", "./no/such/dir")
    assert result.returncode == 2
    assert result.stderr == (
        "camelid: error: model directory './no/such/dir' does not exist (or is not a directory)\n"
    )


def test_unreachable_hub_is_said_plainly(tmp_path: Path) -> None:
    seeds = tmp_path / "s.jsonl"
    seeds.write_text('{"instruction": "hi"}\n')
    result = camelid("respond", str(seeds), "--model", "nobody/no-such-model",
                     env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "camelid: error: model 'nobody/no-such-model' is not a local directory and the Hugging "
        "Face hub is unreachable from this machine; pass a local model directory or a built-in "
        "name (camelid models)\n"
    )


def test_dtype_is_float32_on_cpus_without_bf16_and_bf16_where_they_have_it() -> None:
    from camelid.engines.device import choose_dtype, cpu_flags

    avx2 = cpu_flags("processor\t: 0\nflags\t\t: fpu sse avx avx2 fma\n")
    amx = cpu_flags("flags\t\t: avx2 avx512f avx512_bf16 amx_bf16\n")
    assert "avx2" in avx2 and choose_dtype("auto", on_cpu=True, flags=avx2) == "float32"
    assert choose_dtype("auto", on_cpu=True, flags=amx) == "bfloat16"
    assert choose_dtype("auto", on_cpu=False, flags=avx2) == "auto"  # a GPU: the model's own
    assert choose_dtype("bfloat16", on_cpu=True, flags=avx2) == "bfloat16"  # --dtype wins


def test_a_served_model_in_the_environment_gives_way_to_another_engine(monkeypatch) -> None:
    monkeypatch.setenv("CAMELID_ENGINE", "openai")
    monkeypatch.setenv("CAMELID_BASE_URL", "http://127.0.0.1:8000/v1")
    assert resolve_options({}).base_url == "http://127.0.0.1:8000/v1"
    local = resolve_options({"engine": "vllm", "model": "runs/m1"})
    assert (local.engine, local.base_url, local.model) == ("vllm", None, "runs/m1")
    with pytest.raises(UsageError, match="--base-url is only for --engine openai"):
        resolve_options({"engine": "vllm", "base_url": "http://x"})  # given, not inherited
