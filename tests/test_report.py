"""`camelid report`: exact statistics, the real spaCy parse, the files written, bad input, and
the page opened in a real headless browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from camelid.records import Record
from camelid.stages.report.stats import reason_group, statistics
from camelid.stages.report.verbs import load_nlp, top_verbs, verb_noun_pairs
from tests.conftest import SEED_TASKS, camelid

GEMMA = "gemma3-270m"
ROWS: list[dict[str, Any]] = [
    {"id": "s1", "instruction": "Give three tips for staying healthy.", "source": "seed",
     "output": "Eat well, sleep enough and move every day.", "lineage": [{"stage": "seed"}]},
    {"id": "g1", "instruction": "Write a poem about the sea.", "input": "Use rhymes.",
     "output": "The sea is wide, the sea is deep.", "source": "generated",
     "lineage": [{"stage": "self-instruct", "pack": "self-instruct", "pack_version": "1.0.0",
                  "model": GEMMA}],
     "most_similar_instructions": {"Write a poem.": 0.6, "Write a story about the sea.": 0.72},
     "avg_similarity_score": 0.21},
    {"id": "g2", "instruction": "Create a list of ten fruits.", "output": "Apple, pear, plum.",
     "source": "generated",
     "lineage": [{"stage": "self-instruct", "pack": "self-instruct", "pack_version": "1.0.0",
                  "model": GEMMA}],
     "most_similar_instructions": {"Make a list of fruits.": 0.45}, "avg_similarity_score": 0.1},
    {"id": "r1", "instruction": "Explain the current price of gold.", "source": "redteam",
     "output": "I cannot know today's price.", "question_type": "temporal",
     "lineage": [{"stage": "redteam", "pack": "redteam", "pack_version": "1.0.0", "model": GEMMA},
                 {"stage": "respond", "pack": "self-align", "pack_version": "1.1.0",
                  "model": GEMMA}],
     "principles": ["ethical", "dated knowledge"], "scores": {"quality": 4}},
    {"id": "s2", "instruction": "Describe the water cycle.", "source": "seed",
     "output": "Water evaporates, condenses and falls.",
     "lineage": [{"stage": "seed"}, {"stage": "respond", "pack": "self-align",
                                     "pack_version": "1.1.0", "model": GEMMA}],
     "principles": ["informative", "step-by-step"], "scores": {"quality": None}},
    {"id": "c1", "instruction": "Name a colour.", "source": "seed",
     "completions": [{"text": "Red.", "model": "m1", "scores": {"helpfulness": 5, "honesty": 4}},
                     {"text": "Blue is one.", "model": "m2",
                      "scores": {"helpfulness": 3, "honesty": None}}],
     "lineage": [{"stage": "seed"},
                 {"stage": "respond", "pack": "plain", "pack_version": "1.0.0",
                  "models": ["m1", "m2"]},
                 {"stage": "score", "pack": "ultrafeedback", "pack_version": "1.2.0",
                  "model": "smollm2"}]},
]  # fmt: skip
REJECTS: list[dict[str, Any]] = [
    {"stage": "self-instruct",
     "reason": "too similar to a pool instruction (ROUGE-L 0.812 > 0.7): 'Write a poem.'"},
    {"stage": "self-instruct",
     "reason": "too similar to a pool instruction (ROUGE-L 0.75 > 0.7): \"Don't stop.\""},
    {"stage": "self-instruct", "reason": "instruction has 2 words (allowed 3-150)"},
    {"stage": "filter", "reason": "score quality 2 < 4", "where": "in.jsonl:3",
     "record": {"instruction": "Hi."}},
]  # fmt: skip
SIMILAR = "too similar to a pool instruction (ROUGE-L N > N): …"
CHARTS = ["lengths", "verbs", "novelty", "scores", "rejects", "principles"]
HEADINGS = ["Counts", "Lengths", "Instruction diversity", "Novelty", "Scores", "Filters",
            "Principles"]  # fmt: skip


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_statistics_on_a_fixture_are_exact() -> None:
    stats = statistics([Record.model_validate(r) for r in ROWS], REJECTS)
    assert stats["records"] == 6
    assert stats["counts"] == {
        "source": [["seed", 3], ["generated", 2], ["redteam", 1]],
        "command": [["respond", 2], ["self-instruct", 2], ["score", 1], ["seed", 1]],
        "stage": [["respond", 3], ["seed", 3], ["self-instruct", 2], ["redteam", 1], ["score", 1]],
        "pack": [["self-align 1.1.0 (respond)", 2], ["self-instruct 1.0.0 (self-instruct)", 2],
                 ["plain 1.0.0 (respond)", 1], ["redteam 1.0.0 (redteam)", 1],
                 ["ultrafeedback 1.2.0 (score)", 1]],
        "model": [[f"{GEMMA} (respond)", 2], [f"{GEMMA} (self-instruct)", 2],
                  [f"{GEMMA} (redteam)", 1], ["m1 (respond)", 1], ["m2 (respond)", 1],
                  ["smollm2 (score)", 1]],
        "question_type": [["temporal", 1]],
    }  # fmt: skip
    # The instruction with its input: "Write a poem about the sea. Use rhymes." is 8 words.
    instruction = stats["lengths"]["instruction"]
    assert (instruction["n"], instruction["min"], instruction["max"]) == (6, 3, 8)
    assert instruction["bins"][:3] == [["0-4", 2], ["5-9", 4], ["10-19", 0]]
    assert stats["lengths"]["answer"]["n"] == 7  # 5 outputs and 2 completions
    novelty = stats["novelty"]
    assert (novelty["n"], novelty["mean"], novelty["avg_similarity_mean"]) == (2, 0.585, 0.155)
    assert [b for b in novelty["bins"] if b[1]] == [["0.45", 1], ["0.70", 1]]
    assert stats["scores"] == {
        "helpfulness": {"n": 2, "mean": 4.0, "median": 4.0, "min": 3.0, "max": 5.0,
                        "bins": [["3", 1], ["4", 0], ["5", 1]], "n/a": 0,
                        "from": {"completions": 2}},
        "honesty": {"n": 1, "mean": 4.0, "median": 4.0, "min": 4.0, "max": 4.0,
                    "bins": [["4", 1]], "n/a": 1, "from": {"completions": 2}},
        "quality": {"n": 1, "mean": 4.0, "median": 4.0, "min": 4.0, "max": 4.0,
                    "bins": [["4", 1]], "n/a": 1, "from": {"records": 2}},
    }  # fmt: skip
    assert stats["rejects"] == {
        "kept": 6,
        "rejected": 4,
        "total": 10,
        "by_stage": [["self-instruct", 3], ["filter", 1]],
        "by_reason": [["self-instruct", SIMILAR, 2], ["filter", "score quality N < N", 1],
                      ["self-instruct", "instruction has N words (allowed N-N)", 1]],
    }  # fmt: skip
    assert stats["principles"] == {
        "names": ["ethical", "informative", "dated knowledge", "step-by-step"],  # pack order
        "groups": {
            "red-team": {"answers": 1, "counts": [1, 0, 1, 0], "shares": [1.0, 0.0, 1.0, 0.0]},
            "other": {"answers": 1, "counts": [0, 1, 0, 1], "shares": [0.0, 1.0, 0.0, 1.0]},
        },
    }


def test_sections_without_data_are_none() -> None:
    stats = statistics([Record(instruction="What is love?")], None)
    assert [k for k, v in stats.items() if v is None] == [
        "novelty", "scores", "rejects", "principles"
    ]  # fmt: skip
    assert "answer" not in stats["lengths"]


@pytest.mark.parametrize(
    ("reason", "group"),
    [
        ("too similar to a pool instruction (ROUGE-L 0.812 > 0.7): 'Write a poem.'", SIMILAR),
        ("answer too short: 3 words (--min-answer-words 5)",
         "answer too short: N words (--min-answer-words N)"),
        ("instruction contains blacklisted word 'image'", "instruction contains blacklisted word …"),
        ("nothing to score: no output or completions", "nothing to score: no output or completions"),
    ],
)  # fmt: skip
def test_reasons_group_without_their_specifics(reason: str, group: str) -> None:
    assert reason_group(reason) == group


@pytest.fixture(scope="module")
def nlp() -> Any:
    return load_nlp()


def seed_instruction(start: str) -> str:
    """A Self-Instruct seed task's instruction, read from the shared file."""
    with SEED_TASKS.open() as f:
        found = [json.loads(line)["instruction"] for line in f]
    return next(text for text in found if text.startswith(start))


def test_root_verbs_and_objects_from_a_real_parse(nlp: Any) -> None:
    texts = ["Give three tips for staying healthy."] + [
        seed_instruction(s)
        for s in ("Brainstorm a list of possible", "Create a birthday planning", "Suggest some games",
                  "Find the four smallest", "Make a list of salty", "What is the relation")
    ]  # fmt: skip
    pairs = verb_noun_pairs(texts, nlp)
    assert pairs == [("give", "tip"), ("brainstorm", "list"), ("create", "checklist"),
                     ("suggest", "game"), ("find", "number"), ("make", "list"), None]  # fmt: skip
    top = top_verbs(pairs)
    assert (top["instructions"], top["with_pair"], top["distinct_verbs"]) == (7, 6, 6)
    assert top["verbs"][0] == {"verb": "brainstorm", "count": 1, "nouns": [["list", 1]]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One full report of the fixture (spaCy and matplotlib load once for several tests)."""
    tmp = tmp_path_factory.mktemp("report")
    (tmp / "card").mkdir()
    args = [str(jsonl(tmp / "in.jsonl", ROWS)), "--rejects-from", str(jsonl(tmp / "rej.jsonl", REJECTS)),
            "--card", str(tmp / "card" / "README.md"), "--png", str(tmp / "card" / "figs"),
            "--title", "Fixture <data>", "-o", str(tmp / "report.html")]  # fmt: skip
    return {"dir": tmp, "result": camelid("report", *args)}


def test_cli_writes_page_card_and_pngs(built: dict[str, Any]) -> None:
    tmp, result = built["dir"], built["result"]
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"report: 6 records, 6 charts -> {tmp / 'report.html'}")
    page = (tmp / "report.html").read_text()
    assert page.count('<figure class="chart"') == 6 and '<body data-charts="6">' in page
    assert "<title>Fixture &lt;data&gt;</title>" in page
    # Self-contained: nothing to fetch (the SVGs' xmlns names are names, not links).
    assert not any(s in page for s in ("<link", "src=", "@import"))
    assert not re.search(r"url\((?!#)", page)  # clip paths point inside the page only
    assert "http" not in re.sub(r'xmlns(:\w+)?="[^"]*"', "", page)
    assert "<td>too similar to a pool instruction (ROUGE-L N &gt; N): …</td>" in page
    card = (tmp / "card" / "README.md").read_text()
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["task_categories"] == ["text-generation"]
    assert front["size_categories"] == ["n<1K"] and "self-instruct" in front["tags"]
    assert "| seed | 3 |" in card and "| give | 1 | tip (1) |" in card
    assert "| ethical | 1 (100%) | 0 (0%) |" in card
    for name, heading in zip(CHARTS, HEADINGS[1:], strict=True):
        assert f"![{heading}](figs/{name}.png)" in card
        assert (tmp / "card" / "figs" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp.iterdir()) == ["card", "in.jsonl", "rej.jsonl", "report.html"]


def test_sections_without_data_say_so(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = camelid("report", "-q", "-o", str(out), input='{"instruction": "What is love?"}\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""
    page = out.read_text()
    assert page.count('<figure class="chart"') == 1  # the lengths only
    for note in ("No instruction has a root verb", "No most_similar_instructions here",
                 "No scores here", "No reject files given", "No principles here"):  # fmt: skip
        assert note in page


def test_a_malformed_line_is_exit_65_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "Say hi."}\n{"instruction": \n')
    result = camelid("report", str(bad), "-o", str(tmp_path / "r.html"))
    assert result.returncode == 65
    assert result.stderr.startswith(f"camelid: error: {bad}:2: invalid JSON")
    rejects = jsonl(tmp_path / "rej.jsonl", [REJECTS[0], {"reason": "no stage"}])
    good = jsonl(tmp_path / "in.jsonl", ROWS[:1])
    result = camelid(
        "report", str(good), "--rejects-from", str(rejects), "-o", str(tmp_path / "r.html")
    )
    assert result.returncode == 65
    assert f"{rejects}:2: not a reject line" in result.stderr
    odd = jsonl(
        tmp_path / "odd.jsonl",
        [*ROWS[:2], {"instruction": "X.", "most_similar_instructions": {"a": "high"}}],
    )
    result = camelid("report", str(odd), "-o", str(tmp_path / "r.html"))
    assert (result.returncode, result.stderr) == (65, f'camelid: error: {odd}:3: field "most_similar_instructions": expected an object of ROUGE-L scores\n')  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.jsonl",
        "in.jsonl",
        "odd.jsonl",
        "rej.jsonl",
    ]


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    good = str(jsonl(tmp_path / "in.jsonl", ROWS[:1]))
    assert "-o FILE: give a file name" in camelid("report", good).stderr
    (tmp_path / "file").write_text("")
    result = camelid(
        "report", good, "--png", str(tmp_path / "file"), "-o", str(tmp_path / "r.html")
    )
    assert (result.returncode, result.stderr) == (2, f"camelid: error: --png {tmp_path / 'file'}: is a file, expected a folder\n")  # fmt: skip
    result = camelid("report", "-", "--rejects-from", "-", "-o", str(tmp_path / "r.html"))
    assert result.returncode == 2 and "can be '-'" in result.stderr


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_help_imports_neither_spacy_nor_matplotlib() -> None:
    code = (
        "import sys\nfrom camelid.app import main\ntry:\n    main(['report', '--help'])\n"
        "except SystemExit:\n    pass\nprint(sorted({'spacy', 'matplotlib'} & set(sys.modules)))"
    )
    result = run_python(code)
    assert result.stdout.endswith("[]\n") and "Example:  camelid report" in result.stdout


@pytest.mark.parametrize("missing", ["spacy", "matplotlib"])
def test_a_missing_extra_says_how_to_install_it(tmp_path: Path, missing: str) -> None:
    good = jsonl(tmp_path / "in.jsonl", ROWS[:2])
    argv = ["report", str(good), "-o", str(tmp_path / "r.html")]
    code = (
        f"import sys\nsys.modules[{missing!r}] = None\nfrom camelid.app import main\nmain({argv!r})"
    )
    result = run_python(code)
    assert result.returncode == 1
    assert "pip install 'camelid[report]'" in result.stderr and missing in result.stderr.lower()
    assert not (tmp_path / "r.html").exists()


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/browser.sh installs it)")
        pytest.skip("chromium is not installed (scripts/browser.sh installs it as root)")
    return found


def test_the_page_renders_in_a_headless_browser(built: dict[str, Any], tmp_path: Path) -> None:
    browser, page = chromium(), built["dir"] / "report.html"
    assert built["result"].returncode == 0, built["result"].stderr
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=5000"]  # fmt: skip
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-charts-rendered="6"' in dom.stdout  # every chart laid out with a size
    for heading in HEADINGS:
        assert f"<h2>{heading}</h2>" in dom.stdout
    shot = tmp_path / "shot.png"
    run = subprocess.run([*flags, "--window-size=1100,2400", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    from PIL import Image  # matplotlib's dependency

    with Image.open(shot) as image:
        assert image.size == (1100, 2400)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 100  # charts and text, not a blank page
