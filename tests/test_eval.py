"""`eval`: the statistics (win rate, bootstrap interval, length-controlled win rate), and the
command on scripted answers and a scripted judge: exact figures, records and rejects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from camelid.stages.eval.statistics import (
    bootstrap_interval,
    figures,
    fit_logistic,
    lc_win_rate,
    win_rate,
)
from tests.conftest import camelid

# ------------------------------------------------------------------ statistics


def test_win_rate_counts_a_tie_as_half() -> None:
    made = figures(["A", "B", "tie", "A", "A"], [1] * 5, [1] * 5)
    assert (made.prompts, made.wins, made.losses, made.ties) == (5, 3, 1, 1)
    assert made.win_rate == pytest.approx(3.5 / 5)
    assert win_rate([]) is None


def test_bootstrap_interval_is_fixed_by_its_seed_and_holds_the_estimate() -> None:
    preferences = [1.0, 0.0, 0.5, 1.0, 1.0, 0.0, 1.0, 0.5, 1.0, 0.0]
    first = bootstrap_interval(preferences, resamples=1000, seed=7)
    assert first == bootstrap_interval(preferences, resamples=1000, seed=7)
    assert first != bootstrap_interval(preferences, resamples=1000, seed=8)
    low, high = first
    assert low < np.mean(preferences) < high
    assert low >= 0.0 and high <= 1.0
    assert bootstrap_interval([1.0, 1.0], seed=0) == (1.0, 1.0)  # nothing varies
    assert bootstrap_interval([], seed=0) is None


def test_lc_win_rate_is_the_win_rate_when_lengths_are_equal() -> None:
    preferences = [1.0, 0.0, 0.5, 1.0, 1.0, 0.0, 1.0]
    lc, slope = lc_win_rate(preferences, [40] * 7, [40] * 7)
    assert lc == pytest.approx(np.mean(preferences), abs=1e-9)
    assert slope == pytest.approx(0.0, abs=1e-9)


def test_lc_win_rate_moves_toward_half_when_the_longer_answer_always_wins() -> None:
    outcomes = ["A"] * 8 + ["B"] * 2
    longer_wins_a = [300 if o == "A" else 100 for o in outcomes]
    longer_wins_b = [100 if o == "A" else 300 for o in outcomes]
    made = figures(outcomes, longer_wins_a, longer_wins_b)  # separable by length alone
    assert made.win_rate == 0.8
    assert 0.5 < made.lc_win_rate < 0.8
    assert made.length_slope > 0  # longer wins
    # A partly wins by length: controlled for it, its win rate comes down toward a half too
    mixed = ["A", "A", "A", "A", "B", "A", "tie", "B", "A", "B"]
    lengths_a = [900, 850, 700, 820, 880, 300, 500, 100, 760, 650]
    lengths_b = [300, 200, 450, 330, 250, 600, 500, 700, 240, 300]
    lc, _ = lc_win_rate([{"A": 1.0, "B": 0.0, "tie": 0.5}[o] for o in mixed], lengths_a, lengths_b)
    assert 0.5 < lc < win_rate([{"A": 1.0, "B": 0.0, "tie": 0.5}[o] for o in mixed])


def test_logistic_fit_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 20_000)
    y = (rng.uniform(size=x.size) < 1 / (1 + np.exp(-(0.5 + 2.0 * x)))).astype(float)
    intercept, slope = fit_logistic(x, y, penalty=0.0)
    assert intercept == pytest.approx(0.5, abs=0.05)
    assert slope == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize(
    ("outcomes", "lengths_a", "lengths_b", "lc"),
    [
        (["A", "A", "A"], [10, 50, 90], [20, 20, 20], 1.0),  # all won
        (["B", "B"], [10, 50], [20, 20], 0.0),  # all lost
        (["tie"] * 4, [1, 2, 3, 4], [4, 3, 2, 1], 0.5),
        (["A"], [10], [5], 1.0),  # one prompt
        ([], [], [], None),
    ],
)
def test_degenerate_data_does_not_crash(outcomes, lengths_a, lengths_b, lc) -> None:
    made = figures(outcomes, lengths_a, lengths_b)
    assert made.lc_win_rate == (pytest.approx(lc) if lc is not None else None)


def test_every_answer_longer_by_the_same_amount_gives_a_finite_rate() -> None:
    made = figures(["A"] * 6 + ["B"] * 4, [50] * 10, [30] * 10)  # no spread in the difference
    assert 0.0 < made.lc_win_rate < 1.0


# ------------------------------------------------------------------ the command


def vote(preferred: str) -> str:
    return json.dumps(json.dumps({"rationale": f"said {preferred}", "preferred": preferred}))


PROMPTS = [
    {"id": "p1", "instruction": "Add 2 and 2."},
    {"id": "p2", "instruction": "Name a colour."},
    {"id": "p3", "instruction": "Say hello.", "input": "in French"},
    {"id": "p4", "instruction": "Capital of France?"},
    {"id": "p5", "instruction": "Largest planet?"},
]
ANSWERS_A = [
    {"id": "p1", "instruction": "Add 2 and 2.", "output": "4"},
    {"id": "p2", "instruction": "Name a colour.", "output": "Red."},
    {"instruction": "Say hello.", "input": "in French", "output": "Bonjour."},  # found by text
    {
        "id": "p4",
        "instruction": "Capital of France?",
        "output": "Paris.",
        "lineage": [{"stage": "respond", "model": "m-a"}, {"stage": "score", "model": "judge"}],
    },
    {"id": "p5", "instruction": "Largest planet?", "output": "Jupiter."},
]
ANSWERS_B = [  # no answer to p5
    {"id": "p1", "instruction": "Add 2 and 2.", "output": "5"},
    {"id": "p2", "instruction": "Name a colour.", "output": "Blue, like the sky."},
    {"id": "p3", "instruction": "Say hello.", "output": "Hello."},
    {"id": "p4", "instruction": "Capital of France?", "output": "Lyon."},
]
# Both orders of each judged prompt, in turn: p1 A both times (AB: "A", BA: "B"), p2 B both
# times, p3 the orders disagree (a tie), p4 A both times.
VOTES = ["A", "B", "B", "A", "A", "A", "A", "B"]


def write_jsonl(path: Path, rows: list) -> str:
    """Write the rows; their file's name, as the tests run the command in its folder."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path.name


