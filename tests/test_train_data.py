"""`camelid train` without a model: records -> TRL rows, settings, output directory checks, and
the errors a user meets before anything loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from camelid.errors import BadInputError, UsageError
from camelid.io import to_record
from camelid.packs import load_pack
from camelid.records import Record
from camelid.stages.backtranslate.stage import backward_messages
from camelid.stages.backtranslate.tags import AUGMENTED_TAG, SEED_TAG
from camelid.stages.pairs import PairOptions, make_pair
from camelid.stages.train.config import resolve_train_config
from camelid.stages.train.data import Prompting, training_rows
from camelid.stages.train.output import OutputDir

PLAIN = load_pack("plain")
DEFAULT_SYSTEM = "You are a helpful assistant. Answer accurately and to the point."
# Runs the real CLI with `train` registered (a no-op once app.py registers it itself).
CLI = (
    "import sys, camelid.app as a\n"
    "from camelid.commands import train\n"
    "if not any(c.name == 'train' for c in a.app.registered_commands):\n"
    "    train.register(a.app)\n"
    "a.main(sys.argv[1:])\n"
)


def train_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-c", CLI, "train", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=900)  # fmt: skip


def rows(task: str, *records: dict[str, Any], tags: bool = False) -> list[dict[str, Any]]:
    prompting = None if task == "backward" else Prompting(PLAIN, humpback_tags=tags)
    return training_rows([Record.model_validate(r) for r in records], task, prompting)


def system(text: str) -> dict[str, str]:
    return {"role": "system", "content": text}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def test_sft_prompt_is_what_respond_sends_and_the_answer_the_completion() -> None:
    record = {"instruction": "Sum these.", "input": "2, 3", "output": "5"}
    assert rows("sft", record) == [
        {"prompt": [system(DEFAULT_SYSTEM), user("Sum these.\n\n2, 3")], "completion": [assistant("5")]}
    ]  # fmt: skip
    assert rows("sft", record)[0]["prompt"] == PLAIN.render(Record.model_validate(record))


def test_sft_system_prompt_record_first_then_humpback_tag_then_pack_default() -> None:
    seed = {"instruction": "Q", "output": "A", "source": "seed"}
    augmented = {"instruction": "Q", "output": "A", "source": "augmented"}
    own = {"instruction": "Q", "output": "A", "source": "seed", "system": "Be terse."}
    other = {"instruction": "Q", "output": "A", "source": "generated"}
    systems = [row["prompt"][0]["content"] for row in rows("sft", seed, augmented, own, other, tags=True)]  # fmt: skip
    assert systems == [SEED_TAG, AUGMENTED_TAG, "Be terse.", DEFAULT_SYSTEM]
    untagged = [row["prompt"][0]["content"] for row in rows("sft", seed, own)]
    assert untagged == [DEFAULT_SYSTEM, "Be terse."]


def test_sft_messages_give_one_row_per_assistant_turn() -> None:
    record = {
        "system": "Be kind.",
        "messages": [user("Hi"), assistant("Hello!"), user("Bye"), assistant("Goodbye!")],
    }
    turns = [system("Be kind."), user("Hi"), assistant("Hello!"), user("Bye")]
    assert rows("sft", record) == [
        {"prompt": turns[:2], "completion": [assistant("Hello!")]},
        {"prompt": turns, "completion": [assistant("Goodbye!")]},
    ]
    own = {"system": "ignored", "messages": [system("Mine."), user("Hi"), assistant("Yo")]}
    assert rows("sft", own, tags=True) == [
        {"prompt": [system("Mine."), user("Hi")], "completion": [assistant("Yo")]}
    ]
    # No system anywhere: none added, the model's chat template decides.
    bare = {"messages": [user("Hi"), assistant("Yo")]}
    assert rows("sft", bare) == [{"prompt": [user("Hi")], "completion": [assistant("Yo")]}]


def test_backward_row_is_the_backward_pack_prompt_and_the_instruction() -> None:
    record = {"instruction": "Explain heaps.", "output": "A heap is a tree.", "source": "seed"}
    [row] = rows("backward", record)
    assert row == {"prompt": [user("A heap is a tree.")], "completion": [assistant("Explain heaps.")]}  # fmt: skip
    assert row["prompt"] == backward_messages("A heap is a tree.")
    assert row["prompt"] == load_pack("backward").render(Record.model_validate(record))
    with_input = {"instruction": "Translate.", "input": "Hallo", "output": "Hello"}
    assert rows("backward", with_input)[0]["completion"] == [assistant("Translate.\n\nHallo")]


def test_dpo_rows_from_camelid_pairs() -> None:
    scored = Record.model_validate({
        "instruction": "Name a colour.", "system": "Be brief.",
        "completions": [{"text": "Red.", "scores": {"q": 5}}, {"text": "Hm.", "scores": {"q": 1}}],
    })  # fmt: skip
    pair = make_pair(scored, PairOptions())
    assert isinstance(pair, Record)
    assert training_rows([pair], "dpo", Prompting(PLAIN)) == [
        {"prompt": [system("Be brief."), user("Name a colour.")],
         "chosen": [assistant("Red.")], "rejected": [assistant("Hm.")]}
    ]  # fmt: skip


def test_dpo_prompt_field_and_whole_conversations() -> None:
    text = {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "No."}
    turns = {"prompt": [user("Say hi.")], "chosen": "Hi!", "rejected": "No."}
    whole = {
        "chosen": [user("Say hi."), assistant("Hi!")],
        "rejected": [user("Say hi."), assistant("No.")],
    }
    assert rows("dpo", text, turns, whole) == [
        {"prompt": [system(DEFAULT_SYSTEM), user("Say hi.")], "chosen": [assistant("Hi!")],
         "rejected": [assistant("No.")]},
        {"prompt": [user("Say hi.")], "chosen": [assistant("Hi!")], "rejected": [assistant("No.")]},
        {"prompt": [user("Say hi.")], "chosen": [assistant("Hi!")], "rejected": [assistant("No.")]},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("task", "record", "problem"),
    [
        ("dpo", {"instruction": "Q", "output": "A"}, "record has no chosen/rejected, which --task dpo needs"),
        ("dpo", {"instruction": "Q", "chosen": "A"}, "record has no rejected, which --task dpo needs"),
        ("dpo", {"chosen": "A", "rejected": "B"}, "record has no prompt or instruction, which --task dpo needs"),
        ("dpo", {"prompt": [1], "chosen": "A", "rejected": "B"},
         'field "prompt": expected a string or a list of {role, content} turns'),
        ("sft", {"instruction": "Q"}, "record has no output, which --task sft needs"),
        ("sft", {"output": "A"}, "record has no instruction, which --task sft needs "
         "(bare segments get one from `camelid backtranslate`)"),
        ("sft", {"instruction": " ", "output": "A"}, "record has no instruction, which --task sft "
         "needs (bare segments get one from `camelid backtranslate`)"),
        ("sft", {"messages": [user("Hi")]},
         "record's messages have no assistant turn after a user turn, which --task sft needs"),
        ("dpo", {"instruction": "Q", "chosen": "A", "rejected": "A"},
         "chosen and rejected are the same, which --task dpo cannot learn from"),
        ("sft", {"messages": [user("Hi"), {"role": "tool", "content": "x"}]},
         'messages.1: role "tool" is not system, user or assistant'),
        ("sft", {"tags": ["x"]}, "record has no instruction/output or messages, which --task sft needs"),
        ("backward", {"output": "A"}, "record has no instruction, which --task backward needs"),
        ("backward", {}, "record has no instruction/output, which --task backward needs"),
    ],
)  # fmt: skip
def test_wrong_shape_names_file_and_line(task: str, record: dict[str, Any], problem: str) -> None:
    good = to_record("data.jsonl", 1, {"instruction": "Q", "output": "A", "chosen": "A", "rejected": "B"})  # fmt: skip
    bad = to_record("data.jsonl", 2, record)
    prompting = None if task == "backward" else Prompting(PLAIN)
    with pytest.raises(BadInputError) as caught:
        training_rows([good, bad], task, prompting)
    assert str(caught.value) == f"data.jsonl:2: {problem}"
    assert caught.value.exit_code == 65


def test_settings_flags_over_config_over_defaults(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("task: sft\noutput: out\nmax-steps: 9\nbatch_size: 2\nweight_decay: 0.0\n")
    settings = resolve_train_config({"max_steps": 3, "lr": None}, str(config))
    assert (settings.max_steps, settings.batch_size, settings.weight_decay) == (3, 2, 0.0)
    # Paper defaults: Humpback's 1e-5 and dropout 0.1 for full fine-tuning, LoRA's own rate.
    assert (settings.learning_rate, settings.dropout_rate, settings.grad_accum) == (2e-4, 0.1, 4)
    full = resolve_train_config({"task": "sft", "output": "o", "full": True})
    dpo = resolve_train_config({"task": "dpo", "output": "o", "full": True})
    assert (full.learning_rate, dpo.learning_rate, dpo.dropout_rate, dpo.beta) == (1e-5, 5e-7, 0.0, 0.1)  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "config", "message"),
    [
        ({"output": "o"}, None, "--task is required (on the command line or in --config)"),
        ({"task": "sft"}, None, "--output/-o is required (on the command line or in --config)"),
        ({"task": "rl", "output": "o"}, None, "--task: Input should be 'sft', 'backward', 'dpo' or 'reward' (got 'rl')"),
        ({"task": "sft", "output": "o", "full": True, "merge": True}, None,
         "--merge is for LoRA runs; --full already writes a whole model"),
        ({"task": "backward", "output": "o", "humpback_tags": True}, None,
         "--humpback-tags is for sft and dpo; the backward prompt is the segment alone"),
        ({}, "task: sft\noutput: o\nlearning_rate: 1\n", "unknown setting learning_rate"),
    ],
)  # fmt: skip
def test_bad_settings_are_usage_errors(
    tmp_path: Path, flags: dict[str, Any], config: str | None, message: str
) -> None:
    path = None
    if config is not None:
        path = tmp_path / "c.yaml"
        path.write_text(config)
    with pytest.raises(UsageError) as caught:
        resolve_train_config(flags, str(path) if path else None)
    assert message in str(caught.value)


def test_output_directory_checks(tmp_path: Path) -> None:
    settings = resolve_train_config({"task": "sft", "output": str(tmp_path / "m")})
    out = OutputDir(str(tmp_path / "m"))
    assert out.check(settings) is None  # new directory: nothing to resume
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "weights.bin").write_text("not ours")
    with pytest.raises(UsageError, match=r"exists and is not a camelid train directory"):
        out.check(settings)
    (tmp_path / "m" / "weights.bin").unlink()
    out.start(settings, rows=3)
    checkpoint = out.checkpoints / "checkpoint-7"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text("{}")
    (out.checkpoints / "checkpoint-12").mkdir()  # no state: an interrupted save, not resumable
    assert out.check(settings) == checkpoint
    dpo = resolve_train_config({"task": "dpo", "output": str(out.path)})
    with pytest.raises(UsageError) as caught:
        out.check(dpo)
    assert str(caught.value) == (
        f"-o {out.path}: its checkpoints are from --task sft LoRA on smollm2-135m-instruct, this "
        "run is --task dpo LoRA on smollm2-135m-instruct; use --no-resume to start over, or another -o"
    )
    fresh = resolve_train_config({"task": "dpo", "output": str(out.path), "resume": False})
    assert out.check(fresh) is None
    out.start(fresh, rows=3)
    assert not out.checkpoints.exists()
    with pytest.raises(UsageError, match=r"^--resume: .* has no checkpoint to resume from$"):
        out.check(resolve_train_config({"task": "dpo", "output": str(out.path), "resume": True}))


def test_cli_refuses_wrong_data_before_loading_any_model(tmp_path: Path) -> None:
    data = tmp_path / "answers.jsonl"
    data.write_text('{"instruction": "Q", "output": "A"}\n\n{"instruction": "Q2", "output": "B"}\n')
    out = tmp_path / "model"
    # A model that does not exist: had it been looked at first, this would be a usage error.
    result = train_cli("--task", "dpo", str(data), "-o", str(out), "--model", "./no-such-model")
    assert result.returncode == 65, result.stderr
    assert result.stderr == (
        f"camelid: error: {data}:1: record has no chosen/rejected, which --task dpo needs\n"
    )
    assert result.stdout == "" and not out.exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    result = train_cli("--task", "sft", str(empty), "-o", str(out))
    assert (result.returncode, result.stderr) == (
        65, f"camelid: error: {empty}: no records to train on\n"
    )  # fmt: skip
    result = train_cli("--task", "sft", str(data), "-o", str(out), "--full", "--merge")
    assert result.returncode == 2
    assert "--merge is for LoRA runs" in result.stderr


def test_train_command_imports_no_training_library() -> None:
    code = (
        "import sys; import camelid.commands.train, camelid.adapters, camelid.models; "
        "print(sorted(m for m in ('torch', 'trl', 'peft', 'transformers', 'datasets') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "[]\n", result.stderr


def test_help_has_example_and_fields() -> None:
    result = train_cli("--help")
    assert result.returncode == 0
    for part in ("Example:  camelid train", "Reads: ", "Writes: ", "Exit codes: "):
        assert part in result.stdout


def test_model_directories_from_train_as_models(tmp_path: Path) -> None:
    from camelid import adapters
    from camelid.models import resolve_model

    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "camelid-train.json").write_text('{"task": "sft", "complete": false}')
    with pytest.raises(UsageError) as caught:
        resolve_model(str(unfinished))
    assert str(caught.value) == (
        f"model directory '{unfinished}' holds no model yet: its training did not finish "
        "(run the same `camelid train` again to resume it)"
    )
    merged = tmp_path / "merged"  # --merge / --full: config.json beside the marker
    merged.mkdir()
    (merged / "camelid-train.json").write_text("{}")
    (merged / "config.json").write_text("{}")
    assert resolve_model(str(merged)) == str(merged)
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"base_model_name_or_path": "/abs/base"}')
    assert adapters.is_adapter_dir(adapter) and not adapters.is_adapter_dir(merged)
    assert adapters.base_model(adapter) == "/abs/base"  # peft's record
    (adapter / "camelid-train.json").write_text('{"model": "smollm2-135m-instruct"}')
    assert adapters.base_model(adapter) == "smollm2-135m-instruct"  # train's record wins
