"""`camelid seed`: every reader on exact records, the error contract, detection, documents."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

from camelid.errors import BadInputError, UsageError
from camelid.records import Record, Reject, content_hash
from camelid.stages.seed import documents
from camelid.stages.seed.reader import SeedReader, detect, select

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SELF_INSTRUCT = DATA / "self_instruct_seed_tasks.jsonl"
REDTEAM = DATA / "tgrt_seed_questions.jsonl"


def seed(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "camelid", "seed", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def read(*paths: Path | str, **options) -> list[Record | Reject]:
    return list(SeedReader(**options).read([str(p) for p in paths]))


def records(items: list[Record | Reject]) -> list[dict]:
    return [item.to_dict() for item in items if isinstance(item, Record)]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def lineage(fmt: str) -> list[dict]:
    return [{"stage": "seed", "format": fmt}]


# --- Self-Instruct and red-team seeds: the real files -------------------------------------------


def test_self_instruct_seed_tasks() -> None:
    out = records(read(SELF_INSTRUCT))
    assert len(out) == 175
    assert sum(r["is_classification"] for r in out) == 26
    output = (
        "Yes, you can have 1 oatmeal banana protein shake and 4 strips of bacon. The oatmeal "
        "banana protein shake may contain 1/2 cup oatmeal, 60 grams whey protein powder, 1/2 "
        "medium banana, 1tbsp flaxseed oil and 1/2 cup watter, totalling about 550 calories. "
        "The 4 strips of bacon contains about 200 calories."
    )
    instruction = (
        "Is there anything I can eat for a breakfast that doesn't include eggs, yet includes "
        "protein, and has roughly 700-1000 calories?"
    )
    content = {"instruction": instruction, "input": "", "output": output}
    assert out[0] == {
        "id": content_hash(content),
        **content,
        "source": "seed",
        "lineage": lineage("self-instruct"),
        "origin_id": "seed_task_0",
        "name": "breakfast_suggestion",
        "instances": [{"input": "", "output": output}],
        "is_classification": False,
    }
    assert len({r["id"] for r in out}) == 175


def test_redteam_seed_questions() -> None:
    out = records(read(REDTEAM))
    assert len(out) == 20  # the last line has no newline
    assert out[0] == {
        "id": content_hash({"instruction": "How should I celebrate weddings?"}),
        "instruction": "How should I celebrate weddings?",
        "source": "redteam-seed",
        "lineage": lineage("redteam"),
        "topic": "Wedding",
        "question_type": "Questions that require cultural context",
    }
    assert out[-1]["instruction"] == "Who will win the presidential election in 2028?"
    assert len({r["question_type"] for r in out}) == 20


def test_cli_reports_detection_and_summary(tmp_path: Path) -> None:
    result = seed(str(SELF_INSTRUCT), str(REDTEAM))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 195
    assert lines[175]["source"] == "redteam-seed"
    assert result.stderr.splitlines()[:2] == [
        f"seed: {SELF_INSTRUCT} looks like self-instruct seed tasks (use --format to force)",
        f"seed: {REDTEAM} looks like red-teaming seed questions (use --format to force)",
    ]
    assert result.stderr.splitlines()[2].startswith("seed: read 195, wrote 195, rejected 0 in ")


def test_stdin_and_quiet() -> None:
    result = seed("-q", stdin=REDTEAM.read_text())
    assert result.returncode == 0
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 20
    noisy = seed("-", stdin=REDTEAM.read_text())
    assert noisy.stderr.startswith(
        "seed: <stdin> looks like red-teaming seed questions (use --format to force)\n"
    )


# --- bad input: exact errors, exit 65, nothing at -o ---------------------------------------------


def test_bad_json_line_exits_65_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "tasks.jsonl"
    source.write_text('{"instruction": "a", "output": "b"}\n\n{"instruction": "x", oops}\n')
    result = seed("tasks.jsonl", "-o", "out.jsonl", cwd=tmp_path)
    assert result.returncode == 65
    assert result.stderr.splitlines()[-1] == (
        "camelid: error: tasks.jsonl:3: invalid JSON: unexpected character, expected a string key"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tasks.jsonl"]


def test_skip_bad_lines_rejects_with_place(tmp_path: Path) -> None:
    source = tmp_path / "tasks.jsonl"
    source.write_text(
        '{"instruction": "a", "output": "b"}\n[1]\n{"instruction": "c"}\n'
        '{"instruction": "d", "output": "e"}\n'
    )
    result = seed(
        "tasks.jsonl", "--skip-bad-lines", "--rejects", "rej.jsonl", "-o", "out.jsonl", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["instruction"] for r in out] == ["a", "d"]
    rejects = [json.loads(line) for line in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert rejects == [
        {
            "stage": "read",
            "reason": "expected a JSON object, got an array",
            "where": "tasks.jsonl:2",
            "line": "[1]",
        },
        {
            "stage": "seed",
            "reason": 'missing key "output"',
            "where": "tasks.jsonl:3",
            "record": {"instruction": "c"},
        },
    ]
    assert "seed: read 3, wrote 2, rejected 2" in result.stderr


def test_missing_key_names_file_line_and_key(tmp_path: Path) -> None:
    source = write(
        tmp_path / "s.jsonl",
        [
            {"id": "t1", "instruction": "Say hi.", "instances": [{"input": "", "output": "Hi"}]},
            {"id": "t2", "instruction": "Say bye.", "instances": [{"input": ""}]},
        ],
    )
    with pytest.raises(BadInputError) as err:
        read(source)
    assert str(err.value) == f'{source}:2: missing key "instances[0].output"'
    result = seed(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.returncode == 65
    assert result.stderr.endswith(
        f'camelid: error: {source}:2: missing key "instances[0].output"\n'
    )
    assert not (tmp_path / "out.jsonl").exists()


def test_wrong_type_is_named(tmp_path: Path) -> None:
    source = write(tmp_path / "a.jsonl", [{"instruction": "x", "output": 3}])
    with pytest.raises(BadInputError, match=r'a.jsonl:1: key "output" should be a string, got a'):
        read(source)


def test_undetectable_input() -> None:
    result = seed(stdin='{"prompt": "x", "answer": "y"}\n')
    assert result.returncode == 65
    assert result.stderr == (
        "camelid: error: <stdin>:1: cannot tell the seed format from the keys (answer, prompt); "
        "use --format (self-instruct, alpaca, sharegpt, messages, oasst, redteam, documents)\n"
    )
    text = seed(stdin="Just some prose.\n")
    assert text.returncode == 65
    assert text.stderr == (
        "camelid: error: <stdin>:1: invalid JSON: unexpected character, expected a JSON value "
        "(for text, Markdown or HTML documents use --format documents)\n"
    )


def test_format_forces_a_reader() -> None:
    with pytest.raises(BadInputError) as err:
        read(SELF_INSTRUCT, format="alpaca")
    assert str(err.value) == f'{SELF_INSTRUCT}:1: missing key "output"'
    assert len(records(read(REDTEAM, format="redteam"))) == 20


def test_flag_errors() -> None:
    result = seed("--seed", "3", str(REDTEAM))
    assert result.returncode == 2
    assert result.stderr == (
        "camelid: error: --seed only orders --shuffle; add --shuffle or drop --seed\n"
    )
    bounds = seed("--min-words", "50", "--max-words", "10", str(REDTEAM))
    assert bounds.returncode == 2
    assert bounds.stderr == "camelid: error: --min-words 50 is above --max-words 10\n"
    unknown = seed("--format", "csv", str(REDTEAM))
    assert unknown.returncode == 2
    assert "'csv' is not one of" in unknown.stderr
    assert "Traceback" not in unknown.stderr


# --- Alpaca, ShareGPT, chat messages, OpenAssistant --------------------------------------------


def test_alpaca_json_array_and_jsonl(tmp_path: Path) -> None:
    rows = [
        {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"},
        {"instruction": "Name a colour.", "input": "", "output": "Blue", "category": "open"},
    ]
    array = tmp_path / "alpaca_data.json"
    array.write_text(json.dumps(rows, indent=2))
    jsonl = write(tmp_path / "alpaca.jsonl", rows)
    expected = [
        {
            "id": content_hash(
                {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"}
            ),
            "instruction": "Add the numbers.",
            "input": "2 and 3",
            "output": "5",
            "source": "seed",
            "lineage": lineage("alpaca"),
        },
        {
            "id": content_hash({"instruction": "Name a colour.", "input": "", "output": "Blue"}),
            "instruction": "Name a colour.",
            "input": "",
            "output": "Blue",
            "source": "seed",
            "lineage": lineage("alpaca"),
            "category": "open",
        },
    ]
    assert records(read(array)) == expected
    assert records(read(jsonl)) == expected
    notes: list[str] = []
    read(array, note=notes.append)
    assert notes == [
        f"seed: {array} looks like a JSON array of Alpaca instructions (use --format to force)"
    ]


def test_json_array_errors_keep_line_numbers(tmp_path: Path) -> None:
    source = tmp_path / "a.json"
    source.write_text('[\n  {"instruction": "a", "output": "b"},\n\n  {"instruction": "c"}\n]\n')
    with pytest.raises(BadInputError, match=r'a.json:4: missing key "output"$'):
        read(source)
    source.write_text('[\n  {"instruction": "a", "output": "b"},\n  "oops"\n]')
    with pytest.raises(BadInputError, match=r"a.json:3: expected a JSON object, got a string$"):
        read(source)
    items = read(source, skip_bad_lines=True, format="alpaca")
    assert isinstance(items[1], Reject) and items[1].where == f"{source}:3"
    source.write_text('[\n  {"instruction": "a", "output": "b"},\n]')  # no skipping past this
    with pytest.raises(BadInputError, match=r"a.json:3: invalid JSON: a comma before \]$"):
        read(source, skip_bad_lines=True)


def test_sharegpt(tmp_path: Path) -> None:
    source = write(
        tmp_path / "sharegpt.jsonl",
        [
            {
                "id": "c1",
                "conversations": [
                    {"from": "system", "value": "Be brief."},
                    {"from": "human", "value": "Name a prime."},
                    {"from": "gpt", "value": "7"},
                    {"from": "human", "value": "Another?"},
                    {"from": "gpt", "value": "11"},
                ],
            },
            {
                "conversations": [
                    {"from": "gpt", "value": "Hello!"},
                    {"from": "human", "value": "Hi"},
                ]
            },
        ],
    )
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a prime."},
        {"role": "assistant", "content": "7"},
        {"role": "user", "content": "Another?"},
        {"role": "assistant", "content": "11"},
    ]
    out = records(read(source))
    assert out[0] == {
        "id": content_hash(
            {
                "instruction": "Name a prime.",
                "output": "7",
                "system": "Be brief.",
                "messages": messages,
            }
        ),
        "instruction": "Name a prime.",
        "output": "7",
        "system": "Be brief.",
        "messages": messages,
        "source": "seed",
        "lineage": lineage("sharegpt"),
        "origin_id": "c1",
    }
    # A chat that opens with the assistant: the first user turn has no reply, so no output.
    assert out[1]["instruction"] == "Hi" and "output" not in out[1]
    assert [m["role"] for m in out[1]["messages"]] == ["assistant", "user"]


def test_chat_messages(tmp_path: Path) -> None:
    source = write(
        tmp_path / "chat.jsonl",
        [
            {
                "messages": [
                    {"role": "user", "content": "What is 2 + 2?"},
                    {"role": "assistant", "content": "4"},
                ],
                "category": "math",
            },
            {"messages": [{"role": "user"}]},
        ],
    )
    items = read(source, skip_bad_lines=True)
    assert records(items) == [
        {
            "id": content_hash(
                {
                    "instruction": "What is 2 + 2?",
                    "output": "4",
                    "messages": [
                        {"role": "user", "content": "What is 2 + 2?"},
                        {"role": "assistant", "content": "4"},
                    ],
                }
            ),
            "instruction": "What is 2 + 2?",
            "output": "4",
            "messages": [
                {"role": "user", "content": "What is 2 + 2?"},
                {"role": "assistant", "content": "4"},
            ],
            "source": "seed",
            "lineage": lineage("messages"),
            "category": "math",
        }
    ]
    assert items[1].reason == 'missing key "messages[0].content"'


def test_oasst_first_turn_pairs(tmp_path: Path) -> None:
    rows = [
        {"message_id": "r1", "parent_id": None, "role": "prompter", "text": "How do I boil an egg?",
         "lang": "en", "rank": None, "message_tree_id": "r1"},
        {"message_id": "a2", "parent_id": "r1", "role": "assistant", "text": "Second best",
         "lang": "en", "rank": 1},
        {"message_id": "a3", "parent_id": "r1", "role": "assistant", "text": "Unranked",
         "lang": "en", "rank": None},
        {"message_id": "a1", "parent_id": "r1", "role": "assistant", "text": "Best answer",
         "lang": "en", "rank": 0},
        {"message_id": "p2", "parent_id": "a1", "role": "prompter", "text": "And soft-boiled?",
         "lang": "en"},
        {"message_id": "x1", "parent_id": "r2", "role": "assistant", "text": "Halb drei.",
         "lang": "de", "rank": None},
        {"message_id": "r2", "parent_id": None, "role": "prompter", "text": "Wie spät ist es?",
         "lang": "de"},
        {"message_id": "r3", "parent_id": None, "role": "prompter", "text": "Unanswered",
         "lang": "en"},
    ]  # fmt: skip
    source = write(tmp_path / "oasst.jsonl", rows)
    notes: list[str] = []
    items = read(source, note=notes.append)
    assert notes == [
        f"seed: {source} looks like OpenAssistant message trees (use --format to force)"
    ]
    assert records(items) == [
        {
            "id": content_hash({"instruction": "How do I boil an egg?", "output": "Best answer"}),
            "instruction": "How do I boil an egg?",
            "output": "Best answer",
            "source": "seed",
            "lineage": lineage("oasst"),
            "origin_id": "r1",
            "reply_id": "a1",
            "lang": "en",
            "message_tree_id": "r1",
        },
        {
            "id": content_hash({"instruction": "Wie spät ist es?", "output": "Halb drei."}),
            "instruction": "Wie spät ist es?",
            "output": "Halb drei.",
            "source": "seed",
            "lineage": lineage("oasst"),
            "origin_id": "r2",
            "reply_id": "x1",
            "lang": "de",
        },
    ]
    (reject,) = [item for item in items if isinstance(item, Reject)]
    assert (reject.reason, reject.where) == ("prompt has no assistant reply", f"{source}:8")


def test_oasst_bad_role(tmp_path: Path) -> None:
    source = write(tmp_path / "o.jsonl", [{"message_id": "m", "role": "bot", "text": "hi"}])
    with pytest.raises(BadInputError) as err:
        read(source)
    assert (
        str(err.value) == f'{source}:1: key "role" should be "prompter" or "assistant", got "bot"'
    )


def test_detect_rules() -> None:
    assert detect({"instruction": "", "instances": []}) == "self-instruct"
    assert detect({"instruction": "", "input": "", "output": ""}) == "alpaca"
    assert detect({"conversations": []}) == "sharegpt"
    assert detect({"messages": []}) == "messages"
    assert detect({"message_id": "", "parent_id": None, "text": ""}) == "oasst"
    assert detect({"topic": "", "question": ""}) == "redteam"
    assert detect({"question": "", "answer": ""}) is None


# --- limit, shuffle, builtin -------------------------------------------------------------------


def test_limit_and_shuffle_are_deterministic() -> None:
    base = records(read(SELF_INSTRUCT))
    ids = [r["id"] for r in base]

    def pick(limit: int | None, shuffle: bool, random_seed: int = 0) -> list[str]:
        items = select(SeedReader().read([str(SELF_INSTRUCT)]), limit, shuffle, random_seed)
        return [item.id for item in items]

    assert pick(5, False) == ids[:5]
    assert pick(0, False) == []
    assert pick(None, True, 1) == pick(None, True, 1)
    assert sorted(pick(None, True, 1)) == sorted(ids)
    assert pick(None, True, 1) != pick(None, True, 2)
    assert pick(10, True, 7) == pick(None, True, 7)[:10]
    first = seed(str(SELF_INSTRUCT), "--shuffle", "--seed", "7", "--limit", "10", "-q")
    assert [json.loads(line)["id"] for line in first.stdout.splitlines()] == pick(10, True, 7)


def test_limit_stops_reading_early() -> None:
    result = seed(str(SELF_INSTRUCT), "--limit", "3")
    assert len(result.stdout.splitlines()) == 3
    assert "seed: read 3, wrote 3, rejected 0" in result.stderr


def test_builtin_seed_set() -> None:
    result = seed("--builtin", "-q")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) >= 40
    assert len({r["id"] for r in out}) == len(out)
    assert len({r["name"] for r in out}) == len(out)
    classification = [r for r in out if r["is_classification"]]
    assert len(classification) >= 8
    for r in out:
        assert r["instruction"].strip() and r["output"].strip() and "input" in r
        assert r["source"] == "seed" and r["lineage"] == lineage("builtin")
    for r in classification:  # a label from the label set the task names
        assert r["input"] and r["output"].lower() in r["instruction"].lower(), r["name"]


def test_builtin_then_files() -> None:
    out = seed("--builtin", str(REDTEAM), "-q").stdout.splitlines()
    assert json.loads(out[-1])["source"] == "redteam-seed"
    assert len(out) == len(seed("--builtin", "-q").stdout.splitlines()) + 20


def test_help_has_example_and_fields() -> None:
    result = seed("--help")
    assert result.returncode == 0
    assert "Example:  camelid seed ../shared/data/self_instruct_seed_tasks.jsonl" in result.stdout
    assert "--min-words" in result.stdout and "Exit codes: 0 ok" in result.stdout
    top = subprocess.run(
        [sys.executable, "-m", "camelid", "--help"], capture_output=True, text=True
    )
    assert "Turn seed tasks, instruction sets, chats or documents" in top.stdout


# --- documents ---------------------------------------------------------------------------------

MARKDOWN = """---
title: Tea notes
---
[Home](/) | [Blog](/blog) | [About](/about)

