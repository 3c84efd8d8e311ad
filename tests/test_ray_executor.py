"""`--executor ray` on a real Ray cluster (a head and a second node on this machine).

The scripted engine stands in for the model here (its reply chosen by each request's seed, so
a reply does not depend on which replica served it); tests/engine/test_ray_vllm.py runs vLLM
inside a Ray actor. Each command runs as a user would, in a subprocess that joins the cluster.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REDTEAM_SEEDS, SEED_TASKS, camelid

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = pytest.mark.slow

REPLIES = ["A short answer.", "Another answer, a little longer than the first.", "Yes."]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    started = Cluster(initialize_head=True, connect=True, head_node_args={"num_cpus": 2})
    started.add_node(num_cpus=1)
    started.wait_for_nodes()
    yield started
    ray.shutdown()
    started.shutdown()


@pytest.fixture
def scripted(tmp_path: Path) -> dict[str, str]:
    """Flags' environment: scripted replies picked by seed, so any replica gives the same one."""
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in REPLIES))
    return {"CAMELID_ENGINE": "scripted", "CAMELID_REPLIES": str(path),
            "CAMELID_REPLIES_PICK": "seed"}  # fmt: skip


def tasks(tmp_path: Path, count: int = 40) -> Path:
    """Seed tasks as records, with keys no command knows (they must come back untouched)."""
    rows = [json.loads(x) for x in SEED_TASKS.read_text().splitlines()]
    path = tmp_path / "tasks.jsonl"
    with path.open("w") as f:
        for i in range(count):
            row = rows[i % len(rows)]
            record = {"id": f"t{i}", "instruction": row["instruction"],
                      "input": row["instances"][0]["input"], "output": row["instances"][0]["output"],
                      "meta": {"n": i, "tags": ["é", None, 1.5]}}  # fmt: skip
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def on_ray(cluster: Cluster, *args: str, replicas: int = 2) -> list[str]:
    return [*args, "--executor", "ray", "--ray-address", cluster.address, "--replicas",
            str(replicas)]  # fmt: skip


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


