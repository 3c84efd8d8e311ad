"""The stage protocol and the one runtime that runs every command's stages (see run.py)."""

from camelid.runtime.resume import BEFORE_LOADING, RESUME_KEYS
from camelid.runtime.run import Run, RunOptions
from camelid.runtime.stage import Chain, Stage, batched

__all__ = ["BEFORE_LOADING", "RESUME_KEYS", "Chain", "Run", "RunOptions", "Stage", "batched"]
