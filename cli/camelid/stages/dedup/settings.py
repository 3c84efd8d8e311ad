"""`dedup`'s settings: checked all at once (before a model is loaded or a line read), then turned
into a method, an optional benchmark check, and the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from camelid.errors import UsageError
from camelid.runtime import Run, RunOptions
from camelid.stages.dedup.base import Method
from camelid.stages.dedup.decontam import (
    BENCHMARK_FIELDS,
    BenchmarkRecord,
    Decontaminator,
    load_benchmarks,
)
from camelid.stages.dedup.deduplicator import Deduplicator, Plan
from camelid.stages.dedup.minhash import MinHashParams
from camelid.stages.dedup.run import run_dedup, summary

DEFAULT_THRESHOLD = {"minhash": 0.7, "rouge": 0.7, "embedding": 0.9}
ONLY_FOR = {  # option -> the method it belongs to
    "num_perm": "minhash",
    "bands": "minhash",
    "rows": "minhash",
    "ngram": "minhash",
    "unit": "minhash",
    "verify": "minhash",
    "tokenizer": "rouge",
    "embedding_model": "embedding",
}


@dataclass(frozen=True)
class Settings:
    method: str = "minhash"
    fields: tuple[str, ...] = ("instruction", "input")
    keep: str = "first"
    keep_aspects: tuple[str, ...] | None = None
    mark: bool = False
    threshold: float | None = None
    num_perm: int | None = None
    bands: int | None = None
    rows: int | None = None
    ngram: int | None = None
    unit: str | None = None
    verify: bool = False
    tokenizer: str | None = None
    embedding_model: Path | None = None
    against: tuple[str, ...] | list[str] = ()
    against_fields: tuple[str, ...] | None = None
    against_ngram: int = 13
    against_containment: float = 0.0
    seed: int = 1

    def check(self) -> None:
        """Every usage error, before anything is loaded."""
        for name, owner in ONLY_FOR.items():
            if getattr(self, name) not in (None, False) and self.method != owner:
                flag = "--" + name.replace("_", "-")
                raise UsageError(f"{flag} applies to --method {owner}, not {self.method}")
        if self.threshold is not None:
            if self.method == "exact":
                raise UsageError("--threshold does not apply to --method exact")
            if not 0 < self.threshold <= 1:
                raise UsageError(f"--threshold {self.threshold:g}: must be above 0 and at most 1")
        if self.keep_aspects and self.keep != "best-score":
            raise UsageError("--keep-aspect needs --keep best-score")
        for name in ("num_perm", "bands", "rows", "ngram"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UsageError(f"--{name.replace('_', '-')} {value}: must be at least 1")
        if self.method == "minhash":
            bands, rows = self.minhash().banding()
            perms = self.minhash().num_perm
            if bands * rows > perms:
                raise UsageError(
                    f"--bands {bands} x --rows {rows} = {bands * rows} is more than the "
                    f"{perms} permutations (--num-perm)"
                )
            if self.minhash().ngram > 64:
                raise UsageError(f"--ngram {self.ngram}: at most 64")
        if self.against_ngram > 64:
            raise UsageError(f"--against-ngram {self.against_ngram}: at most 64")
        if not 0 <= self.against_containment <= 1:
            raise UsageError(
                f"--against-containment {self.against_containment:g}: must be from 0 to 1"
            )
        for path in self.against:
            if not Path(path).is_file():
                problem = "is a directory" if Path(path).is_dir() else "no such file"
                raise UsageError(f"--against {path}: {problem}")
        if self.against_fields and not self.against:
            raise UsageError("--against-fields needs --against FILE")

    def minhash(self) -> MinHashParams:
        return MinHashParams(
            threshold=self.threshold or DEFAULT_THRESHOLD["minhash"],
            num_perm=self.num_perm or 128,
            bands=self.bands,
            rows=self.rows,
            ngram=self.ngram or 1,
            unit=self.unit or "word",  # type: ignore[arg-type]
            seed=self.seed,
        )

    def report(self) -> dict[str, Any]:
        """The settings as --stats records them, defaults filled in."""
        out = {k: v for k, v in asdict(self).items() if k not in ONLY_FOR}
        out["threshold"] = None if self.method == "exact" else self.threshold_or_default()
        out["embedding_model"] = str(self.embedding_model) if self.embedding_model else None
        if self.method == "minhash":
            params = self.minhash()
            bands, rows = params.banding()
            out |= {"num_perm": params.num_perm, "bands": bands, "rows": rows}
            out |= {"ngram": params.ngram, "unit": params.unit, "verify": self.verify}
        if self.method == "rouge":
            out["tokenizer"] = self.tokenizer or "unicode"
        out["against"] = list(self.against)
        return out

    def threshold_or_default(self) -> float:
        return self.threshold if self.threshold is not None else DEFAULT_THRESHOLD[self.method]


def build_method(settings: Settings) -> Method:
    if settings.method == "exact":
        from camelid.stages.dedup.exact import ExactMethod

        return ExactMethod()
    if settings.method == "minhash":
        from camelid.stages.dedup.minhash_method import MinHashMethod

        return MinHashMethod(settings.minhash(), verify=settings.verify)
    if settings.method == "rouge":
        from camelid.stages.dedup.rouge import RougeMethod

        return RougeMethod(settings.threshold_or_default(), settings.tokenizer or "unicode")  # type: ignore[arg-type]
    from camelid.stages.dedup import embedding as dedup_embed

    path = settings.embedding_model
    if path is not None:
        dedup_embed.check_model_dir(path)
    encoder = dedup_embed.load_encoder(path or dedup_embed.default_model())
    return dedup_embed.EmbeddingMethod(encoder, settings.threshold_or_default(), settings.seed)


EXECUTORS = ("local", "ray")
ON_RAY = ("minhash", "exact")  # methods whose per-record work runs on Ray workers


def check_executor(settings: Settings, executor: str, ray_address: str | None) -> None:
    if executor not in EXECUTORS:
        raise UsageError(f"--executor {executor}: choose one of {', '.join(EXECUTORS)}")
    if ray_address and executor != "ray":
        raise UsageError("--ray-address applies to --executor ray")
    if executor == "ray" and settings.method not in ON_RAY:
        raise UsageError(
            f"--executor ray: only --method minhash (the default) and exact run on Ray, "
            f"not {settings.method}; use --executor local"
        )


def benchmark_records(settings: Settings) -> list[BenchmarkRecord] | None:
    """The --against records (None without --against); none with text is a usage error."""
    if not settings.against:
        return None
    benchmark = load_benchmarks(settings.against, settings.against_fields or BENCHMARK_FIELDS)
    if not benchmark:
        fields = ",".join(settings.against_fields or BENCHMARK_FIELDS)
        raise UsageError(f"--against: no benchmark record has text in {fields}")
    return benchmark


def build_decontaminator(
    settings: Settings, method: Method, benchmark: list[BenchmarkRecord] | None
) -> Decontaminator | None:
    if benchmark is None:
        return None
    return Decontaminator(benchmark, settings.against_ngram, method, settings.against_containment)


def plan(settings: Settings) -> Plan:
    return Plan(settings.fields, settings.keep, settings.keep_aspects)  # type: ignore[arg-type]


def run(
    settings: Settings,
    paths: list[str],
    options: RunOptions,
    executor: str = "local",
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Check the settings, build the method (and the benchmark check), then the two passes.
    With the ray executor, pass 1's per-record work (parsing, the benchmark check, the
    sketches) runs on a Ray cluster and the driver keeps the rest: the same decisions."""
    settings.check()
    check_executor(settings, executor, ray_address)
    method = build_method(settings)
    benchmark = benchmark_records(settings)
    scan = None
    if executor == "ray":  # joins or starts the cluster before any output file is opened
        from camelid.stages.dedup.ray_signatures import RayScan

        scan = RayScan(settings, benchmark, ray_address)
    # With Ray the benchmark check runs on the workers.
    decontaminator = None if scan is not None else build_decontaminator(settings, method, benchmark)
    deduplicator = Deduplicator(plan(settings), method, decontaminator)
    with Run("dedup", options) as out:
        report = run_dedup(out, deduplicator, paths, settings.mark, scan)
        out.stats = report | {"params": settings.report()}
        out.describe = lambda: summary(report, out.has_rejects_file)
    return report
