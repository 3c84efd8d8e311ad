"""`camelid train`: fine-tune a model on camelid records (sft, backward, dpo, reward) with TRL."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from camelid.commands.common import Inputs, Quiet, epilog, input_paths
from camelid.errors import BadInputError, UsageError
from camelid.io import read_records
from camelid.packs import load_pack
from camelid.runtime.engine import protect_stdout
from camelid.runtime.progress import stderr
from camelid.stages.train.config import resolve_train_config
from camelid.stages.train.data import Prompting, training_rows
from camelid.stages.train.output import OutputDir

HELP = (
    "Fine-tune a model on records: sft (answers), backward (instructions from answers, for "
    "backtranslate --pack backward), dpo (pairs) or reward (a reward model from pairs, for "
    "score --reward-model). LoRA by default; the output directory is a model every --model "
    "accepts (a reward model: --reward-model)."
)
TRAINING = "Training"
LORA = "LoRA and DPO"


def _opt(help: str, panel: str = TRAINING) -> typer.models.OptionInfo:
    return typer.Option(help=help, show_default=False, rich_help_panel=panel)


def register(app: typer.Typer) -> None:
    app.command(
        "train",
        help=HELP,
        epilog=epilog(
            "camelid train --task sft curated.jsonl -o models/m1 && camelid respond --model "
            "models/m1 prompts.jsonl",
            "sft: instruction, input, output, system, source (--humpback-tags) or messages; "
            "backward: instruction, input, output; dpo and reward: chosen, rejected and "
            "instruction/input or prompt (as `camelid pairs` writes them)",
            "the model directory (its path on stdout): a LoRA adapter that --model merges on "
            "first use, or with --merge / --full a whole model; checkpoints/ in it, from which "
            "a new run resumes; camelid-train.json with the settings",
        ),
    )(train_command)


def train_command(
    inputs: Inputs = None,
    task: Annotated[
        str | None, typer.Option(help="sft, backward, dpo or reward.", show_default=False)
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="The model directory to write.", show_default=False),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Model to start from: a built-in name, a directory (a trained one "
            "too) or a hub id. Default smollm2-135m-instruct.",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    full: Annotated[
        bool | None, typer.Option("--full", help="Full fine-tuning instead of LoRA.")
    ] = None,
    merge: Annotated[
        bool | None,
        typer.Option("--merge", help="LoRA: write the merged model, adapter in OUTDIR/adapter."),
    ] = None,
    config: Annotated[
        str | None, typer.Option(help="YAML file of these settings (and more); flags override.")
    ] = None,
    pack: Annotated[
        str | None,
        typer.Option(
            help="sft/dpo/reward: train on the prompt this pack renders, as respond "
            "sends it. Default plain.",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    humpback_tags: Annotated[
        bool | None,
        typer.Option(
            "--humpback-tags",
            help="System prompt from source (seed / augmented) "
            "for records without a system prompt, as Humpback trains.",
        ),
    ] = None,  # fmt: skip
    epochs: Annotated[float | None, _opt("Passes over the data. Default 3.")] = None,
    max_steps: Annotated[
        int | None, _opt("Stop after this many steps (wins over --epochs).")
    ] = None,
    batch_size: Annotated[int | None, _opt("Rows per step per device. Default 8.")] = None,
    grad_accum: Annotated[int | None, _opt("Steps accumulated per update. Default 4.")] = None,
    lr: Annotated[
        float | None,
        _opt(
            "Learning rate (decays linearly). Default: 1e-5 full "
            "(Humpback), 2e-4 LoRA; dpo 5e-7 full, 5e-6 LoRA; reward 1e-5 full, 1e-4 LoRA."
        ),
    ] = None,  # fmt: skip
    max_length: Annotated[int | None, _opt("Tokens per row, longer cut. Default 2048.")] = None,
    save_steps: Annotated[int | None, _opt("Checkpoint every N steps. Default 100.")] = None,
    seed: Annotated[int | None, _opt("Random seed. Default 0.")] = None,
    lora_r: Annotated[int | None, _opt("LoRA rank. Default 16.", LORA)] = None,
    lora_alpha: Annotated[int | None, _opt("LoRA alpha. Default 32.", LORA)] = None,
    beta: Annotated[float | None, _opt("DPO beta. Default 0.1.", LORA)] = None,
    resume: Annotated[
        bool | None,
        typer.Option(
            "--resume/--no-resume",
            help="Resume from the last checkpoint in OUTDIR "
            "(default: whenever there is one); --no-resume deletes them and starts over.",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,  # fmt: skip
    quiet: Quiet = False,
) -> None:
    started = time.monotonic()
    paths = input_paths(inputs)
    flags = dict(task=task, output=output, model=model, full=full, merge=merge, pack=pack,
                 humpback_tags=humpback_tags, epochs=epochs, max_steps=max_steps,
                 batch_size=batch_size, grad_accum=grad_accum, lr=lr, max_length=max_length,
                 save_steps=save_steps, seed=seed, lora_r=lora_r, lora_alpha=lora_alpha,
                 beta=beta, resume=resume)  # fmt: skip
    settings = resolve_train_config(flags, config)
    prompting = None
    if settings.task != "backward":
        p = load_pack(settings.pack or "plain")
        if p.manifest.mode != "chat":
            raise UsageError(f"--pack {settings.pack}: train needs a chat pack (mode: chat)")
        prompting = Prompting(p, settings.humpback_tags)
    out = OutputDir(settings.output)
    resume_from = out.check(settings)
    records = list(read_records(paths))
    rows = training_rows(records, settings.task, prompting)
    if not rows:
        raise BadInputError(", ".join(paths), None, "no records to train on")

    def log(message: str) -> None:
        if not quiet:
            stderr.print(message, markup=False)

    if resume_from is not None and out.read_marker().get("complete"):
        log(f"train: {out.path} holds a finished run: going on from {resume_from.name} "
            "(--no-resume starts over)")  # fmt: skip

    from camelid.models import resolve_model
    from camelid.stages.train.run import train  # torch and TRL from here on

    protect_stdout()  # the libraries may print; stdout carries the model's path only
    model_path = resolve_model(settings.model)
    out.start(settings, len(rows))
    steps = train(settings, model_path, rows, out, resume_from, log)
    out.finish(steps)
    kind = "merged model" if settings.merge else "model" if settings.full else "LoRA adapter"
    log(f"train: {len(records)} records, {len(rows)} rows, {steps} steps in "
        f"{time.monotonic() - started:.1f}s: {kind} in {out.path}")  # fmt: skip
    typer.echo(str(out.path))
