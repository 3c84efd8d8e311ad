"""`camelid export`: exact rows per format, rejects and --strict, flags, and each file read back
by its real consumer (datasets' json loader, load_from_disk, TRL's data utilities and trainers)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from camelid.records import Record
from camelid.stages.export.formats import FORMATS, user_text
from tests.conftest import camelid

SEED = {"id": "s1", "instruction": "Name a colour.", "output": "Red.", "system": "Be brief."}
INPUT = {
    "id": "s2",
    "instruction": "Translate to English.",
    "input": "bonjour",
    "output": "hello",
    "source": "seed",
}
CHAT = {
    "id": "c1",
    "messages": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!", "model": "m1"},
        {"role": "user", "content": "And bye?"},
        {"role": "assistant", "content": "Bye!"},
    ],
}
AUGMENTED = {
    "id": "a1",
    "instruction": "What is a llama?",
    "output": "A camelid.",
    "source": "augmented",
}
# As `camelid pairs` writes them: texts, with the scores and lineage beside.
PAIR = {
    "id": "p1",
    "system": "Be fair.",
    "instruction": "Pick a number.",
    "input": "1 or 2",
    "chosen": "2.",
    "rejected": "Neither.",
    "chosen_score": 5.0,
    "rejected_score": 2.0,
    "lineage": [{"stage": "pairs", "rejected": "random", "min_margin": 0.0, "seed": 0}],
}
PAIR2 = {"id": "p2", "instruction": "Say hi.", "chosen": "Hi!", "rejected": "Go away."}
RECORDS = [SEED, INPUT, CHAT, AUGMENTED]
NO_OUTPUT = {"id": "n1", "instruction": "No answer yet."}

U = "user"


def t(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


SEED_TURNS = [t("system", "Be brief."), t(U, "Name a colour."), t("assistant", "Red.")]
INPUT_TURNS = [t(U, "Translate to English.\n\nbonjour"), t("assistant", "hello")]
CHAT_TURNS = [t(U, "Hi"), t("assistant", "Hello!"), t(U, "And bye?"), t("assistant", "Bye!")]
LLAMA_TURNS = [t(U, "What is a llama?"), t("assistant", "A camelid.")]
MESSAGES = [{"messages": turns} for turns in (SEED_TURNS, INPUT_TURNS, CHAT_TURNS, LLAMA_TURNS)]
PREFERENCE = [
    {
        "prompt": [t("system", "Be fair."), t(U, "Pick a number.\n\n1 or 2")],
        "chosen": [t("assistant", "2.")],
        "rejected": [t("assistant", "Neither.")],
    },
    {
        "prompt": [t(U, "Say hi.")],
        "chosen": [t("assistant", "Hi!")],
        "rejected": [t("assistant", "Go away.")],
    },
]
EXPECTED: dict[str, list[dict[str, Any]]] = {
    "messages": MESSAGES,
    "openai": MESSAGES,
    "prompt-completion": [
        {"prompt": m["messages"][:-1], "completion": m["messages"][-1:]} for m in MESSAGES
    ],
    "sharegpt": [
        {
            "conversations": [
                {
                    "from": {"system": "system", "user": "human", "assistant": "gpt"}[x["role"]],
                    "value": x["content"],
                }
                for x in m["messages"]
            ]
        }
        for m in MESSAGES
    ],  # fmt: skip
}


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def row(fmt: str, data: dict[str, Any], humpback_tags: bool = False) -> Any:
    return FORMATS[fmt](Record.model_validate(data), humpback_tags)


# --- the rows -------------------------------------------------------------------------------


def test_user_turn_is_what_the_plain_pack_sends() -> None:
    from camelid.packs import load_pack

    plain = load_pack("plain")
    for data in (SEED, INPUT, PAIR):
        record = Record.model_validate(data)
        assert plain.render(record)[1] == t(U, user_text(record))  # type: ignore[index]
    assert user_text(Record(instruction="Do it.", input="  ")) == "Do it."


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_conversation_formats_exact(tmp_path: Path, fmt: str) -> None:
    result = camelid("export", "--format", fmt, str(jsonl(tmp_path / "in.jsonl", RECORDS)))
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout) == EXPECTED[fmt]
    assert result.stderr.startswith("export: read 4, wrote 4, rejected 0 in ")


def test_messages_bytes_on_stdout(tmp_path: Path) -> None:
    result = camelid("export", "-f", "messages", str(jsonl(tmp_path / "in.jsonl", [SEED])))
    assert result.stdout == (
        '{"messages":[{"role":"system","content":"Be brief."},'
        '{"role":"user","content":"Name a colour."},{"role":"assistant","content":"Red."}]}\n'
    )


def test_preference_from_pairs_output(tmp_path: Path) -> None:
    out = tmp_path / "dpo.jsonl"
    result = camelid(
        "export",
        "-f",
        "preference",
        str(jsonl(tmp_path / "in.jsonl", [PAIR, PAIR2])),
        "-o",
        str(out),
    )
    assert result.returncode == 0 and result.stdout == ""
    assert lines(out.read_text()) == PREFERENCE


def test_preference_prompts_from_a_prompt_field_or_shared_turns() -> None:
    convo = {
        "chosen": [t(U, "Hi"), t("assistant", "Hello!")],
        "rejected": [t(U, "Hi"), t("assistant", "What?")],
    }
    assert row("preference", convo) == {
        "prompt": [t(U, "Hi")],
        "chosen": [t("assistant", "Hello!")],
        "rejected": [t("assistant", "What?")],
    }
    given = {"prompt": "Why?", "chosen": "Because.", "rejected": "No.", "source": "seed"}
    assert row("preference", given, humpback_tags=True)["prompt"] == [
        t("system", "Respond the way a helpful AI assistant would."),
        t(U, "Why?"),
    ]
    turns = {"prompt": [t(U, "Why?")], "chosen": "Because.", "rejected": "No."}
    assert row("preference", turns)["prompt"] == [t(U, "Why?")]


def test_system_turn_from_the_record_unless_the_conversation_has_one() -> None:
    chat = {"system": "Be kind.", "messages": CHAT["messages"][:2]}
    assert row("messages", chat) == {
        "messages": [t("system", "Be kind."), t(U, "Hi"), t("assistant", "Hello!")]
    }
    own = {"system": "Be kind.", "source": "seed", "messages": [t("system", "Own."), *CHAT_TURNS]}
    assert row("openai", own, humpback_tags=True) == {
        "messages": [t("system", "Own."), *CHAT_TURNS]
    }
    assert row("alpaca", own | {"messages": own["messages"][:3]}) == {
        "instruction": "Hi",
        "input": "",
        "output": "Hello!",
        "system": "Own.",
    }


def test_alpaca_is_one_json_array(tmp_path: Path) -> None:
    out = tmp_path / "alpaca.json"
    records = [SEED, INPUT, {"messages": CHAT["messages"][:2]}]
    result = camelid(
        "export", "-f", "alpaca", str(jsonl(tmp_path / "in.jsonl", records)), "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text() == (
        "[\n"
        '{"instruction":"Name a colour.","input":"","output":"Red.","system":"Be brief."},\n'
        '{"instruction":"Translate to English.","input":"bonjour","output":"hello"},\n'
        '{"instruction":"Hi","input":"","output":"Hello!"}\n'
        "]\n"
    )
    empty = camelid("export", "-f", "alpaca", input="")
    assert empty.returncode == 0 and empty.stdout == "[]\n"


def test_humpback_tags_only_where_there_is_no_system(tmp_path: Path) -> None:
    source = str(jsonl(tmp_path / "in.jsonl", [SEED, INPUT, AUGMENTED]))
    result = camelid("export", "-f", "alpaca", "--humpback-tags", source)
    assert [r.get("system") for r in json.loads(result.stdout)] == [
        "Be brief.",
        "Respond the way a helpful AI assistant would.",
        "Respond using knowledge found through a web search.",
    ]
    plain = camelid("export", "-f", "alpaca", source)
    assert [r.get("system") for r in json.loads(plain.stdout)] == ["Be brief.", None, None]


REJECTED = [
    (NO_OUTPUT, "messages", "record has no output"),
    ({"instruction": "x", "completions": [{"text": "y"}]}, "messages",
     "record has no output (it has completions: pick one with `camelid filter --best-of`)"),
    (PAIR2, "sharegpt", "record has no output (it is a preference pair: export it as preference)"),
    ({"output": "Web text."}, "openai",
     "record has no instruction (bare segments get one from `camelid backtranslate`)"),
    ({"messages": [t(U, "Hi"), t("assistant", "Hello"), t(U, "Still there?")]}, "prompt-completion",
     "messages end with a user turn, not an answer"),
    ({"messages": [t(U, "Hi"), t("tool", "{}")]}, "messages",
     'messages.1: role "tool" is not system, user or assistant'),
    ({"messages": [t(U, "Hi"), t("assistant", " ")]}, "messages", "messages.1: empty assistant turn"),
    ({"messages": [t("assistant", "Hello")]}, "messages", "messages have no user turn"),
    (CHAT, "alpaca", "messages hold 4 turns; alpaca holds one instruction and its output"),
    (SEED, "preference", "record has no chosen/rejected"),
    ({"instruction": "x", "completions": [{"text": "y"}], "chosen": "y"}, "preference",
     "record has no rejected (it has completions: make pairs with `camelid pairs`)"),
    ({"chosen": "a", "rejected": "b"}, "preference",
     "record has no instruction or prompt for its chosen/rejected"),
    ({"instruction": "x", "chosen": "a", "rejected": "a"}, "preference",
     "chosen and rejected are the same"),
    ({"chosen": [t(U, "a"), t("assistant", "b")], "rejected": [t(U, "c"), t("assistant", "d")]},
     "preference", "chosen and rejected conversations share no prompt turns to answer"),
    ({"prompt": [{"text": "x"}], "chosen": "a", "rejected": "b"}, "preference",
     'field "prompt": expected a string or a list of {role, content} turns'),
]  # fmt: skip


@pytest.mark.parametrize(("data", "fmt", "reason"), REJECTED)
def test_rejected_with_exact_reason(data: dict[str, Any], fmt: str, reason: str) -> None:
    assert row(fmt, data) == reason


def test_rejects_file_and_strict(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", [SEED, NO_OUTPUT, INPUT])
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    args = ["export", "-f", "messages", str(source), "-o", str(out)]
    result = camelid(*args, "--rejects", str(rejects))
    assert result.returncode == 0
    assert lines(out.read_text()) == [MESSAGES[0], MESSAGES[1]]
    assert lines(rejects.read_text()) == [
        {"stage": "export", "reason": "record has no output", "where": f"{source}:2",
         "record": NO_OUTPUT},
    ]  # fmt: skip
    out.unlink()
    strict = camelid(*args, "--strict")
    assert strict.returncode == 65
    assert strict.stderr == f"camelid: error: {source}:2: record has no output\n"
    assert not out.exists() and sorted(tmp_path.iterdir()) == sorted([source, rejects])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "messages", "--as", "preference"], "--as goes with --format hf only"),
        (["-f", "alpaca", "--test-size", "0.2"], "--test-size goes with --format hf only"),
        (["-f", "hf"], "--format hf writes a folder: give it with -o DIR"),
        (["-f", "hf", "-o", "-"], "--format hf writes a folder: give it with -o DIR"),
        (["-f", "hf", "-o", "d", "--test-size", "1.5"],
         "--test-size 1.5: give a fraction below 1 (0.1 is 10%) or a whole number of rows"),
        (["-f", "hf", "-o", "d", "--test-size", "4"], "--test-size 4 leaves no training rows from 4 rows"),
    ],
)  # fmt: skip
def test_flags_refused(tmp_path: Path, args: list[str], message: str) -> None:
    source = jsonl(tmp_path / "in.jsonl", RECORDS)
    result = camelid("export", str(source), *args, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"camelid: error: {message}\n")
    assert list(tmp_path.iterdir()) == [source]


def test_help_imports_neither_datasets_nor_trl() -> None:
    code = (
        "import sys\nfrom camelid.app import main\ntry:\n    main(['export', '--help'])\n"
        "except SystemExit:\n    pass\nprint(sorted({'datasets', 'trl', 'torch'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.endswith("[]\n") and "Example:  camelid export" in result.stdout


# --- the consumers --------------------------------------------------------------------------


def export_file(tmp_path: Path, fmt: str, records: list[dict[str, Any]], name: str) -> Path:
    out = tmp_path / name
    result = camelid(
        "export", "-f", fmt, str(jsonl(tmp_path / f"{name}.in", records)), "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize(
    "fmt", ["messages", "prompt-completion", "preference", "openai", "sharegpt", "alpaca"]
)
def test_datasets_json_loader_reads_every_file(tmp_path: Path, fmt: str) -> None:
    from datasets import load_dataset

    records = [PAIR, PAIR2] if fmt == "preference" else [SEED, INPUT]
    out = export_file(tmp_path, fmt, records, "data.json")
    loaded = load_dataset(
        "json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf")
    )
    expected = PREFERENCE if fmt == "preference" else [row(fmt, r) for r in records]
    if fmt == "alpaca":  # the loader gives every row every column
        expected = [{"system": None} | r for r in expected]
    assert loaded.to_list() == expected


def test_hf_folder_splits_and_replaces(tmp_path: Path) -> None:
    from datasets import load_from_disk

    many = [{"instruction": f"Say {i}.", "output": str(i)} for i in range(10)]
    source, folder = jsonl(tmp_path / "in.jsonl", many + [NO_OUTPUT]), tmp_path / "sft"
    args = ["export", "-f", "hf", str(source), "-o", str(folder), "--test-size", "0.25"]
    result = camelid(*args, "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and f"export: train 7, test 3 rows in {folder}\n" in result.stderr
    data = load_from_disk(str(folder))
    assert {name: len(split) for name, split in data.items()} == {"train": 7, "test": 3}
    together = data["train"].to_list() + data["test"].to_list()
    expected = [row("messages", r) for r in many]
    assert sorted(together, key=str) == sorted(expected, key=str)
    first_test = data["test"].to_list()

    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~mask  # not mkdtemp's 0700
    folder.chmod(0o750)
    again = camelid(*args, "--seed", "3")  # replaces the folder with the same split
    assert again.returncode == 0, again.stderr
    assert load_from_disk(str(folder))["test"].to_list() == first_test
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "sft"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750  # a replaced folder keeps its mode

    pairs = camelid("export", "-f", "hf", "--as", "preference", "--test-size", "0",
                    str(jsonl(tmp_path / "p.jsonl", [PAIR, PAIR2])), "-o", str(folder))  # fmt: skip
    assert pairs.returncode == 0, pairs.stderr
    assert load_from_disk(str(folder))["train"].to_list() == PREFERENCE
    assert list(load_from_disk(str(folder))) == ["train"]


def test_hf_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = camelid("export", "-f", "hf", "-o", str(tmp_path / "mine"), input=json.dumps(SEED))
    assert result.returncode == 2
    assert "exists and is not a datasets folder; give a new or empty folder" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    nothing = camelid("export", "-f", "hf", "-o", str(tmp_path / "d"), input=json.dumps(NO_OUTPUT))
    assert nothing.returncode == 65 and not (tmp_path / "d").exists()
    assert nothing.stderr.endswith("camelid: error: <stdin>: no rows to export (1 rejected)\n")


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from transformers import AutoTokenizer

    from camelid.models import resolve_model

    return AutoTokenizer.from_pretrained(str(resolve_model("smollm2-135m-instruct")))


def loaded(tmp_path: Path, fmt: str, records: list[dict[str, Any]]) -> Any:
    from datasets import load_dataset

    out = export_file(tmp_path, fmt, records, f"{fmt}.jsonl")
    return load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf"))


@pytest.mark.slow  # ~20 s, most of it importing transformers and torch
def test_trl_reads_the_files_as_they_are(tmp_path: Path, tokenizer: Any) -> None:
    from trl.data_utils import (
        is_conversational,
        is_conversational_from_value,
        maybe_apply_chat_template,
        maybe_convert_to_chatml,
    )

    messages = loaded(tmp_path, "messages", RECORDS)
    completions = loaded(tmp_path, "prompt-completion", RECORDS)
    for whole, split in zip(messages, completions, strict=True):
        assert is_conversational(whole) and is_conversational(split)
        text = maybe_apply_chat_template(whole, tokenizer)["text"]
        parts = maybe_apply_chat_template(split, tokenizer)
        assert parts["prompt"] + parts["completion"] == text  # the two layouts train alike
    assert maybe_apply_chat_template(completions[0], tokenizer) == {
        "prompt": "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nName a colour."
        "<|im_end|>\n<|im_start|>assistant\n",
        "completion": "Red.<|im_end|>\n",
    }
    preference = loaded(tmp_path, "preference", [PAIR])[0]
    assert is_conversational(preference)
    assert maybe_apply_chat_template(preference, tokenizer) == {
        "prompt": "<|im_start|>system\nBe fair.<|im_end|>\n<|im_start|>user\nPick a number.\n\n"
        "1 or 2<|im_end|>\n<|im_start|>assistant\n",
        "chosen": "2.<|im_end|>\n",
        "rejected": "Neither.<|im_end|>\n",
    }
    sharegpt = loaded(tmp_path, "sharegpt", RECORDS)
    roles = {"human": "user", "gpt": "assistant", "system": "system"}  # ShareGPT's names
    for shared, whole in zip(sharegpt, messages, strict=True):
        assert is_conversational_from_value(shared)
        chatml = maybe_convert_to_chatml(dict(shared))["messages"]
        assert [t(roles[m["role"]], m["content"]) for m in chatml] == whole["messages"]


@pytest.mark.slow
def test_trl_trainers_prepare_the_exports(tmp_path: Path, tokenizer: Any) -> None:
    """SFTTrainer and DPOTrainer tokenize the files without conversion (no training step)."""
    from transformers import AutoModelForCausalLM
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    from camelid.models import resolve_model

    model = AutoModelForCausalLM.from_pretrained(str(resolve_model("smollm2-135m-instruct")))
    common = {"report_to": [], "max_length": 128, "use_cpu": True}
    for fmt in ("messages", "prompt-completion"):
        data = loaded(tmp_path, fmt, RECORDS)
        args = SFTConfig(output_dir=str(tmp_path / fmt), **common)
        prepared = SFTTrainer(
            model=model, args=args, train_dataset=data, processing_class=tokenizer
        ).train_dataset
        assert len(prepared) == 4 and all(r["input_ids"] for r in prepared)
        if fmt == "prompt-completion":  # the loss falls on the answer tokens only
            first = prepared[0]
            tokens = zip(first["input_ids"], first["labels"], strict=True)
            labelled = [token for token, label in tokens if label != -100]
            answer = tokenizer.decode(labelled)
            assert answer == "Red.<|im_end|>\n"
    pairs = loaded(tmp_path, "preference", [PAIR, PAIR2, PAIR | {"id": "p3"}, PAIR2 | {"id": "p4"}])
    args = DPOConfig(output_dir=str(tmp_path / "dpo"), **common)
    prepared = DPOTrainer(
        model=model, args=args, train_dataset=pairs, processing_class=tokenizer
    ).train_dataset
    assert len(prepared) == 4
    assert tokenizer.decode(prepared[0]["chosen_ids"]) == "2.<|im_end|>\n"
    assert tokenizer.decode(prepared[0]["rejected_ids"]) == "Neither.<|im_end|>\n"
