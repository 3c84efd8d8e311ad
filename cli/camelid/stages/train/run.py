"""The training run: TRL's SFTTrainer (sft, backward), DPOTrainer (dpo) or RewardTrainer
(reward: the base model as a sequence classifier with one output, its new score head trained
whole beside the LoRA adapters), LoRA through peft unless --full. bf16 on a CUDA GPU that has
it, fp32 otherwise; the same code on both.

torch, transformers, trl, peft and datasets are imported here, inside `train`, only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from camelid.adapters import merge
from camelid.errors import CamelidError, Interrupted
from camelid.stages.train.config import TrainConfig
from camelid.stages.train.data import Row
from camelid.stages.train.output import OutputDir

Log = Callable[[str], None]
# Config fields that hold a dropout rate, across the architectures transformers knows.
DROPOUT_FIELDS = ("attention_dropout", "hidden_dropout", "dropout", "resid_pdrop", "embd_pdrop",
                  "attn_pdrop", "hidden_dropout_prob", "attention_probs_dropout_prob")  # fmt: skip


def _quiet_libraries() -> None:
    # Their progress bars and advice would bury our progress lines (and must not reach stdout).
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def train(config: TrainConfig, model_path: str, rows: list[Row], out: OutputDir,
          resume_from: Path | None, log: Log) -> int:  # fmt: skip
    """Train, write the model into the output directory; the number of steps trained."""
    _quiet_libraries()
    try:
        import torch
        from datasets import Dataset
        from transformers import (
            AutoConfig,
            AutoModelForCausalLM,
            AutoModelForSequenceClassification,
            AutoTokenizer,
        )
    except ImportError as exc:
        raise CamelidError(f"training needs the train extra ({exc}): "
                           "pip install 'camelid[train]'") from None  # fmt: skip
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    model_config = AutoConfig.from_pretrained(
        model_path, trust_remote_code=config.trust_remote_code
    )
    for name in DROPOUT_FIELDS:
        if isinstance(getattr(model_config, name, None), float):
            setattr(model_config, name, config.dropout_rate)
    # LoRA trains fp32 adapters (peft upcasts them) over frozen bf16 weights; full fine-tuning
    # keeps fp32 weights under bf16 autocast, as updates of lr 1e-5 vanish in bf16 weights.
    dtype = torch.bfloat16 if bf16 and not config.full else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(
        model_path, trust_remote_code=config.trust_remote_code
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if config.task == "reward":
        # One output, the reward; the classifier reads the last token that is not padding.
        model_config.num_labels = 1
        model_config.pad_token_id = tokenizer.pad_token_id
        torch.manual_seed(config.seed)  # the new score head's initial weights
        auto: Any = AutoModelForSequenceClassification
    else:
        auto = AutoModelForCausalLM
    model = auto.from_pretrained(
        model_path, config=model_config, dtype=dtype, trust_remote_code=config.trust_remote_code
    )
    trainer = _trainer(config, model, tokenizer, Dataset.from_list(rows), out, bf16)
    kept = len(trainer.train_dataset)
    if kept < len(rows):  # RewardTrainer drops pairs longer than max_length rather than cut them
        log(f"train: {len(rows) - kept} of {len(rows)} pairs longer than --max-length "
            f"{config.max_length} tokens left out")  # fmt: skip
        if not kept:
            raise CamelidError("train: every pair is longer than --max-length; raise it")
    trainer.add_callback(_progress(config, log, len(rows), "cuda" if cuda else "cpu", bf16))
    if resume_from is not None:
        log(f"train: resuming from {resume_from}")
    try:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    except Interrupted:
        last = out.last_checkpoint()
        again = f"; run it again to resume from {last.name}" if last else ""
        log(f"train: interrupted at step {trainer.state.global_step}{again}")
        raise
    _save(config, trainer, tokenizer, model_path, out, log)
    return int(trainer.state.global_step)


def _trainer(config: TrainConfig, model: Any, tokenizer: Any, dataset: Any, out: OutputDir,
             bf16: bool) -> Any:  # fmt: skip
    from transformers import PrinterCallback, ProgressCallback

    common: dict[str, Any] = {
        "output_dir": str(out.checkpoints),
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps or -1,
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accum,
        "learning_rate": config.learning_rate,
        "lr_scheduler_type": config.lr_scheduler,
        "weight_decay": config.weight_decay,
        "max_length": config.max_length,
        "bf16": bf16,
        "gradient_checkpointing": config.gradient_checkpointing,
        "save_strategy": "steps",
        "save_steps": config.save_steps,
        "save_total_limit": config.save_total_limit,
        "logging_steps": config.logging_steps,
        "report_to": "none",
        "disable_tqdm": True,
        "seed": config.seed,
        "data_seed": config.seed,
    }  # fmt: skip
    # transformers 5 takes the ratio as warmup_steps below 1; 4.x has warmup_ratio for it.
    from trl import SFTConfig

    warmup = "warmup_ratio" if "warmup_ratio" in SFTConfig.__dataclass_fields__ else "warmup_steps"
    common[warmup] = config.warmup_ratio
    peft = None
    if not config.full:
        from peft import LoraConfig

        reward = config.task == "reward"
        # A reward model's score head is new: trained and saved whole (modules_to_save).
        peft = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                          task_type="SEQ_CLS" if reward else "CAUSAL_LM",
                          modules_to_save=["score"] if reward else None,
                          lora_dropout=config.lora_dropout, target_modules=config.lora_targets)  # fmt: skip
    if config.task == "reward":
        from trl import RewardConfig, RewardTrainer

        args = RewardConfig(**common, disable_dropout=config.dropout_rate == 0)
        trainer = RewardTrainer(model=model, args=args, train_dataset=dataset,
                                processing_class=tokenizer, peft_config=peft)  # fmt: skip
    elif config.task == "dpo":
        from trl import DPOConfig, DPOTrainer

        args = DPOConfig(**common, beta=config.beta, disable_dropout=config.dropout_rate == 0)
        trainer = DPOTrainer(model=model, args=args, train_dataset=dataset,
                             processing_class=tokenizer, peft_config=peft)  # fmt: skip
    else:
        from trl import SFTTrainer

        # Prompt-completion rows: the loss covers the completion (the answer) only.
        args = SFTConfig(**common, completion_only_loss=True)
        trainer = SFTTrainer(model=model, args=args, train_dataset=dataset,
                             processing_class=tokenizer, peft_config=peft)  # fmt: skip
    for noisy in (PrinterCallback, ProgressCallback):  # they print to stdout / draw bars
        trainer.remove_callback(noisy)
    return trainer


def _progress(config: TrainConfig, log: Log, rows: int, device: str, bf16: bool) -> Any:
    from transformers import TrainerCallback

    mode = "--full" if config.full else f"LoRA r={config.lora_r}"
    batch = config.batch_size * config.grad_accum

    class Progress(TrainerCallback):  # type: ignore[misc]
        started = 0.0
        first = 0

        def on_train_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self.started, self.first = time.monotonic(), state.global_step
            log(f"train: --task {config.task}, {mode}, {rows} rows, {state.max_steps} steps of "
                f"{batch} ({config.batch_size} x {config.grad_accum}), lr {config.learning_rate:g}, "
                f"{device} {'bf16' if bf16 else 'fp32'}")  # fmt: skip

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "train_loss" in logs:  # the end: the mean over this run's steps
                log(f"train: mean loss {logs['train_loss']:.4f}")
            if not logs or "loss" not in logs:
                return
            done = state.global_step - self.first
            pace = (time.monotonic() - self.started) / done if done else 0.0
            extra = "".join(f"  {key.split('/')[-1]} {logs[key]:.3g}"
                            for key in ("rewards/margins", "rewards/accuracies", "margin",
                                        "accuracy") if key in logs)  # fmt: skip
            log(f"train: step {state.global_step}/{state.max_steps}  loss {logs['loss']:.4f}"
                f"  lr {logs.get('learning_rate', 0):.3g}{extra}  {pace:.1f} s/step")  # fmt: skip

        def on_save(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            log(f"train: saved checkpoint-{state.global_step}")

    return Progress()


def _save_whole(
    model: Any, tokenizer: Any, model_path: str, config: TrainConfig, build: Path
) -> None:
    """A whole model in the base's dtype and dropout: training settings are not part of it."""
    from transformers import AutoConfig

    base = AutoConfig.from_pretrained(model_path, trust_remote_code=config.trust_remote_code)
    for name in DROPOUT_FIELDS:
        if hasattr(base, name):
            setattr(model.config, name, getattr(base, name))
    model.to(getattr(base, "dtype", None) or model.dtype).save_pretrained(build)
    tokenizer.save_pretrained(build)


def _save(config: TrainConfig, trainer: Any, tokenizer: Any, model_path: str, out: OutputDir,
          log: Log) -> None:  # fmt: skip
    """Build the final model beside the output, then move it in."""
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=out.path))
    try:
        model = trainer.model
        if config.full:
            _save_whole(model, tokenizer, model_path, config, build)
        elif config.merge:
            model.save_pretrained(build / "adapter")
            tokenizer.save_pretrained(build / "adapter")
            log("train: merging the adapter into the model (--merge)")
            if config.task == "reward":
                # adapters.merge builds causal LMs: a reward model merges here, in memory.
                _save_whole(model.merge_and_unload(), tokenizer, model_path, config, build)
            else:
                merge(build / "adapter", model_path, build / "merged")
                for entry in (build / "merged").iterdir():
                    entry.rename(build / entry.name)
                (build / "merged").rmdir()
        else:
            model.save_pretrained(build)
            tokenizer.save_pretrained(build)
        out.publish(build)
    finally:
        shutil.rmtree(build, ignore_errors=True)