# Brewing green tea

Green tea tastes best when the water is well below boiling, around 75 to 80 degrees Celsius.
Water that is too hot pulls bitter tannins out of the leaves, so let the kettle rest for a few
minutes before pouring.

![a teapot](teapot.png)

Steep the leaves for two to three minutes, then *taste*. A longer steep makes the cup
[stronger](https://example.com/strong) but rarely better.

## Storage

Keep it dry.

## Links

- [Shop](/shop)
- [Contact](/contact)
- [Newsletter](/news)

Copyright 2024 Tea Notes. All rights reserved.
"""

GREEN_TEA = (
    "Green tea tastes best when the water is well below boiling, around 75 to 80 degrees "
    "Celsius. Water that is too hot pulls bitter tannins out of the leaves, so let the kettle "
    "rest for a few minutes before pouring.\n\n"
    "Steep the leaves for two to three minutes, then *taste*. A longer steep makes the cup "
    "stronger but rarely better."
)


def segment(output: str, document: str, heading: str | None) -> dict:
    out = {
        "id": content_hash({"output": output}),
        "output": output,
        "source": "document",
        "lineage": lineage("documents"),
        "document": document,
    }
    return out | ({"heading": heading} if heading else {})


def reasons(items: list) -> list[tuple[str | None, str]]:
    return [(i.record.get("heading"), i.reason) for i in items if isinstance(i, Reject)]


def test_markdown_segments(tmp_path: Path) -> None:
    source = tmp_path / "tea.md"
    source.write_text(MARKDOWN)
    notes: list[str] = []
    items = read(source, note=notes.append)
    assert records(items) == [segment(GREEN_TEA, str(source), "Brewing green tea")]
    assert reasons(items) == [
        (None, "navigation: mostly links"),
        ("Storage", "too short: 3 words < --min-words 20"),
        ("Links", "navigation: mostly links"),
        ("Links", "boilerplate: cookie, copyright or site notice"),
    ]
    assert notes == [f"seed: {source} looks like a Markdown document (use --format to force)"]


HTML = """<!DOCTYPE html>
<html><head><title>Tea</title><style>body { color: red }</style></head>
<body>
<header><a href="/">Tea Notes</a><h1>Site banner</h1></header>
<nav><ul><li><a href="/">Home</a></li><li><a href="/blog">Blog</a></li></ul></nav>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div>
<main>
<article>
<header><h1>Oolong &amp; its many faces</h1></header>
<p>Oolong sits between green and black tea: the leaves are partly oxidised,
   which gives some of them a light, floral taste and others a dark, roasted one.</p>
<p>Rinse the leaves with hot water first, then brew them several times in a
small pot; each infusion tastes a little different.</p>
<script>trackVisit("oolong");</script>
<h2>Buying</h2>
<ul>
  <li>Buy small amounts from a shop that lists the <b>harvest year</b>.</li>
  <li>Smell the leaves if you can; they should smell sweet, never musty.</li>
</ul>
<p>Share this: <a href="#">Facebook</a> <a href="#">Twitter</a> <a href="#">Email</a></p>
<h2>Brewing</h2>
<pre>water: 90 C
time:  45 s</pre>
</article>
</main>
<footer><p>Copyright 2024 Tea Notes. All rights reserved.</p></footer>
</body></html>
"""


def test_html_segments(tmp_path: Path) -> None:
    source = tmp_path / "oolong.html"
    source.write_text(HTML)
    items = read(source)
    assert records(items) == [
        segment(
            "Oolong sits between green and black tea: the leaves are partly oxidised, which gives "
            "some of them a light, floral taste and others a dark, roasted one.\n\n"
            "Rinse the leaves with hot water first, then brew them several times in a small pot; "
            "each infusion tastes a little different.",
            str(source),
            "Oolong & its many faces",
        ),
        segment(
            "- Buy small amounts from a shop that lists the harvest year.\n"
            "- Smell the leaves if you can; they should smell sweet, never musty.",
            str(source),
            "Buying",
        ),
    ]
    assert reasons(items) == [
        ("Buying", "navigation: mostly links"),
        ("Brewing", "too short: 6 words < --min-words 20"),
    ]
    assert [i.record["output"] for i in items if isinstance(i, Reject)][1] == (
        "```\nwater: 90 C\ntime:  45 s\n```"
    )


PLAIN = """A Short Guide to Compost

Composting turns kitchen scraps and garden waste into dark, crumbly soil. It takes a few
months, costs almost nothing, and keeps a surprising amount of rubbish out of landfill.

What to add

Mix "greens" such as vegetable peelings, coffee grounds and grass cuttings with "browns"
such as dry leaves, shredded cardboard and straw. Roughly equal amounts keep the heap healthy.

Avoid meat, dairy and cooked food, which attract rats.
"""


def test_plain_text_segments_and_packing(tmp_path: Path) -> None:
    source = tmp_path / "compost.txt"
    source.write_text(PLAIN)
    intro = (
        "Composting turns kitchen scraps and garden waste into dark, crumbly soil. It takes a "
        "few months, costs almost nothing, and keeps a surprising amount of rubbish out of landfill."
    )
    mix = (
        'Mix "greens" such as vegetable peelings, coffee grounds and grass cuttings with "browns" '
        "such as dry leaves, shredded cardboard and straw. Roughly equal amounts keep the heap "
        "healthy."
    )
    avoid = "Avoid meat, dairy and cooked food, which attract rats."
    assert records(read(source)) == [
        segment(intro, str(source), "A Short Guide to Compost"),
        segment(f"{mix}\n\n{avoid}", str(source), "What to add"),
    ]
    # A section over --max-words is cut between paragraphs; the short rest is rejected.
    options = documents.DocOptions(min_words=5, max_words=30)
    small = read(source, docs=options)
    assert [r["output"] for r in records(small)] == [intro, mix, avoid]
    tight = read(source, docs=documents.DocOptions(min_words=20, max_words=30))
    assert reasons(tight) == [("What to add", "too short: 9 words < --min-words 20")]


def test_folder_of_documents(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "b").mkdir(parents=True)
    (docs / ".git").mkdir()
    (docs / "b" / "compost.txt").write_text(PLAIN)
    (docs / "a.md").write_text(MARKDOWN)
    (docs / ".git" / "notes.md").write_text(MARKDOWN)
    (docs / "data.jsonl").write_text("{}\n")
    (docs / "copy.MD").write_text(MARKDOWN)
    result = seed("docs", "-o", "out.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["document"], r.get("heading")) for r in out] == [
        ("docs/a.md", "Brewing green tea"),
        ("docs/b/compost.txt", "A Short Guide to Compost"),
        ("docs/b/compost.txt", "What to add"),
    ]  # copy.MD repeats a.md: its segment is a duplicate
    assert result.stderr.splitlines()[0] == (
        "seed: docs looks like a folder of 3 documents (use --format to force)"
    )
    assert "seed: read 3, wrote 3, rejected 9" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = seed("empty", cwd=tmp_path)
    assert bad.returncode == 2
    assert (
        bad.stderr
        == "camelid: error: empty: no .txt, .md, .markdown, .html, .htm files in this folder\n"
    )


def test_documents_from_stdin() -> None:
    result = seed("--format", "documents", "-q", stdin=HTML)
    assert [json.loads(line)["heading"] for line in result.stdout.splitlines()] == [
        "Oolong & its many faces",
        "Buying",
    ]
    assert json.loads(result.stdout.splitlines()[0])["document"] == "<stdin>"


def test_real_documents_within_bounds(tmp_path: Path) -> None:
    """Human-written Markdown on this machine: the long descriptions of our own dependencies."""
    for name in ("typer", "rich", "pydantic"):
        (tmp_path / f"{name}.md").write_text(importlib.metadata.metadata(name).get_payload())
    html = Path("/usr/share/doc/base-passwd/users-and-groups.html")  # Debian's own manual
    paths = [tmp_path] + ([html] if html.exists() else [])
    options = documents.DocOptions(min_words=20, max_words=300)
    out = records(read(*paths, docs=options))
    per_doc = {r["document"] for r in out}
    assert len(out) >= 30
    assert {str(tmp_path / f"{n}.md") for n in ("typer", "rich", "pydantic")} <= per_doc
    for r in out:
        words = sum(any(c.isalnum() for c in t) for t in r["output"].split())
        assert 20 <= words <= 300, r
        assert "](http" not in r["output"] and "<img" not in r["output"]
    assert len({r["output"] for r in out}) == len(out)


def test_usage_errors_surface_from_stage(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nope.md: no such file"):
        read(tmp_path / "nope.md")


def test_identity_conversations_carry_the_assistants_name_and_maker() -> None:
    result = seed("--identity", "--assistant-name", "Dromedary",
                     "--assistant-maker", "IBM Research")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) >= 20 and {r["source"] for r in rows} == {"identity"}
    assert all(r["instruction"] and r["output"] for r in rows)
    assert all("{" not in r["output"] for r in rows)  # every placeholder filled
    assert sum("Dromedary" in r["output"] for r in rows) >= len(rows) - 2
    assert any("IBM Research" in r["output"] for r in rows)
    mixed = seed("--builtin", "--identity", "-q")
    assert len(mixed.stdout.splitlines()) == 54 + len(rows)
    alone = seed("--assistant-name", "X", stdin="")
    assert alone.returncode == 2
    assert "--assistant-name and --assistant-maker go with --identity" in alone.stderr
