"""Sampling settings: one strict model shared by packs, configs and engines."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Sampling(BaseModel):
    """How to sample one request. Unknown keys are refused so that typos fail at once."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(512, ge=1)
    n: int = Field(1, ge=1, le=64)
    stop: list[str] = Field(default_factory=list)
    # Penalties on tokens already generated; Self-Instruct used presence 2 against repeated tasks.
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    seed: int | None = None
    # A JSON Schema the reply must follow (structured output); None for free text.
    json_schema: dict[str, Any] | None = None
    # The most likely tokens to report at each generated position (None: none).
    logprobs: int | None = Field(None, ge=1, le=20)

    def merged(self, **overrides: Any) -> Sampling:
        """A copy with the given settings replaced; None values leave a setting as it is."""
        updates = {k: v for k, v in overrides.items() if v is not None}
        return Sampling.model_validate(self.model_dump() | updates)
