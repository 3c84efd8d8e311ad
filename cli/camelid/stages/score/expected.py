"""Probability-weighted ratings (as G-Eval reads them): the expected rating under the judge's
distribution over the allowed values, read from the token log-probabilities at the rating.

A judge that tends to say 3 but weighs 4 almost as much gets 3.4, not 3: scores stop tying, and
a weak judge can still rank. The rating's position is found in the reply's tokens right after
`"rating":` (any tokenizer). The first token of a value is a digit; a second token (the 0 of 10,
the .5 of 4.5) is read along the path the judge took, the only one whose probabilities are known.
"""

from __future__ import annotations

import math

from camelid.engines.base import TokenChoice

KEY = '"rating":'


def rating_positions(tokens: list[TokenChoice]) -> list[int]:
    """Indexes of the tokens that begin a rating value, in reply order."""
    out, text = [], ""
    for i, choice in enumerate(tokens):
        if text.endswith(KEY) and choice.token[:1].isdigit():
            out.append(i)
        text = (text + choice.token)[-32:]
    return out


def expected_rating(tokens: list[TokenChoice], at: int, scale: list[float]) -> float | None:
    """The expected rating of the value that begins at token `at` (None: no allowed value is
    among the reported tokens there)."""
    digits = {str(v)[0] for v in scale}  # the first digits the allowed values begin with
    probs: dict[float, float] = {}
    for token, logprob in tokens[at].top.items():
        digit = token.strip()
        if len(digit) == 1 and digit in digits:
            value = _value(digit, tokens, at, scale)
            probs[value] = probs.get(value, 0.0) + math.exp(logprob)
    total = sum(probs.values())
    if total <= 0:
        return None
    return sum(value * p for value, p in probs.items()) / total


def _value(digit: str, tokens: list[TokenChoice], at: int, scale: list[float]) -> float:
    """The value a first digit stands for: on the judge's own path, what followed it (a 0 of
    10, a .5); on another path, the value the digit alone names (its continuation unknown)."""
    base = float(digit)
    if tokens[at].token.strip() != digit:
        return base if base in scale else min(scale, key=lambda v: abs(v - base))
    follow = "".join(t.token for t in tokens[at + 1 : at + 3])
    if follow.startswith("0") and base * 10 in scale:
        return base * 10
    if follow.startswith(".5") and base + 0.5 in scale:
        return base + 0.5
    return base


def expected_ratings(tokens: list[TokenChoice] | None, scale: list[float]) -> list[float | None]:
    """One expected rating per rating in the reply (empty without log-probabilities)."""
    if not tokens:
        return []
    return [expected_rating(tokens, at, scale) for at in rating_positions(tokens)]
