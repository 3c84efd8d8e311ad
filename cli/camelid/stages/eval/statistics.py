"""The figures of an evaluation: win rate of A over B (a tie counts half), a bootstrap interval
over prompts, and a length-controlled win rate as AlpacaEval 2.0 computes it.

A judge that favours longer answers rewards a model for talking more. The length-controlled
win rate fits a logistic regression of the per-prompt preference on tanh(length difference /
its standard deviation) (AlpacaEval's length term) and asks what it predicts when the two
answers are equally long. numpy only: the fit is a few Newton (IRLS) steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Preference of one prompt: 1.0 A won, 0.0 B won, 0.5 a tie.
OUTCOMES = {"A": 1.0, "B": 0.0, "tie": 0.5}

# A weak Gaussian prior on the length slope: when the length alone separates the outcomes
# (every winner the longer answer) the unpenalised slope runs off to infinity.
SLOPE_PENALTY = 1.0


@dataclass
class Figures:
    prompts: int
    wins: int
    losses: int
    ties: int
    win_rate: float | None
    interval: tuple[float, float] | None
    lc_win_rate: float | None
    length_slope: float | None  # the fitted weight of the length term (> 0: longer wins)

    def to_dict(self) -> dict[str, object]:
        return {
            "prompts": self.prompts,
            "wins": self.wins,
            "losses": self.losses,
            "ties": self.ties,
            "win_rate": _round(self.win_rate),
            "win_rate_interval": [_round(x) for x in self.interval] if self.interval else None,
            "lc_win_rate": _round(self.lc_win_rate),
            "length_slope": _round(self.length_slope),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def win_rate(preferences: Sequence[float]) -> float | None:
    return float(np.mean(preferences)) if len(preferences) else None


def bootstrap_interval(
    preferences: Sequence[float], resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Percentile interval of the win rate over prompts drawn with replacement (seeded)."""
    values = np.asarray(preferences, dtype=float)
    if not len(values) or resamples < 1:
        return None
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(values), size=(resamples, len(values)))
    means = values[draws].mean(axis=1)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def length_feature(length_a: Sequence[int], length_b: Sequence[int]) -> np.ndarray:
    """tanh of the length difference in standard deviations (AlpacaEval's length term)."""
    delta = np.asarray(length_a, dtype=float) - np.asarray(length_b, dtype=float)
    scale = float(delta.std())
    if scale == 0.0:  # every difference alike: no spread to measure it by
        scale = float(np.abs(delta).mean()) or 1.0
    return np.tanh(delta / scale)


def fit_logistic(
    x: np.ndarray, y: np.ndarray, penalty: float = SLOPE_PENALTY, steps: int = 100
) -> tuple[float, float]:
    """(intercept, slope) of P(y=1) = sigmoid(b0 + b1 x), fitted by Newton's method (IRLS) on
    fractional targets (a tie is y = 0.5), with an L2 penalty on the slope only: the intercept
    then still matches the mean preference exactly when x is 0 throughout."""
    design = np.column_stack([np.ones_like(x), x])
    ridge = np.diag([0.0, penalty])
    beta = np.zeros(2)
    for _ in range(steps):
        p = _sigmoid(design @ beta)
        grad = design.T @ (y - p) - ridge @ beta
        hess = design.T @ (design * (p * (1 - p))[:, None]) + ridge
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]  # lstsq: a singular Hessian is fine
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def lc_win_rate(
    preferences: Sequence[float], length_a: Sequence[int], length_b: Sequence[int]
) -> tuple[float | None, float | None]:
    """(length-controlled win rate, length slope): the fitted model's win probability at zero
    length difference, averaged over prompts."""
    y = np.asarray(preferences, dtype=float)
    if not len(y):
        return None, None
    mean = float(y.mean())
    if mean in (0.0, 1.0):  # all won or all lost: no length explains anything away
        return mean, 0.0
    intercept, slope = fit_logistic(length_feature(length_a, length_b), y)
    at_zero = _sigmoid(np.full(len(y), intercept))  # the length term set to zero
    return float(at_zero.mean()), slope


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def figures(
    outcomes: Sequence[str],
    length_a: Sequence[int],
    length_b: Sequence[int],
    resamples: int = 1000,
    seed: int = 0,
) -> Figures:
    """Every figure of a run from its per-prompt outcomes ("A", "B", "tie") and answer lengths."""
    preferences = [OUTCOMES[o] for o in outcomes]
    lc, slope = lc_win_rate(preferences, length_a, length_b)
    return Figures(
        prompts=len(outcomes),
        wins=sum(o == "A" for o in outcomes),
        losses=sum(o == "B" for o in outcomes),
        ties=sum(o == "tie" for o in outcomes),
        win_rate=win_rate(preferences),
        interval=bootstrap_interval(preferences, resamples, seed),
        lc_win_rate=lc,
        length_slope=slope,
    )
