"""The judge measured on controls, every time it runs: for a sample of records, the same
judgement of a known-bad answer (another record's answer, the answer cut in half, its words
shuffled). How often the real answer rates above its control (AUC, ties half) says whether the
judge separates anything; AUC 0.5 is a coin. Also how much the scores follow answer length,
the best-known judge bias. Control judgements never reach the output."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from camelid.records import Record
from camelid.stages.score.verdicts import Verdict, answers_of
from camelid.text import word_count

CONTROLS = ("mismatched", "truncated", "shuffled")
NEAR_CHANCE = 0.6  # an AUC below this: the judge barely tells real answers from controls


@dataclass
class Control:
    kind: str
    answers: list[str]  # what the judge is shown instead of the record's own answers


def plan_audit(
    records: list[Record], count: int, kinds: list[str], seed: int
) -> dict[str, list[Control]]:
    """Controls for `count` records drawn at random (seeded) among those with answers."""
    scorable = [r for r in records if answers_of(r)]
    rng = random.Random(f"{seed}:audit")
    chosen = rng.sample(scorable, min(count, len(scorable)))
    out: dict[str, list[Control]] = {}
    for record in chosen:
        own = answers_of(record)
        controls = []
        for kind in kinds:
            if kind == "mismatched":
                others = [r for r in scorable if r.instruction != record.instruction]
                if not others:
                    continue
                other = answers_of(rng.choice(others))
                controls.append(Control(kind, [other[i % len(other)] for i in range(len(own))]))
            elif kind == "truncated":
                controls.append(Control(kind, [_half(a) for a in own]))
            elif kind == "shuffled":
                controls.append(Control(kind, [_shuffled(a, rng) for a in own]))
        out[record.id] = controls
    return out


def _half(text: str) -> str:
    words = text.split()
    return " ".join(words[: max(1, len(words) // 2)])


def _shuffled(text: str, rng: random.Random) -> str:
    words = text.split()
    rng.shuffle(words)
    return " ".join(words)


@dataclass
class Audit:
    """Verdicts gathered as the run goes: (real, control) per audited judgement, and (length,
    verdict) for every judged answer; read as written ratings or expected ones."""

    expected: bool = False  # how the run scores: the report reads verdicts the same way
    pairs: dict[str, list[tuple[Verdict, Verdict]]] = field(default_factory=dict)  # per kind
    lengths: list[tuple[int, Verdict]] = field(default_factory=list)

    def add_pair(self, kind: str, real: Verdict, control: Verdict) -> None:
        self.pairs.setdefault(kind, []).append((real, control))

    def add_length(self, answer: str, verdict: Verdict) -> None:
        self.lengths.append((word_count(answer), verdict))

    def report(self, expected: bool | None = None) -> dict[str, Any]:
        use = self.expected if expected is None else expected
        out: dict[str, Any] = {}
        for kind, pairs in self.pairs.items():
            values = [(r.value(use), c.value(use)) for r, c in pairs]
            values = [(r, c) for r, c in values if r is not None and c is not None]
            if not values:
                continue
            real, control = [r for r, _ in values], [c for _, c in values]
            out[kind] = {"judgements": len(values), "auc": round(auc(real, control), 3),
                         "ties": round(sum(r == c for r, c in values) / len(values), 3)}  # fmt: skip
        lengths = [(n, v.value(use)) for n, v in self.lengths if v.value(use) is not None]
        if len(lengths) >= 3:
            out["length_spearman"] = round(spearman(*zip(*lengths, strict=True)), 3)
        return out

    def summary(self) -> list[str]:
        """Lines for stderr, in words a user acts on."""
        report, lines = self.report(), []
        for kind in CONTROLS:
            if kind not in report:
                continue
            r = report[kind]
            lines.append(f"judge audit: real answers against {kind} ones, {r['judgements']} "
                         f"judgements: AUC {r['auc']:.2f}, {r['ties']:.0%} tied")  # fmt: skip
            if r["auc"] < NEAR_CHANCE:
                lines.append(
                    f"  the judge barely tells real answers from {kind} ones (AUC 0.5 is a coin): "
                    "its scores say little; try --scoring expected, a larger --judge-model, or "
                    "check the rubric"
                )
        if "length_spearman" in report:
            rho = report["length_spearman"]
            bias = " (long answers win: a known judge bias)" if rho > 0.3 else ""
            lines.append(f"judge audit: score follows answer length with Spearman {rho:+.2f}{bias}")
        return lines


def auc(real: list[float], control: list[float]) -> float:
    """P(real > control) + P(equal) / 2 over all pairs (Mann-Whitney)."""
    if not real or not control:
        return 0.5
    wins = sum((r > c) + 0.5 * (r == c) for r in real for c in control)
    return wins / (len(real) * len(control))


def spearman(x: tuple[float, ...] | list[float], y: tuple[float, ...] | list[float]) -> float:
    """Rank correlation (ties get their average rank); 0 when either side is constant."""
    rx, ry = _ranks(list(x)), _ranks(list(y))
    n = len(rx)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / (vx * vy) ** 0.5 if vx and vy else 0.0


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks
