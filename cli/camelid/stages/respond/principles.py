"""UltraFeedback's principle prompts: a system prompt per completion that steers it toward
helpfulness, truthfulness, honesty or verbalized calibration.

Proportions follow UltraFeedback's general-purpose prompt sources: helpfulness three times in
five, truthfulness and honesty once each, and one honesty draw in ten turned into verbalized
calibration (a stated confidence). The draw is fixed by the run's seed, the record and the
completion's slot, so it does not depend on batching or on which model writes the completion.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import yaml

from camelid.engines.base import record_seed

PROMPTS_FILE = Path(__file__).parents[2] / "data" / "principle_prompts.yaml"

WEIGHTS = {"helpfulness": 3, "truthfulness": 1, "honesty": 1}
CALIBRATION_SHARE = 0.1  # of honesty draws


@cache
def prompts() -> dict[str, list[str]]:
    data = yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8"))
    return {name: [str(p) for p in items] for name, items in data.items()}


def draw(rng: random.Random) -> str:
    """One principle, with UltraFeedback's proportions."""
    principle = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if principle == "honesty" and rng.random() < CALIBRATION_SHARE:
        return "verbalized_calibration"
    return principle


def choose(seed: int, record_id: str, slot: int) -> tuple[str, str]:
    """(principle, system prompt) for completion number `slot` of a record."""
    rng = random.Random(record_seed(seed, f"{record_id}:principle:{slot}"))
    principle = draw(rng)
    return principle, rng.choice(prompts()[principle])


def with_system(own: str | None, principle_prompt: str) -> str:
    """The record's own system prompt, if any, then the principle prompt (UltraFeedback appends
    the principle to the model's usual system prompt)."""
    return f"{own}\n\n{principle_prompt}" if own else principle_prompt