def run_files(tmp_path: Path, *extra: str):
    replies = tmp_path / "judge.jsonl"
    replies.write_text("".join(vote(v) + "\n" for v in VOTES))
    return camelid(
        "eval", write_jsonl(tmp_path / "prompts.jsonl", PROMPTS),
        "--answers-a", write_jsonl(tmp_path / "a.jsonl", ANSWERS_A),
        "--answers-b", write_jsonl(tmp_path / "b.jsonl", ANSWERS_B),
        "--engine", "scripted", "--replies", str(replies), *extra, cwd=tmp_path,
    )  # fmt: skip


def test_eval_of_two_answer_files_gives_exact_figures_and_records(tmp_path: Path) -> None:
    result = run_files(tmp_path, "-o", "judged.jsonl", "--stats", "stats.json",
                       "--rejects", "rejects.jsonl")  # fmt: skip
    assert result.returncode == 0, result.stderr
    interval = bootstrap_interval([1.0, 0.0, 0.5, 1.0], resamples=1000, seed=0)
    low, high = interval
    assert low <= 0.625 <= high
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert {k: stats[k] for k in ("a", "b", "judge", "prompts", "wins", "losses", "ties",
                                  "win_rate", "win_rate_interval", "judge_failures")} == {
        "a": "a.jsonl", "b": "b.jsonl", "judge": "scripted", "prompts": 4, "wins": 2,
        "losses": 1, "ties": 1, "win_rate": 0.625,
        "win_rate_interval": [round(low, 4), round(high, 4)], "judge_failures": 0,
    }  # fmt: skip
    lengths = [(1, 1), (4, 19), (8, 6), (6, 5)]
    lc = figures(["A", "B", "tie", "A"], *zip(*lengths, strict=True)).lc_win_rate
    assert stats["lc_win_rate"] == round(lc, 4)
    assert stats["bootstrap"] == {"resamples": 1000, "seed": 0, "confidence": 0.95}
    assert (stats["read"], stats["written"], stats["rejected"]) == (5, 4, 1)
    assert result.stderr.splitlines()[:6] == [
        "eval: A = a.jsonl against B = b.jsonl, judged by scripted",
        "  prompts               4",
        "  wins / losses / ties  2 / 1 / 1",
        f"  win rate of A         62.5%  95% interval {100 * low:.1f}% to {100 * high:.1f}%",
        f"  length-controlled     {100 * lc:.1f}%  length slope {stats['length_slope']:+.2f}",
        "  no difference shown (the 95% interval covers 50%)",
    ]
    records = [json.loads(line) for line in (tmp_path / "judged.jsonl").read_text().splitlines()]
    assert [(r["id"], r["outcome"]) for r in records] == [
        ("p1", "A"), ("p2", "B"), ("p3", "tie"), ("p4", "A")
    ]  # fmt: skip
    first = records[0]
    assert first["instruction"] == "Add 2 and 2."
    assert first["completions"] == [
        {"text": "4", "model": "a.jsonl", "scores": {"pairwise": 1.0}},
        {"text": "5", "model": "b.jsonl", "scores": {"pairwise": 0.0}},
    ]
    assert first["votes"] == [
        {"order": "AB", "preferred": "A", "favours": "A", "rationale": "said A"},
        {"order": "BA", "preferred": "B", "favours": "A", "rationale": "said B"},
    ]
    assert [v["favours"] for v in records[2]["votes"]] == ["A", "B"]  # disagree: a tie
    assert records[2]["completions"][0]["text"] == "Bonjour."  # matched by instruction + input
    assert records[3]["completions"][0]["model"] == "m-a"  # the model respond wrote it with
    entry = first["lineage"][-1]
    assert (entry["stage"], entry["pack"], entry["model"]) == ("eval", "pairwise", "scripted")
    assert entry["answers"] == {"A": "a.jsonl", "B": "b.jsonl"}


