"""examples/orca.sh at a tiny size on the real engine and the default model: seed tasks ->
respond --pack explain -> train sft, each step writing what the next one needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from camelid.packs import load_pack
from camelid.stages.respond import system_messages
from tests.engine.test_recipes import is_model_dir, rows, run_recipe

pytestmark = pytest.mark.engine


def test_orca_recipe(tmp_path: Path) -> None:
    result = run_recipe("orca.sh", tmp_path, SIZE="4", STEPS="1", MAX_TOKENS="128")
    tasks, explained = rows(tmp_path / "tasks.jsonl"), rows(tmp_path / "explained.jsonl")
    assert len(tasks) == 4 and 1 <= len(explained) <= 4
    menu = {m.name: m.text for m in system_messages.load(load_pack("explain"))}
    for record in explained:
        assert record["output"].strip()
        assert record["system"] == menu[record["system_message"]]  # the message it was shown
        entry = record["lineage"][-1]
        assert (entry["pack"], entry["system_message"]) == ("explain", record["system_message"])
    assert is_model_dir(tmp_path / "sft")
    assert f"orca: {len(explained)} of 4 tasks explained" in result.stderr
