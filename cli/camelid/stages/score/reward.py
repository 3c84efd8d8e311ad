"""`score --reward-model`: each answer (or every completion) scored by a trained reward model.

A reward model is a sequence classifier with one output (`train --task reward`, or any such
model directory or hub id). It scores the chat of the record's prompt and the answer, built as
it was trained on: the prompt rendered by the pack `train` recorded (default plain), the answer
as the assistant's turn, the tokenizer's chat template over both. The reward lands in
`scores.reward` of the record, or of each completion, where `filter --best-of` and `pairs`
read completions' scores. No sampling: the same model gives the same scores, so it runs on
transformers (CPU or GPU) in batches of similar lengths, not on an engine.

torch, transformers and peft are imported in `load_reward_model` only.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camelid.adapters import TRAIN_MARKER, base_model, is_adapter_dir
from camelid.errors import BadInputError, CamelidError, UsageError
from camelid.packs import load_pack
from camelid.records import LineageEntry, Outcome, Record, Reject
from camelid.stages.score.judge import STAGE
from camelid.stages.score.verdicts import answers_of
from camelid.stages.train.data import Prompting, Turns, preference_prompt, reward_conversation
from camelid.stages.train.output import model_ref

ASPECT = "reward"  # the key in `scores`
MINI_BATCH = 8  # sequences per forward pass: padding kept small by sorting by length


def reward_lineage(model: str) -> LineageEntry:
    """The entry a reward-scored record gets: the stage and the model; no pack, no sampling."""
    return LineageEntry(stage=STAGE, model=model_ref(model), scoring=ASPECT)


def training_settings(path: str) -> dict[str, Any]:
    """What `camelid train` recorded about a model directory ({} for any other model)."""
    try:
        data = json.loads((Path(path).expanduser() / TRAIN_MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check_reward_model(path: str) -> None:
    """Refuse what is not a reward model, before anything loads: a language model would get a
    randomly initialised score head, and its "rewards" would mean nothing."""
    from camelid.models import MODELS

    if path in MODELS:
        raise UsageError(f"--reward-model {path}: is a built-in language model, not a reward "
                         "model; train one with `camelid train --task reward`")  # fmt: skip
    config = Path(path).expanduser() / "config.json"
    if config.is_file():
        try:
            architectures = json.loads(config.read_text()).get("architectures") or []
        except (OSError, ValueError, AttributeError):
            architectures = []
        if architectures and not any(a.endswith("ForSequenceClassification")
                                     for a in architectures):  # fmt: skip
            raise UsageError(f"--reward-model {path}: is a {architectures[0]}, not a sequence "
                             "classifier; train one with `camelid train --task reward`")  # fmt: skip
    marker = training_settings(path)
    task = marker.get("task")
    if task is not None and task != "reward":
        raise UsageError(
            f"--reward-model {path}: was trained with --task {task}; a reward model comes "
            "from `camelid train --task reward`"
        )
    if marker and not marker.get("complete"):
        raise UsageError(
            f"--reward-model {path}: its training did not finish (run the same "
            "`camelid train` again to resume it)"
        )


@dataclass
class RewardModel:
    """A loaded reward model: tokenizer, model, device, and how prompts are rendered."""

    model: Any
    tokenizer: Any
    prompting: Prompting
    max_length: int
    device: str

    def rewards(self, conversations: list[Turns]) -> list[float | None]:
        """One reward per conversation, in order; None for one longer than the model's context."""
        import torch

        ids = [self._ids(turns) for turns in conversations]
        out: list[float | None] = [None] * len(ids)
        fits = sorted((i for i, x in enumerate(ids) if len(x) <= self.max_length),
                      key=lambda i: len(ids[i]))  # fmt: skip
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(fits), MINI_BATCH):
            members = fits[start : start + MINI_BATCH]
            width = max(len(ids[i]) for i in members)
            # Right padding, as RewardTrainer trains: the head reads the last non-pad token.
            input_ids = torch.full((len(members), width), pad, dtype=torch.long)
            mask = torch.zeros((len(members), width), dtype=torch.long)
            for row, i in enumerate(members):
                input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                mask[row, : len(ids[i])] = 1
            with torch.inference_mode():
                logits = self.model(
                    input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)
                ).logits
            for i, value in zip(members, logits[:, 0].float().tolist(), strict=True):
                out[i] = round(value, 6)
        return out

    def _ids(self, turns: Turns) -> list[int]:
        # As TRL's RewardTrainer tokenizes a conversational pair (apply_chat_template).
        result = self.tokenizer.apply_chat_template(turns, tokenize=True, return_dict=True)
        return list(result["input_ids"])