def test_a_prompt_missing_from_an_answer_file_is_a_reject_naming_it(tmp_path: Path) -> None:
    result = run_files(tmp_path, "-o", "judged.jsonl", "--rejects", "rejects.jsonl")
    assert result.returncode == 0, result.stderr
    [reject] = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert reject == {
        "stage": "eval",
        "reason": "no answer in --answers-b b.jsonl (matched by id, then instruction and input)",
        "where": "prompts.jsonl:5",
        "record": {"id": "p5", "instruction": "Largest planet?"},
    }


def test_a_resumed_eval_reports_over_the_whole_file(tmp_path: Path) -> None:
    assert run_files(tmp_path, "-o", "judged.jsonl").returncode == 0
    again = run_files(tmp_path, "-o", "judged.jsonl", "--resume", "--stats", "stats.json")
    assert again.returncode == 0, again.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["skipped"], stats["written"], stats["prompts"], stats["win_rate"]) == (
        5, 0, 4, 0.625
    )  # fmt: skip


def test_an_unparsable_judgement_is_a_reject_not_a_tie(tmp_path: Path) -> None:
    replies = tmp_path / "judge.jsonl"
    replies.write_text(vote("A") + "\n" + json.dumps("not json") + "\n")
    prompts = write_jsonl(tmp_path / "prompts.jsonl", PROMPTS[:1])
    result = camelid(
        "eval", prompts, "--answers-a", write_jsonl(tmp_path / "a.jsonl", ANSWERS_A),
        "--answers-b", write_jsonl(tmp_path / "b.jsonl", ANSWERS_B), "--engine", "scripted",
        "--replies", str(replies), "--rejects", "rejects.jsonl", "--stats", "stats.json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    [reject] = [json.loads(x) for x in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert reject["reason"] == ("the judge's reply did not parse (order BA: unparsable judgement)")
    assert reject["record"]["votes"][1]["raw"] == "not json"
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["prompts"], stats["win_rate"], stats["judge_failures"]) == (0, None, 1)
    assert "no prompt was judged: no win rate" in result.stderr


