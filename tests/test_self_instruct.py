"""self-instruct: rounds, prompts, gate, instances, Alpaca mode, the bound and --resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camelid.engines.base import Generation
from camelid.engines.scripted import ScriptedEngine
from camelid.packs import load_pack
from camelid.records import make_record
from camelid.stages.instructions.bootstrap import Bootstrap, Propose, Settings
from camelid.stages.instructions.gate import GateSettings, NoveltyGate
from camelid.stages.instructions.instances import Classify, InstancePacks, WriteInstances
from tests.conftest import SEED_TASKS, camelid

NEW_TASKS = [
    "Describe the water cycle in three sentences for a child.",
    "Name a famous painter from Spain and one of his works.",
    "Suggest a weekend plan for a family that loves hiking.",
    "Explain why the sky looks blue during the day.",
]


def human_seeds(n: int = 10, classification: int = 0) -> list:
    seeds = [make_record(instruction=f"Describe topic {i} in a few sentences.") for i in range(n)]
    seeds += [
        make_record(instruction=f"Classify item {i} as good or bad.", is_classification=True)
        for i in range(classification)
    ]
    return seeds


def listing(tasks: list[str], first: int = 9) -> str:
    """A continuation of "Task 9:" as a model writes it."""
    lines = [f" {tasks[0]}"] + [f"Task {first + i}: {t}" for i, t in enumerate(tasks[1:], 1)]
    return "\n".join(lines)


def bootstrap(engine: ScriptedEngine, target: int, **kw) -> Bootstrap:
    pack = load_pack(kw.pop("pack", "self-instruct"))
    seeds = kw.pop("human", human_seeds())
    rules = GateSettings(variant=kw.pop("variant", "self-instruct"))
    gate = NoveltyGate("self-instruct", rules, [s.instruction for s in seeds])
    propose = Propose(pack, engine, pack.sampling.merged(seed=0), rules)
    return Bootstrap(propose, gate, seeds, Settings(target=target, **kw))


def test_prompt_shows_six_human_and_two_machine_tasks_and_ends_open() -> None:
    engine = ScriptedEngine(lambda p, s: listing(NEW_TASKS))
    boot = bootstrap(engine, target=4)
    first = next(boot.rounds())
    assert [r.instruction for r in first.kept] == NEW_TASKS
    boot.settings.target = 5
    engine.sent.clear()
    next(boot.rounds(start=1, kept=4))
    prompt = engine.sent[0][0]
    assert isinstance(prompt, str) and prompt.endswith("\nTask 9:")
    listed = [ln.split(": ", 1)[1] for ln in prompt.splitlines()[:-1] if ln.startswith("Task ")]
    assert len(listed) == 8
    assert sum(t in NEW_TASKS for t in listed) == 2
    assert sum(t.startswith("Describe topic") for t in listed) == 6


def test_kept_records_carry_novelty_and_lineage_rejects_carry_reasons() -> None:
    reply = listing([NEW_TASKS[0], "Draw a map of your town.", "Why?", NEW_TASKS[0]])
    boot = bootstrap(ScriptedEngine(lambda p, s: reply), target=1)
    result = next(boot.rounds())
    (kept,) = result.kept
    assert kept.source == "generated" and kept.instruction == NEW_TASKS[0]
    extra = kept.model_extra or {}
    assert len(extra["most_similar_instructions"]) == 10
    assert 0 < extra["avg_similarity_score"] < 0.7
    assert kept.lineage[0].stage == "self-instruct" and kept.lineage[0].model_extra == {"round": 0}
    reasons = [r.reason for r in result.rejects]
    assert "instruction contains blacklisted word 'draw'" in reasons
    assert "instruction has 1 word (allowed 4-150)" in reasons
    assert any(
        r.startswith("too similar to a pool instruction (ROUGE-L 1.000 > 0.7)") for r in reasons
    )


def test_truncated_last_task_is_dropped_with_its_reason() -> None:
    gen = Generation(listing(NEW_TASKS[:2]), "length")
    result = next(bootstrap(ScriptedEngine([gen] * 4), target=3).rounds())
    assert [r.instruction for r in result.kept] == NEW_TASKS[:1]
    assert "generation truncated (finish_reason=length)" in [r.reason for r in result.rejects]


def test_classification_variant_uses_classification_seeds() -> None:
    engine = ScriptedEngine(lambda p, s: listing(NEW_TASKS))
    boot = bootstrap(engine, target=1, classification_share=1.0, human=human_seeds(10, 8))
    next(boot.rounds())
    prompt = engine.sent[0][0]
    assert prompt.startswith("The list below collects classification tasks")
    listed = [line for line in prompt.splitlines() if line.startswith("Task ") and ": " in line]
    assert all("Classify item" in line for line in listed)


def scripted_model(prompt: object, sampling: object) -> str:
    """Answers each pack the way a cooperative model would."""
    text = str(prompt)
    task = text.rsplit("Task: ", 1)[-1]
    if "Classification:" in text:
        return " Yes" if "positive or negative" in task else " No"
    if text.endswith("Class label:"):
        return " Positive\nInput: I loved it.\nClass label: Negative\nInput: I hated it."
    if "worked examples" in text:
        if "nothing" in task:
            return "Output: Say nothing at all about this topic please."
        return "Example 1\nInput: rain\nOutput: Water falls.\nExample 2\nInput: sun\nOutput:"
    return listing(
        [
            "Is the movie review positive or negative?",
            "Describe the weather in your city today.",
            "Say nothing at all about this topic please.",
        ]
    )


def test_instances_input_first_output_first_and_filters() -> None:
    engine = ScriptedEngine(scripted_model)
    names = ("self-instruct-classify", "self-instruct-instances", "self-instruct-labels")
    packs = InstancePacks(*(load_pack(n) for n in names), seed=0)
    boot = bootstrap(engine, target=3)
    boot.instances = [Classify(packs, engine), WriteInstances(packs, engine)]
    result = next(boot.rounds())
    by = {r.instruction: r for r in result.kept}
    review = by["Is the movie review positive or negative?"]
    assert review.tags == ["classification"]
    assert review.model_extra["instances"] == [
        {"input": "I loved it.", "output": "Positive"},
        {"input": "I hated it.", "output": "Negative"},
    ]
    assert [e.pack for e in review.lineage] == [
        "self-instruct", "self-instruct-classify", "self-instruct-labels",
    ]  # fmt: skip
    weather = by["Describe the weather in your city today."]
    assert (weather.input, weather.output, weather.model_extra["is_classification"]) == (
        "rain", "Water falls.", False,
    )  # fmt: skip
    assert weather.model_extra["instances"] == [{"input": "rain", "output": "Water falls."}]
    assert "no usable instance (output repeats the instruction)" in [
        r.reason for r in result.rejects if r.record and "nothing" in r.record["instruction"]
    ]


def test_alpaca_mode_parses_batches_and_uses_its_blacklist() -> None:
    reply = (
        " Name three kinds of clouds.\n4. Input:\n<noinput>\n4. Output:\nCumulus, stratus, cirrus.\n"
        "###\n5. Instruction: Compose some music for a short film.\n5. Input:\n<noinput>\n"
        "5. Output:\nA gentle piano theme.\n###\n6. Instruction: Rewrite the sentence politely.\n"
        "6. Input:\nGive me the salt.\n6. Output:\nGive me the salt."
    )
    engine = ScriptedEngine(lambda p, s: reply)
    seeds = [
        make_record(instruction=f"Seed {i} task here.", input="", output="ok") for i in range(5)
    ]
    boot = bootstrap(engine, target=2, pack="alpaca", human=seeds, human_examples=3,
                     machine_examples=0, variant="alpaca")  # fmt: skip
    boot.gate = NoveltyGate("self-instruct", GateSettings(variant="alpaca"), [])
    result = next(boot.rounds())
    assert engine.sent[0][0].endswith("###\n4. Instruction:")
    assert [(r.instruction, r.input, r.output) for r in result.kept] == [
        ("Name three kinds of clouds.", "", "Cumulus, stratus, cirrus.")
    ]
    reasons = {r.reason for r in result.rejects}
    assert "instruction contains blacklisted word 'music'" in reasons
    assert "input equals output" in reasons


# ------------------------------------------------------------------ the command


@pytest.fixture
def seeds_file(tmp_path: Path) -> Path:
    path = tmp_path / "seeds.jsonl"
    path.write_text(camelid("seed", str(SEED_TASKS), "-q").stdout)
    return path


def replies(tmp_path: Path, tasks: list[str]) -> str:
    path = tmp_path / "replies.jsonl"
    path.write_text(json.dumps(listing(tasks)) + "\n")
    return str(path)


def run(seeds: Path, reply_file: str, *args: str):
    return camelid("self-instruct", str(seeds), "--engine", "scripted", "--replies", reply_file,
                   "--no-instances", *args)  # fmt: skip


def test_cli_writes_target_and_resume_continues_with_the_pool(tmp_path, seeds_file) -> None:
    out = tmp_path / "out.jsonl"
    reply = replies(tmp_path, NEW_TASKS)
    first = run(seeds_file, reply, "--target", "2", "-o", str(out))
    assert first.returncode == 0, first.stderr
    assert [json.loads(x)["instruction"] for x in out.read_text().splitlines()] == NEW_TASKS[:2]
    # a crash mid-write leaves a torn line: resume cuts it and goes on
    with out.open("a") as f:
        f.write('{"instruction": "half a rec')
    again = run(seeds_file, reply, "--target", "4", "-o", str(out), "--resume", "--rejects",
                str(tmp_path / "rej.jsonl"))  # fmt: skip
    assert again.returncode == 0, again.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["instruction"] for r in rows] == NEW_TASKS
    assert [r["lineage"][0]["round"] for r in rows] == [0, 0, 1, 1]
    rejects = [json.loads(x)["reason"] for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert sum(r.startswith("too similar") for r in rejects) >= 2  # the first two, now in the pool


def test_cli_resume_refuses_other_settings_before_loading(tmp_path, seeds_file) -> None:
    out = tmp_path / "out.jsonl"
    reply = replies(tmp_path, NEW_TASKS)
    assert run(seeds_file, reply, "--target", "1", "-o", str(out)).returncode == 0
    other = run(seeds_file, reply, "--target", "2", "-o", str(out), "--resume", "--seed", "7")
    assert other.returncode == 2
    assert f"{out}: was written with other settings (seed 0 -> 7)" in other.stderr
    forced = run(seeds_file, reply, "--target", "2", "-o", str(out), "--resume", "--seed", "7",
                 "--force")  # fmt: skip
    assert forced.returncode == 0 and len(out.read_text().splitlines()) == 2


def test_cli_stops_at_the_bound_and_says_how_far_it_got(tmp_path, seeds_file) -> None:
    reply = replies(tmp_path, NEW_TASKS[:1])
    result = run(seeds_file, reply, "--target", "3", "--max-prompts", "6")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1
    assert "self-instruct: stopped at 1 of 3 instructions after 6 prompts" in result.stderr


def test_cli_same_seed_same_output(tmp_path, seeds_file) -> None:
    reply = replies(tmp_path, NEW_TASKS)
    a = run(seeds_file, reply, "--target", "3", "-q")
    b = run(seeds_file, reply, "--target", "3", "-q")
    assert a.returncode == 0 and a.stdout == b.stdout and len(a.stdout.splitlines()) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pack", "plain"], "pack plain does not generate tasks (its parser is 'text')"),
        (["--tokenizer", "words"], "--tokenizer: choose one of unicode, rouge, not 'words'"),
        (["--min-words", "9", "--max-words", "3"], "--min-words 9 is greater than --max-words 3"),
        (["--resume"], "--resume needs -o FILE"),
    ],
)
def test_cli_usage_errors(tmp_path, seeds_file, args, message) -> None:
    result = run(seeds_file, replies(tmp_path, NEW_TASKS), *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_cli_seeds_without_instructions_are_refused(tmp_path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"output": "no instruction"}\n')
    result = run(seeds, replies(tmp_path, NEW_TASKS))
    assert result.returncode == 2
    assert f"no seed task with an instruction in {seeds}" in result.stderr


def test_resume_pool_holds_instructions_dropped_for_their_instances(tmp_path) -> None:
    """A task the gate admitted but that got no usable instance stays in the pool; the resume
    journal keeps it, so a resumed run's pool is the uninterrupted run's."""
    from camelid.runtime import Run, RunOptions
    from camelid.stages.instructions.bootstrap import resumed_pool, run_bootstrap

    engine = ScriptedEngine(scripted_model)
    names = ("self-instruct-classify", "self-instruct-instances", "self-instruct-labels")
    packs = InstancePacks(*(load_pack(n) for n in names), seed=0)
    boot = bootstrap(engine, target=2)
    boot.instances = [Classify(packs, engine), WriteInstances(packs, engine)]
    out = tmp_path / "out.jsonl"
    with Run("self-instruct", RunOptions(output=str(out), quiet=True), resumable=True) as run:
        assert run_bootstrap(run, boot, target=2) == 2
    assert len(out.read_text().splitlines()) == 2
    options = RunOptions(output=str(out), quiet=True, resume=True)
    with Run("self-instruct", options, resumable=True) as resumed:
        assert resumed_pool(resumed) == ["Say nothing at all about this topic please."]
        assert [r.instruction for r in resumed.existing] == [
            "Is the movie review positive or negative?",
            "Describe the weather in your city today.",
        ]


def test_a_prompt_asks_for_seven_new_tasks_as_self_instruct_did() -> None:
    from camelid.stages.instructions.bootstrap import last_task_stop

    assert last_task_stop(8) == "Task 16:"  # tasks 9 to 15 after the 8 shown