def load_reward_model(path: str, trust_remote_code: bool = False) -> RewardModel:
    """A reward model directory (whole, or a LoRA adapter applied to its base here) or hub id."""
    from camelid.models import resolve_model

    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    try:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise CamelidError(f"--reward-model needs torch and transformers ({exc}): "
                           "pip install 'camelid[train]'") from None  # fmt: skip
    hf_logging.set_verbosity_error()
    cuda = torch.cuda.is_available()
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    local = Path(path).expanduser()
    kwargs = {"num_labels": 1, "dtype": dtype, "trust_remote_code": trust_remote_code}
    if local.is_dir() and is_adapter_dir(local):
        # A LoRA reward model: its base as a classifier, the adapter (and the score head it
        # saved whole) applied and merged in memory; adapters.py merges causal LMs only.
        from peft import PeftModel

        base = resolve_model(base_model(local))
        model = AutoModelForSequenceClassification.from_pretrained(base, **kwargs)
        model = PeftModel.from_pretrained(model, str(local)).merge_and_unload()
    else:
        where = str(local) if local.is_dir() else resolve_model(path)
        model = AutoModelForSequenceClassification.from_pretrained(where, **kwargs)
    source = str(local) if local.is_dir() else resolve_model(path)
    tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    device = "cuda" if cuda else "cpu"
    model.to(device).eval()
    settings = training_settings(path).get("settings") or {}
    pack = load_pack(settings.get("pack") or "plain")
    prompting = Prompting(pack, bool(settings.get("humpback_tags")))
    context = getattr(model.config, "max_position_embeddings", None) or 2048
    return RewardModel(model, tokenizer, prompting, int(context), device)


@dataclass
class RewardScorer:
    """The stage: each record's answer, or every completion, gets `scores.reward`."""

    reward_model: RewardModel
    model: str  # as given: the lineage names it
    name: str = STAGE
    scored: list[float] = field(default_factory=list)  # every reward written, over the run
    firsts: list[float] = field(default_factory=list)  # completion 0's, per record with several
    bests: list[float] = field(default_factory=list)  # the best completion's, per such record
    too_long: int = 0

    @property
    def lineage(self) -> LineageEntry:
        return reward_lineage(self.model)

    def __call__(self, batch: list[Record]) -> list[Outcome]:
        plans: list[tuple[Record, int] | Reject] = []
        conversations: list[Turns] = []
        for record in batch:
            answers = answers_of(record)
            if not answers:
                plans.append(Reject.of(STAGE, "nothing to score: no output or completions", record))
                continue
            try:
                prompt = preference_prompt(record, self.reward_model.prompting, "reward")
            except BadInputError:
                plans.append(Reject.of(STAGE, "nothing to score against: no instruction or "
                                       "prompt", record))  # fmt: skip
                continue
            plans.append((record, len(answers)))
            conversations += [reward_conversation(prompt, a) for a in answers]
        rewards = iter(self.reward_model.rewards(conversations) if conversations else [])
        out: list[Outcome] = []
        for plan in plans:
            if isinstance(plan, Reject):
                out.append(plan)
                continue
            record, count = plan
            values = [next(rewards) for _ in range(count)]
            self._count(record, values)
            out.append(with_rewards(record, values).with_lineage(self.lineage))
        return out

    def _count(self, record: Record, values: list[float | None]) -> None:
        known = [v for v in values if v is not None]
        self.scored += known
        self.too_long += len(values) - len(known)
        if record.completions and len(values) > 1 and values[0] is not None:
            self.firsts.append(values[0])
            self.bests.append(max(known))

    def report(self) -> dict[str, Any]:
        """The run's figures for --stats: how many, the mean, and best-of-n over the first."""
        out: dict[str, Any] = {"scored": len(self.scored), "too_long": self.too_long}
        if self.scored:
            out["mean"] = round(sum(self.scored) / len(self.scored), 4)
        if self.firsts:
            first, best = _mean(self.firsts), _mean(self.bests)
            out |= {"first_mean": round(first, 4), "best_mean": round(best, 4),
                    "best_of_gain": round(best - first, 4)}  # fmt: skip
        return out


def with_rewards(record: Record, values: list[float | None]) -> Record:
    """The record with `scores.reward` on itself (an output) or on each completion, in order.
    None (an answer longer than the model's context) is written as null, never made up."""
    if record.completions:
        completions = [
            c.model_copy(update={"scores": {**(c.scores or {}), ASPECT: v}})
            for c, v in zip(record.completions, values, strict=True)
        ]
        return record.model_copy(update={"completions": completions})
    return record.model_copy(update={"scores": {**(record.scores or {}), ASPECT: values[0]}})


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
