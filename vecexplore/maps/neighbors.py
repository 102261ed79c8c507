"""Exact cosine nearest neighbours in the original embedding space."""

from __future__ import annotations

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize, top_k


def cosine_neighbors(
    vectors: np.ndarray, queries: np.ndarray, k: int = 10, exclude: np.ndarray | None = None,
    chunk: int = 2048,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities of the ``k`` most similar rows of ``vectors`` for each query row.

    ``exclude[i]`` (optional) is a row index of ``vectors`` never returned for query ``i`` (the query itself).
    Results are sorted by similarity, ties by the lower index (:func:`vecexplore.numeric.top_k`).
    """
    base = l2_normalize(vectors)
    q = l2_normalize(np.atleast_2d(queries))
    k_eff = min(k, base.shape[0] - (exclude is not None))
    if k_eff < 1:
        raise VecexploreError("Neighbours need at least two texts.")
    out_idx = np.empty((q.shape[0], k_eff), dtype=int)
    out_sim = np.empty((q.shape[0], k_eff), dtype=np.float32)
    for start in range(0, q.shape[0], chunk):
        sims = q[start : start + chunk] @ base.T
        top = top_k(sims, k_eff, None if exclude is None else exclude[start : start + chunk])
        out_idx[start : start + chunk] = top
        out_sim[start : start + chunk] = np.take_along_axis(sims, top, axis=1)
    return out_idx, out_sim


def point_neighbors(vectors: np.ndarray, i: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours (by cosine) of row ``i``, itself excluded."""
    if not 0 <= i < len(vectors):
        raise VecexploreError(f"No point {i}: the corpus has {len(vectors)} points.")
    idx, sims = cosine_neighbors(vectors, vectors[i : i + 1], k, exclude=np.array([i]))
    return idx[0], sims[0]
