"""Answer instructions: `output` for one answer, `completions` for several (best-of-n, pools)."""

from __future__ import annotations

from camelid.engines.base import Result
from camelid.packs import Pack
from camelid.pipeline import Reject
from camelid.records import Completion, Record
from camelid.sampling import Sampling
from camelid.stages.generate import Apply


def answer(pack: Pack, model: str, sampling: Sampling, keep_truncated: bool = False) -> Apply:
    """The function that turns one engine result into the answered record (or its reject)."""
    lineage = pack.lineage("respond", model, sampling)

    def apply(record: Record, result: Result) -> Record | Reject:
        def reject(reason: str) -> Reject:
            return Reject("respond", reason, record=record, where=record._where or None)

        kept: list[Completion] = []
        reasons: list[str] = []
        for gen in result.generations:
            if gen.truncated and not keep_truncated:
                reasons.append(f"answer cut off at --max-tokens {sampling.max_tokens}")
                continue
            parsed = pack.parse(gen.text)
            if parsed.error or not parsed.value:
                reasons.append(parsed.error or "empty answer")
                continue
            kept.append(Completion(text=parsed.value, model=model, finish_reason=gen.finish_reason))
        if not kept:
            return reject("; ".join(sorted(set(reasons))) or "no answer")
        if sampling.n == 1:
            update = {"output": kept[0].text}
        else:
            update = {"completions": [*(record.completions or []), *kept]}
        return record.model_copy(update=update).with_lineage(lineage)

    return apply
