"""The few numeric building blocks every analysis shares: one array check, unit vectors and cosine, one top-k
with one tie rule, one seeded sample."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vecexplore.errors import VecexploreError


def check_array(X: np.ndarray, min_rows: int = 1, name: str = "vectors", dtype: type = np.float64) -> np.ndarray:
    """``X`` as a 2-D array of finite ``dtype`` numbers with at least ``min_rows`` rows, else a
    :class:`VecexploreError` that names ``name`` and what is wrong."""
    X = np.asarray(X, dtype=dtype)
    if X.ndim != 2:
        raise VecexploreError(f"The {name} must be a 2-D array (rows × dims), got shape {X.shape}.")
    if X.shape[0] < min_rows:
        raise VecexploreError(f"Need at least {min_rows} {name} (got {X.shape[0]}).")
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X)).any(axis=1).sum())
        raise VecexploreError(f"{bad} {name} contain NaN or infinite values; fix or drop those rows.")
    return X


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); all-zero rows stay zero instead of becoming NaN."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of paired rows of ``a`` and ``b`` (0 where a row is zero), in float64."""
    return (l2_normalize(a).astype(np.float64) * l2_normalize(b).astype(np.float64)).sum(-1)


def top_k(scores: np.ndarray, k: int, exclude: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, equal scores in index order (lower index first).

    ``scores`` is one row (1-D) or one row per query (2-D). ``exclude`` is never returned: for one row, a list
    of indices; for 2-D, one index per row (the query itself). ``k`` is lowered to the number of scores left."""
    single = np.ndim(scores) == 1
    s = np.array(scores, dtype=np.float64, ndmin=2)  # a copy: excluded scores are overwritten
    n_excluded = 0
    if exclude is not None:
        if single:
            excluded = np.unique(np.asarray(exclude, dtype=int))
            s[0, excluded] = -np.inf
            n_excluded = len(excluded)
        else:
            s[np.arange(len(s)), np.asarray(exclude, dtype=int)] = -np.inf
            n_excluded = 1
    n = s.shape[1]
    k = min(k, n - n_excluded)
    if k < 1:
        return np.zeros((0,) if single else (len(s), 0), dtype=int)
    if k < n:
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(s, top, 1).min(axis=1, keepdims=True)
        tied = (s >= kth).sum(axis=1) > k  # equal scores straddle the cut: decide those rows by index
        if tied.any():
            top[tied] = np.argsort(-s[tied], axis=1, kind="stable")[:, :k]
    else:
        top = np.broadcast_to(np.arange(n), s.shape).copy()
    order = np.lexsort((top, -np.take_along_axis(s, top, 1)), axis=1)
    top = np.take_along_axis(top, order, 1)
    return top[0] if single else top


def seeded_sample(n: int, size: int | None, seed: int = 0) -> np.ndarray:
    """``size`` distinct indices of ``range(n)`` drawn by a generator seeded with ``seed``, in increasing order;
    every index when ``size`` is None or at least ``n``."""
    if size is None or n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
