"""A plain (non-editable) `pip install .` into a fresh venv finds every pack and schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=900
    )
    assert result.returncode == 0, f"{args}: {result.stderr[-2000:]}"
    return result


@pytest.mark.slow
def test_wheel_install_in_fresh_venv_finds_packs_and_schemas(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, ROOT)
    [wheel] = wheels.glob("camelid-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    elsewhere = tmp_path / "elsewhere"  # not the checkout: only the installed files can be found
    elsewhere.mkdir()

    listed = run(venv / "bin" / "camelid", "packs", "list", cwd=elsewhere).stdout
    expected = sorted(p.name for p in (ROOT / "prompts").iterdir() if (p / "pack.yaml").is_file())
    assert [line.split()[0] for line in listed.splitlines()] == expected

    rendered = run(
        venv / "bin" / "python", "-c",
        "import camelid.packs as p, camelid.resources as r, pathlib; "
        "print(p.builtin_packs_dir()); print(sorted(x.name for x in r.builtin_dir('schemas').iterdir()))",
        cwd=elsewhere,
    ).stdout.splitlines()  # fmt: skip
    assert rendered[0].startswith(str(venv)) and "site-packages" in rendered[0]
    assert rendered[1] == "['pack.schema.json', 'record.schema.json']"
    seeds = run(venv / "bin" / "camelid", "seed", "--builtin", "--limit", "1", cwd=elsewhere).stdout
    assert seeds.count("\n") == 1 and '"instruction"' in seeds
