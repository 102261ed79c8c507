"""Clusters found in the original embedding space (for colouring a map)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize


def kmeans_labels(vectors: np.ndarray, n_clusters: int = 5, random_state: int = 0) -> np.ndarray:
    """k-means cluster id of each vector, on unit-length vectors (so clusters follow cosine similarity)."""
    if not 2 <= n_clusters <= len(vectors):
        raise VecexploreError(f"Choose between 2 and {len(vectors)} clusters for {len(vectors)} texts.")
    model = KMeans(n_clusters=n_clusters, n_init=4, random_state=random_state)
    return model.fit_predict(l2_normalize(vectors))
