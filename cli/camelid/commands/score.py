"""`camelid score`: LLM-as-judge with a rubric pack (humpback, ultrafeedback, alpagasus, critique),
or a trained reward model (--reward-model)."""

from __future__ import annotations

from typing import Annotated

import typer

from camelid.commands.common import Inputs, epilog, input_paths, run_flags
from camelid.commands.engine_flags import EngineOptions, engine_flags
from camelid.engines import Engine
from camelid.errors import UsageError
from camelid.packs import load_pack
from camelid.records import Record
from camelid.runtime import Run, RunOptions
from camelid.runtime.engine import protect_stdout
from camelid.runtime.generation import process, run_generation
from camelid.stages.score import STAGE, Judge
from camelid.stages.score.audit import CONTROLS, plan_audit
from camelid.stages.score.judge import SCORINGS
from camelid.stages.score.pairwise import PairwiseJudge


def register(app: typer.Typer) -> None:
    app.command(
        "score",
        help="Judge each answer (or every completion) with a rubric: scores and rationales; "
        "or score it with a reward model (--reward-model).",
        epilog=epilog(
            "camelid score answered.jsonl --rubric humpback -o scored.jsonl",
            "instruction, input, and output or completions[].text",
            "scores{aspect: rating} and rationales{aspect: text} on the record, or on each "
            "completion; types{aspect: [labels]} where the rubric has them; a judgement that "
            "did not parse leaves its score null with judge_errors{aspect: {error, raw}}; "
            "with --reward-model, scores.reward (null for an answer longer than the model's "
            "context)",
        ),
    )(score_command)


@engine_flags
@run_flags(resumable=True)
def score_command(
    options: EngineOptions,
    run: RunOptions,
    inputs: Inputs = None,
    rubric: Annotated[
        str | None,
        typer.Option(
            help="Rubric pack: humpback (default), ultrafeedback, alpagasus, critique, "
            "pairwise (which of two completions is better, both orders), or a folder.",
            show_default=False,
        ),
    ] = None,
    reward_model: Annotated[
        str | None,
        typer.Option(
            help="Score with this reward model instead of a judge (`train --task reward`'s "
            "output, or any one-output sequence classifier): scores.reward on the record or "
            "each completion. Not with --rubric.",
            show_default=False,
        ),
    ] = None,
    judge_model: Annotated[
        str | None, typer.Option(help="Model that judges (default: --model).")
    ] = None,
    separately: Annotated[
        bool, typer.Option(help="Rate completions one by one, not all of a prompt together.")
    ] = False,
    scoring: Annotated[
        str,
        typer.Option(
            help="expected: the score is the rating expected under the judge's probabilities "
            "(G-Eval; ties broken, the written rating kept in `ratings`); sampled: the rating "
            "the judge wrote."
        ),
    ] = "expected",
    audit: Annotated[
        int,
        typer.Option(
            help="Records whose judgement is checked against known-bad answers (controls, "
            "never written out): how well the judge separates them is reported; 0: no audit.",
            min=0,
        ),
    ] = 16,
    audit_controls: Annotated[
        str,
        typer.Option(
            metavar="KINDS",
            help="Controls of the audit: mismatched (another record's answer), truncated "
            "(its first half), shuffled (its words shuffled); comma-separated.",
        ),
    ] = "mismatched",
) -> None:
    paths = input_paths(inputs)
    if reward_model is not None:
        if rubric is not None or judge_model is not None:
            flag = "--rubric" if rubric is not None else "--judge-model"
            raise UsageError(
                f"--reward-model and {flag} exclude each other: a reward model scores "
                "without a judge"
            )
        if options.executor != "local":
            raise UsageError(
                "--reward-model scores in this process (transformers); --executor ray is for "
                "judges, whose model runs in vLLM"
            )
        return score_with_reward_model(reward_model, run, options, paths)
    rubric = rubric or "humpback"
    pack = load_pack(rubric)
    if pack.manifest.rubric is None:
        raise UsageError(f"--rubric {rubric}: pack {pack.name} has no rubric (it is not a judge)")
    if scoring not in SCORINGS:
        raise UsageError(f"--scoring: choose one of {', '.join(SCORINGS)}, not {scoring!r}")
    kinds = [k.strip() for k in audit_controls.split(",") if k.strip()]
    if unknown := [k for k in kinds if k not in CONTROLS]:
        raise UsageError(
            f"--audit-controls: {', '.join(unknown)}: choose from {', '.join(CONTROLS)}"
        )
    sampling = pack.sampling.merged(**options.sampling_overrides(), seed=options.seed)

    def build(engine: Engine, records: list[Record]) -> Judge | PairwiseJudge:
        controls = plan_audit(records, audit, kinds, options.seed) if audit else {}
        if pack.manifest.rubric.mode == "pairwise":  # type: ignore[union-attr]
            return PairwiseJudge(pack, engine, sampling, controls)
        return Judge(pack, engine, sampling, separately, scoring, controls)

    def report(run: Run, judge: Judge) -> None:
        run.stats["judge_failures"] = judge.failed
        run.stats["audit"] = judge.audit.report()
        for line in judge.audit.summary():
            run.note(line)
        if judge.failed:
            run.note(
                f"score: {judge.failed} judgements did not parse; their scores are null "
                "(see judge_errors)"
            )

    run_generation(
        STAGE,
        run,
        options,
        paths,
        pack.lineage(STAGE, None, sampling),
        build,
        model=judge_model,
        after=report,
    )


def score_with_reward_model(
    model: str, options: RunOptions, engine_options: EngineOptions, paths: list[str]
) -> None:
    """The reward stage under the same runtime as the judges: input read whole, settings checked
    against a resumed file, the model loaded only when there is work left, batch after batch
    committed (--rejects, --resume, --stats, progress)."""
    from camelid.stages.score.reward import (
        RewardScorer,
        check_reward_model,
        load_reward_model,
        reward_lineage,
    )

    check_reward_model(model)
    protect_stdout()  # torch may print while loading
    with Run(STAGE, options, resumable=True) as run:
        records = run.read_all(paths)
        run.check_settings([reward_lineage(model)])
        todo = list(run.pending(records))
        if not todo:
            return
        if not options.quiet:
            run.note(f"loading reward model {model}…")
        loaded = load_reward_model(model, bool(engine_options.trust_remote_code))
        stage = RewardScorer(loaded, model)
        process(run, stage, todo, engine_options.batch_size)
        run.stats["reward"] = report = stage.report()
        if "best_of_gain" in report:
            run.note(f"score: best of each record's completions {report['best_mean']:.3f} vs "
                     f"the first {report['first_mean']:.3f} mean reward "
                     f"({report['best_of_gain']:+.3f})")  # fmt: skip
        if stage.too_long:
            run.note(f"score: {stage.too_long} answers longer than the reward model's context "
                     "have a null reward")  # fmt: skip