COMMANDS = {
    "respond": ["respond", "{tasks}", "--batch-size", "8"],
    "backtranslate": ["backtranslate", "{segments}", "--batch-size", "8"],
    "self-instruct": ["self-instruct", "{seeds}", "--target", "6", "--no-instances"],
    "redteam": [
        "redteam",
        str(REDTEAM_SEEDS),
        "--topics",
        "{topics}",
        "--questions-per-topic",
        "2",
    ],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_on_ray_writes_the_records_of_a_local_run(
    cluster: Cluster, scripted: dict[str, str], tmp_path: Path, command: str
) -> None:
    topics = tmp_path / "topics.jsonl"
    topics.write_text("".join(json.dumps({"question_type": "Questions that require scientific "
                      "knowledge", "topic": t}) + "\n" for t in ("Gravity", "Tides", "Comets")))  # fmt: skip
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(camelid("seed", str(SEED_TASKS), "-q").stdout)
    segments = tmp_path / "segments.jsonl"  # bare texts, as backtranslate labels
    segments.write_text("".join(json.dumps({"id": r["id"], "output": r["output"], "meta": r["meta"]})
                                + "\n" for r in map(json.loads, lines(tasks(tmp_path)))))  # fmt: skip
    places = {"tasks": str(tasks(tmp_path)), "seeds": str(seeds), "topics": str(topics),
              "segments": str(segments)}  # fmt: skip
    args = [a.format(**places) for a in COMMANDS[command]]
    env = dict(scripted)
    if command == "self-instruct":  # a listing of new tasks, as the self-instruct pack asks
        listing = "".join(f"\n{n}. Instruction: Describe the colour number {n} of a rainbow."
                          for n in range(9, 12))  # fmt: skip
        Path(env["CAMELID_REPLIES"]).write_text(json.dumps(listing) + "\n")
    if command == "backtranslate":
        asked = ['{"instruction":"Why do weeks start on Monday?"}', '{"instruction":""}',
                 '{"instruction":"Give me a recipe for a breakfast without eggs."}']  # fmt: skip
        Path(env["CAMELID_REPLIES"]).write_text("".join(json.dumps(a) + "\n" for a in asked))
    if command == "redteam":
        questions = [" How far is the moon from the earth at its closest?",
                     " Why do comets have tails that point away from the sun?"]  # fmt: skip
        Path(env["CAMELID_REPLIES"]).write_text("".join(json.dumps(q) + "\n" for q in questions))
    local = camelid(*args, "-q", env=env)
    remote = camelid(*on_ray(cluster, *args), "-q", env=env)
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert local.stdout.strip(), "the local run wrote nothing"
    assert remote.stdout == local.stdout


def test_score_on_ray_writes_the_scores_of_a_local_run(
    cluster: Cluster, scripted: dict[str, str], tmp_path: Path
) -> None:
    judgements = ['{"rationale":"Clear and correct.","rating":5}',
                  '{"rationale":"Vague.","rating":2}', "not json"]  # fmt: skip
    Path(scripted["CAMELID_REPLIES"]).write_text("".join(json.dumps(j) + "\n" for j in judgements))
    args = ["score", str(tasks(tmp_path)), "--audit", "0", "--batch-size", "8", "-q"]
    local = camelid(*args, env=scripted)
    remote = camelid(*on_ray(cluster, *args), env=scripted)
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr
    scores = {json.dumps(json.loads(x)["scores"]) for x in local.stdout.splitlines()}
    assert len(scores) == 3  # 5, 2 and a failed parse: the replies really vary by record
    assert remote.stdout == local.stdout


def test_unknown_executor_and_ray_flags_without_ray_are_refused(tmp_path: Path) -> None:
    bad = camelid("respond", str(tasks(tmp_path)), "--executor", "spark")
    assert bad.returncode == 2 and "--executor" in bad.stderr and "spark" in bad.stderr
    alone = camelid("respond", str(tasks(tmp_path)), "--replicas", "2")
    assert alone.returncode == 2
    assert "--replicas is only for --executor ray" in alone.stderr


# ---------------------------------------------------------------- failures survived


def slow_run(
    cluster: Cluster, scripted: dict[str, str], data: Path, out: Path, *extra: str
) -> subprocess.Popen[str]:
    """respond in the background, each prompt taking 20 ms on its replica."""
    env = {**os.environ, **scripted, "CAMELID_REPLIES_DELAY": "0.02"}
    args = on_ray(cluster, "respond", str(data), "--batch-size", "16", "-o", str(out), "-q")
    return subprocess.Popen([sys.executable, "-m", "camelid", *args, *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_for_lines(path: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while len(lines(path)) < count:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the run never reached the point to interrupt"
        time.sleep(0.1)


def replica_pids() -> list[int]:
    """Processes of engine replicas: Ray titles an actor's worker process ray::ClassName."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes() if proc.name.isdigit() else b""
        except OSError:
            continue  # gone meanwhile
        if title.startswith(b"ray::EngineReplica"):
            found.append(int(proc.name))
    assert found, "no engine replica process found"
    return found


def expected(scripted: dict[str, str], data: Path) -> list[str]:
    result = camelid("respond", str(data), "-q", env=scripted)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_replica_killed_mid_run_is_replaced_and_nothing_is_lost(
    cluster: Cluster, scripted: dict[str, str], tmp_path: Path
) -> None:
    data, out = tasks(tmp_path, 300), tmp_path / "out.jsonl"
    run = slow_run(cluster, scripted, data, out)
    wait_for_lines(out, 32, run)
    os.kill(replica_pids()[0], signal.SIGKILL)
    assert run.poll() is None  # killed mid-run
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert lines(out) == expected(scripted, data)


def test_a_node_lost_mid_run_costs_only_the_batches_in_flight(
    cluster: Cluster, scripted: dict[str, str], tmp_path: Path
) -> None:
    node = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    data, out = tasks(tmp_path, 300), tmp_path / "out.jsonl"
    run = slow_run(cluster, scripted, data, out, "--replicas", "3")
    wait_for_lines(out, 32, run)
    cluster.remove_node(node)  # preempted: its replica's chunk goes to a replica started anew
    assert run.poll() is None
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert lines(out) == expected(scripted, data)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_driver_stopped_mid_run_resumes_with_nothing_lost_or_repeated(
    cluster: Cluster, scripted: dict[str, str], tmp_path: Path, sig: signal.Signals
) -> None:
    data, out = tasks(tmp_path, 300), tmp_path / "out.jsonl"
    run = slow_run(cluster, scripted, data, out)
    wait_for_lines(out, 64, run)
    run.send_signal(sig)
    _, err = run.communicate(timeout=60)
    if sig == signal.SIGTERM:  # camelid's own handler, not the one ray.init installs
        assert run.returncode == 143, err
        assert "run the same command with --resume to continue" in err
    assert 64 <= len(lines(out)) < 300
    resumed = camelid(*on_ray(cluster, "respond", str(data), "--batch-size", "16", "-o",
                              str(out), "--resume", "-q"), env=scripted)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert lines(out) == expected(scripted, data)


@pytest.mark.parametrize("command", ["respond", "dedup"])
def test_an_address_where_no_cluster_answers_fails_at_once(
    scripted: dict[str, str], tmp_path: Path, command: str
) -> None:
    out = tmp_path / "out.jsonl"
    result = camelid(command, str(tasks(tmp_path)), "--executor", "ray", "--ray-address",
                     "127.0.0.1:1", "-o", str(out), env=scripted)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "--ray-address 127.0.0.1:1: no Ray cluster answers there" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["replies.jsonl", "tasks.jsonl"]
