"""The CLI as a user meets it: help for every command, --version, pipes that end early."""

from __future__ import annotations

import subprocess
import sys

import pytest

from camelid import __version__
from tests.conftest import ROOT, camelid

COMMANDS = [
    "seed",
    "self-instruct",
    "redteam",
    "respond",
    "backtranslate",
    "score",
    "filter",
    "dedup",
    "pairs",
    "export",
    "train",
    "report",
    "packs list",
    "packs show",
    "packs render",
    "models",
    "models prepare",
]


def test_version() -> None:
    result = camelid("--version")
    assert (result.returncode, result.stdout) == (0, f"camelid {__version__}\n")


def test_top_help_lists_every_command_with_a_line() -> None:
    out = camelid("--help").stdout
    assert "Exit codes: 0 ok, 1 error, 2 usage" in out
    commands = out.split("Commands:")[1]
    for name in ("seed", "respond", "packs", "models"):
        line = next(line for line in commands.splitlines() if line.split()[:1] == [name])
        assert len(line.split()) > 3, f"{name} has no description"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_example_and_fields(command: str) -> None:
    result = camelid(*command.split(), "--help")
    assert result.returncode == 0
    for part in ("Example:  camelid ", "Reads: ", "Writes: ", "Exit codes: "):
        assert part in result.stdout, f"{command} --help lacks {part!r}"


def test_help_does_not_import_vllm_or_torch() -> None:
    code = "import sys; from camelid.app import app; print('vllm' in sys.modules, 'torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "False False\n"


def test_pipe_into_head_ends_quietly() -> None:
    seeds = ROOT.parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
    cmd = f"{sys.executable} -m camelid seed {seeds} {seeds} {seeds} {seeds} | head -1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith('{"id":"') and result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "Broken pipe" not in result.stderr


def test_unknown_flag_is_a_usage_error() -> None:
    result = camelid("seed", "--bogus")
    assert result.returncode == 2
    assert "No such option: --bogus" in result.stderr
