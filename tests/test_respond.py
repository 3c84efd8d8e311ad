"""`respond` with the scripted engine: outputs, completions, per-record rejects and seeds."""

from __future__ import annotations

from collections import Counter

from camelid.engines.base import Generation, Result, record_seed
from camelid.engines.scripted import ScriptedEngine
from camelid.packs import load_pack
from camelid.records import Record, Reject
from camelid.runtime import batched
from camelid.stages.respond.stage import Responder, dropped_note


def respond(
    records: list[dict], engine: ScriptedEngine, n: int = 1, batch_size: int = 8, **more: object
) -> list:
    pack = load_pack("plain")
    sampling = pack.sampling.merged(n=n, seed=7)
    recs = [Record.model_validate(r) for r in records]
    stage = Responder(pack, sampling, [engine.model], **more).serving(engine, 0)  # type: ignore[arg-type]
    return [x for batch in batched(recs, batch_size) for x in stage(batch)]


def test_too_long_prompt_becomes_a_reject_and_neighbours_go_on() -> None:
    too_long = Result(error="prompt is 3000 tokens; the model's context is 2048 (--max-model-len)")
    engine = ScriptedEngine(["first", too_long, "third"])
    out = respond([{"instruction": "a"}, {"instruction": "b"}, {"instruction": "c"}], engine)
    assert [o.output for o in out if isinstance(o, Record)] == ["first", "third"]
    [reject] = [o for o in out if isinstance(o, Reject)]
    assert (reject.stage, reject.reason) == ("respond", too_long.error)
    assert reject.record.instruction == "b"


def test_n_answers_fill_completions_with_the_model() -> None:
    engine = ScriptedEngine(["one", "two", Generation("cut", "length")], model="m1")
    dropped: Counter[str] = Counter()
    [out] = respond([{"instruction": "a", "tags": ["x"]}], engine, n=3, dropped=dropped)
    assert [(c.text, c.model) for c in out.completions] == [("one", "m1"), ("two", "m1")]
    assert out.tags == ["x"] and out.output is None
    # The cut-off third is not lost silently: the run says so.
    assert dropped_note(dropped) == (
        "respond: 1 completion dropped from records that kept others: answer cut off at "
        "--max-tokens 512 (1); --keep-truncated keeps cut-off answers"
    )


def test_seeds_are_per_record_and_independent_of_batching() -> None:
    records = [{"instruction": f"task {i}"} for i in range(5)]
    one, many = ScriptedEngine(["x"], cycle=True), ScriptedEngine(["x"], cycle=True)
    respond(records, one, batch_size=1)
    respond(records, many, batch_size=5)
    ids = [Record.model_validate(r).id for r in records]
    assert one.seeds == many.seeds == [record_seed(7, i) for i in ids]
    assert len(set(one.seeds)) == 5
