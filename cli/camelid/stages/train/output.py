"""The layout of a `camelid train` output directory, and the checks made before a model loads.

    OUTDIR/camelid-train.json    what was trained, on what, from which model (written first)
    OUTDIR/checkpoints/          the trainer's checkpoints: a new run resumes from the last one
    OUTDIR/*                     the model: a LoRA adapter (merged on demand by resolve_model),
                                 or with --merge / --full a whole model; with --merge the
                                 adapter is kept in OUTDIR/adapter/

The model files are built beside and moved in at the end, config last, so an interrupted run
never leaves a directory that looks like a finished model.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from camelid.adapters import ADAPTER_CONFIG, TRAIN_MARKER
from camelid.errors import UsageError
from camelid.models import MODELS
from camelid.stages.train.config import TrainConfig

CHECKPOINTS = "checkpoints"
FORMAT = 1
LAST = ("config.json", ADAPTER_CONFIG)  # moved in last: their presence means a whole model


def model_ref(model: str) -> str:
    """How the base model is recorded: a built-in name, an absolute directory, or a hub id."""
    path = Path(model).expanduser()
    return str(path.resolve()) if model not in MODELS and path.is_dir() else model


def identity(config: TrainConfig) -> dict[str, Any]:
    """What a checkpoint must match to be resumed by this run."""
    return {"task": config.task, "model": model_ref(config.model), "lora": not config.full}


def describe(ident: dict[str, Any]) -> str:
    mode = "LoRA" if ident.get("lora") else "--full"
    return f"--task {ident.get('task')} {mode} on {ident.get('model')}"


class OutputDir:
    def __init__(self, path: str):
        self.path = Path(path).expanduser()
        self.checkpoints = self.path / CHECKPOINTS
        self.marker = self.path / TRAIN_MARKER

    def last_checkpoint(self) -> Path | None:
        steps = []
        for child in self.checkpoints.glob("checkpoint-*") if self.checkpoints.is_dir() else []:
            number = child.name.removeprefix("checkpoint-")
            if number.isdigit() and (child / "trainer_state.json").is_file():
                steps.append((int(number), child))
        return max(steps)[1] if steps else None

    def check(self, config: TrainConfig) -> Path | None:
        """Refuse what would go wrong, before any model loads; the checkpoint to resume from."""
        where = f"-o {self.path}"
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"{where}: is a file; train writes a model directory")
        if self.path.is_dir() and any(self.path.iterdir()) and not self.marker.is_file():
            raise UsageError(
                f"{where}: exists and is not a camelid train directory (no {TRAIN_MARKER}); "
                "give a new or empty directory"
            )
        last = self.last_checkpoint()
        if config.resume and last is None:
            raise UsageError(f"--resume: {self.path} has no checkpoint to resume from")
        if last is None or config.resume is False:
            return None
        before = self.read_marker()
        theirs = {key: before.get(key) for key in ("task", "model", "lora")}
        if theirs != identity(config):
            raise UsageError(
                f"{where}: its checkpoints are from {describe(theirs)}, this run is "
                f"{describe(identity(config))}; use --no-resume to start over, or another -o"
            )
        return last

    def start(self, config: TrainConfig, rows: int) -> None:
        """Record the run; with --no-resume, drop the old checkpoints first."""
        self.path.mkdir(parents=True, exist_ok=True)
        if config.resume is False:
            shutil.rmtree(self.checkpoints, ignore_errors=True)
        settings = config.model_dump(exclude={"resume"})
        self.write_marker(identity(config) | {"format": FORMAT, "complete": False,
                                              "rows": rows, "settings": settings})  # fmt: skip

    def finish(self, steps: int) -> None:
        self.write_marker(self.read_marker() | {"complete": True, "steps": steps})

    def publish(self, build: Path) -> None:
        """Replace the previous run's model files with the ones in `build` (config last)."""
        keep = {CHECKPOINTS, TRAIN_MARKER}
        for old in self.path.iterdir():
            if old.name not in keep and not old.name.startswith("."):
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        entries = sorted(build.iterdir(), key=lambda p: p.name in LAST)
        for entry in entries:
            os.replace(entry, self.path / entry.name)

    def read_marker(self) -> dict[str, Any]:
        try:
            data = json.loads(self.marker.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_marker(self, data: dict[str, Any]) -> None:
        temp = self.marker.with_name(f".{TRAIN_MARKER}.tmp")
        temp.write_text(json.dumps(data, indent=1) + "\n")
        os.replace(temp, self.marker)