def test_two_models_answer_in_the_run_then_are_judged(tmp_path: Path) -> None:
    """--model a=x --model b=x: one scripted engine serves both (the same model stays loaded),
    answering p1 and p2 as A, then as B; the judge (another model) replays from the start."""
    replies = tmp_path / "replies.jsonl"
    replies.write_text("".join(vote(v) + "\n" for v in ["A", "B", "A", "A"]))
    result = camelid(
        "eval", write_jsonl(tmp_path / "prompts.jsonl", PROMPTS[:2]),
        "--model", "a=x", "--model", "b=x", "--engine", "scripted", "--replies", str(replies),
        "-o", "judged.jsonl", "--stats", "stats.json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "judged.jsonl").read_text().splitlines()]
    texts = [json.loads(json.loads(v)) for v in (vote("A"), vote("B"), vote("A"), vote("A"))]
    answers = [[json.loads(c["text"]) for c in r["completions"]] for r in records]
    assert answers == [[texts[0], texts[2]], [texts[1], texts[3]]]
    assert [[c["model"] for c in r["completions"]] for r in records] == [["a", "b"]] * 2
    assert [r["outcome"] for r in records] == ["A", "tie"]
    answered, judged = records[0]["lineage"]
    assert (answered["stage"], answered["pack"], answered["models"]) == (
        "eval answers", "plain", {"A": "x", "B": "x"}
    )  # fmt: skip
    assert (judged["stage"], judged["answers"]) == ("eval", {"A": "a", "B": "b"})
    assert "eval: answers from A = a" in result.stderr
    assert "eval: answers from B = b" in result.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["a"], stats["b"], stats["win_rate"]) == ("a", "b", 0.75)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "x", "--answers-a", "a.jsonl"],
         "give two --model or --answers-a and --answers-b, not both"),
        (["--answers-a", "a.jsonl"], "--answers-b is missing: give both answer files"),
        (["--model", "x"], "give two --model (A and B; NAME=MODEL names them), not 1; "
                           "or two answer files with --answers-a and --answers-b"),
        (["--answers-a", "a.jsonl", "--answers-b", "nope.jsonl"], "nope.jsonl: no such file"),
        (["--answers-a", "-", "--answers-b", "a.jsonl"],
         "only one input can be read from stdin ('-'); name the others"),
        (["--answers-a", "a.jsonl", "--answers-b", "a.jsonl", "--rubric", "humpback"],
         "--rubric humpback: pack humpback is not a pairwise rubric"),
    ],
)  # fmt: skip
def test_usage_errors_come_before_any_model(tmp_path: Path, args: list, message: str) -> None:
    write_jsonl(tmp_path / "a.jsonl", ANSWERS_A)
    result = camelid("eval", *args, "--engine", "scripted", "--replies", "a.jsonl",
                     cwd=tmp_path)  # fmt: skip
    assert (result.returncode, result.stderr) == (2, f"camelid: error: {message}\n")


def test_help_has_an_example_and_the_fields() -> None:
    result = camelid("eval", "--help")
    assert result.returncode == 0
    for part in ("Example:  camelid eval", "Reads: ", "Writes: ", "Exit codes: ", "--answers-a",
                 "--judge", "--executor"):  # fmt: skip
        assert part in result.stdout, part
