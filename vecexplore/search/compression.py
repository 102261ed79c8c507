"""Compression lab: how much search quality survives Qdrant's quantizations and Matryoshka-style truncation.

Each form is built as a Qdrant Edge shard of the corpus in a temporary folder (quantized codes built by Qdrant's
optimizer, no HNSW graph, so that recall measures the compression alone) and searched with stored vectors as
queries, each excluded from its own results; recall@k is against exact float32 search. Quantized forms are searched
twice: on the codes alone, and with Qdrant's rescoring of an oversampled candidate list on the original vectors.
Bytes per vector are the codes' nominal size (Qdrant adds a few bytes per vector for norms and offsets).
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import qdrant_edge as qe

from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize, seeded_sample, top_k

OVERSAMPLING = 4.0
_B, _T = qe.BinaryQuantizationEncoding, qe.TurboQuantBitSize


def quantizations(d: int) -> dict[str, tuple[object, int]]:
    """Qdrant quantization configs by name, with the bytes per vector of their codes for ``d`` dimensions."""
    return {
        "scalar int8": (qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=0.99), d),
        "TurboQuant 4-bit": (qe.TurboQuantQuantizationConfig(bits=_T.Bits4), math.ceil(d / 2)),
        "TurboQuant 2-bit": (qe.TurboQuantQuantizationConfig(bits=_T.Bits2), math.ceil(d / 4)),
        "binary 2-bit": (qe.BinaryQuantizationConfig(encoding=_B.TwoBits), math.ceil(d / 4)),
        "binary 1.5-bit": (qe.BinaryQuantizationConfig(encoding=_B.OneAndHalfBits), math.ceil(1.5 * d / 8)),
        "product ×16": (qe.ProductQuantizationConfig(compression=qe.CompressionRatio.X16), math.ceil(d / 4)),
        "TurboQuant 1-bit": (qe.TurboQuantQuantizationConfig(bits=_T.Bits1), math.ceil(d / 8)),
        "binary 1-bit": (qe.BinaryQuantizationConfig(encoding=_B.OneBit), math.ceil(d / 8)),
    }


@dataclass(frozen=True)
class CompressionReport:
    """One row per form: method, rescoring, bytes per vector, recall@k, query p50 (ms)."""

    n: int
    dims: int
    k: int
    n_queries: int
    rows: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"n": self.n, "dims": self.dims, "k": self.k, "n_queries": self.n_queries,
                "oversampling": OVERSAMPLING, "rows": self.rows}


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def _shard(path: Path, X: np.ndarray, quantization=None) -> qe.EdgeShard:
    config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=X.shape[1], distance=qe.Distance.Cosine),
                           quantization_config=quantization,
                           hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10**9),
                           optimizers=qe.EdgeOptimizersConfig(indexing_threshold=1))
    shard = qe.EdgeShard.create(str(path), config)
    for s in range(0, len(X), 2048):
        shard.update(qe.UpdateOperation.upsert_points(
            [qe.Point(i, X[i].tolist()) for i in range(s, min(s + 2048, len(X)))]))
    shard.optimize()  # builds the quantized codes
    return shard


def _search(shard: qe.EdgeShard, X: np.ndarray, q_idx: np.ndarray, k: int,
            params: qe.SearchParams) -> tuple[np.ndarray, float]:
    found, times = [], []
    for i in q_idx:
        start = time.perf_counter()
        hits = shard.query(qe.QueryRequest(limit=k + 1, query=qe.Query.Nearest(X[i].tolist()), params=params))
        times.append(time.perf_counter() - start)
        found.append([h.id for h in hits if h.id != i][:k])
    return np.array(found), 1000 * statistics.median(times)


def compression_report(X: np.ndarray, n_queries: int = 200, k: int = 10, dims: tuple[int, ...] | None = None,
                       seed: int = 0, progress=None, methods: Sequence[str] | None = None) -> CompressionReport:
    """recall@k and query p50 of float32, truncated float32 (first ``dims`` dimensions; default d/2, d/4, d/8)
    and each Qdrant quantization with and without rescoring, against exact float32 cosine search."""
    X = np.asarray(X, dtype=np.float32)
    n, d = X.shape
    if n <= k + 1:
        raise VecexploreError(f"Need more than {k + 1} vectors to measure recall@{k}.")
    q_idx = seeded_sample(n, n_queries, seed)
    truth = top_k(l2_normalize(X[q_idx]) @ l2_normalize(X).T, k, q_idx)
    dims = tuple(t for t in (d // 2, d // 4, d // 8) if t >= 8) if dims is None else dims
    forms = quantizations(d)
    if methods is not None:
        unknown = sorted(set(methods) - set(forms))
        if unknown:
            raise VecexploreError(f"Unknown quantization {unknown[0]!r}; choose among {', '.join(forms)}.")
        forms = {name: form for name, form in forms.items() if name in methods}
    steps, done = 1 + len(dims) + len(forms), 0
    rows = []

    def row(method: str, rescoring: str, nbytes: int, found: np.ndarray, p50: float) -> None:
        rows.append({"method": method, "rescoring": rescoring, "bytes_per_vector": nbytes,
                     "recall": round(recall_at_k(found, truth), 4), "query_p50_ms": round(p50, 3)})

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, steps, label)

    with tempfile.TemporaryDirectory(prefix="vecexplore-compression-") as tmp:
        shard = _shard(Path(tmp) / "float32", X)
        row("float32", "—", 4 * d, *_search(shard, X, q_idx, k, qe.SearchParams(exact=True)))
        shard.close()
        tick("float32")
        for t in sorted({t for t in dims if 0 < t < d}, reverse=True):
            shard = _shard(Path(tmp) / f"first{t}", X[:, :t])
            row(f"first {t} dims (float32)", "—", 4 * t, *_search(shard, X[:, :t], q_idx, k,
                                                                 qe.SearchParams(exact=True)))
            shard.close()
            tick(f"first {t} dims")
        for name, (config, nbytes) in forms.items():
            shard = _shard(Path(tmp) / name.replace(" ", "_"), X, config)
            for rescore in (False, True):
                quant = qe.QuantizationSearchParams(rescore=rescore, oversampling=OVERSAMPLING if rescore else None)
                row(name, f"×{OVERSAMPLING:g} oversampling, rescored" if rescore else "none", nbytes,
                    *_search(shard, X, q_idx, k, qe.SearchParams(quantization=quant)))
            shard.close()
            tick(name)
    return CompressionReport(n, d, k, len(q_idx), rows)
