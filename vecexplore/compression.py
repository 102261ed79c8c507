"""How much search quality survives smaller vectors: truncation, int8 and binary quantisation vs exact float32."""

from __future__ import annotations

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize, seeded_sample, top_k


def exact_top(base: np.ndarray, queries: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``k`` highest cosines of each query among ``base`` (excluding ``exclude[i]``)."""
    return top_k(l2_normalize(queries) @ l2_normalize(base).T, k, exclude)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def int8_quantize(X: np.ndarray, ranges: tuple[np.ndarray, np.ndarray] | None = None):
    """Scalar quantisation per dimension to 256 levels between the 0.1% and 99.9% quantiles."""
    lo, hi = ranges if ranges is not None else (np.quantile(X, 0.001, axis=0), np.quantile(X, 0.999, axis=0))
    scale = np.where(hi > lo, (hi - lo) / 255.0, 1.0)
    codes = np.clip(np.round((X - lo) / scale), 0, 255).astype(np.uint8)
    return codes, (lo, hi), scale


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


def hamming(queries: np.ndarray, base: np.ndarray, chunk: int = 32) -> np.ndarray:
    """Hamming distances between packed bit codes (queries × base), a few queries at a time."""
    out = np.empty((len(queries), len(base)), dtype=np.int32)
    for s in range(0, len(queries), chunk):
        out[s : s + chunk] = _POPCOUNT[queries[s : s + chunk, None, :] ^ base[None, :, :]].sum(2)
    return out


def compression_report(X: np.ndarray, n_queries: int = 200, k: int = 10, dims: tuple[int, ...] = (),
                       rescore: int = 4, seed: int = 0) -> list[dict]:
    """recall@k of each compressed form against exact float32 cosine search, with bytes per vector.

    Queries are a seeded sample of the vectors themselves (each excluded from its own results)."""
    X = np.asarray(X, dtype=np.float32)
    n, d = X.shape
    if n <= k + 1:
        raise VecexploreError(f"Need more than {k + 1} vectors to measure recall@{k}.")
    q_idx = seeded_sample(n, n_queries, seed)
    truth = exact_top(X, X[q_idx], k, q_idx)
    rows = [{"method": "float32 (exact)", "bytes_per_vector": 4 * d, "recall": 1.0}]
    for t in sorted({t for t in dims if 0 < t < d}, reverse=True):
        found = exact_top(X[:, :t], X[q_idx, :t], k, q_idx)
        rows.append({"method": f"first {t} dims (float32)", "bytes_per_vector": 4 * t,
                     "recall": recall_at_k(found, truth)})
    Xn = l2_normalize(X)
    codes, _, scale = int8_quantize(Xn)
    lo = np.quantile(Xn, 0.001, axis=0)
    deq = codes.astype(np.float32) * scale + lo
    rows.append({"method": "int8 scalar", "bytes_per_vector": d,
                 "recall": recall_at_k(top_k(deq[q_idx] @ deq.T, k, q_idx), truth)})
    bits = np.packbits(Xn > 0, axis=1)
    ham = hamming(bits[q_idx], bits)
    found = top_k(-ham.astype(np.float64), k, q_idx)
    rows.append({"method": "binary (Hamming)", "bytes_per_vector": bits.shape[1], "recall": recall_at_k(found, truth)})
    cand = top_k(-ham.astype(np.float64), min(k * rescore, n - 1), q_idx)
    exact = np.einsum("qd,qcd->qc", Xn[q_idx], Xn[cand])
    rescored = np.take_along_axis(cand, top_k(exact, k), 1)
    rows.append({"method": f"binary + float rescoring of top {k * rescore}", "bytes_per_vector": bits.shape[1],
                 "recall": recall_at_k(rescored, truth)})
    return rows
