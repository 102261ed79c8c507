import numpy as np
import pytest

from vecexplore.errors import VecexploreError
from vecexplore.maps.clusters import ClusterLabeler
from vecexplore.maps.neighbors import cosine_neighbors, point_neighbors


def test_neighbours_match_brute_force():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 16))
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos = Xn @ Xn.T
    for i in (0, 17, 199):
        idx, sims = point_neighbors(X, i, k=8)
        row = cos[i].copy()
        row[i] = -np.inf
        expected = np.argsort(-row)[:8]
        np.testing.assert_array_equal(idx, expected)
        np.testing.assert_allclose(sims, row[expected], atol=1e-5)
    idx, _ = cosine_neighbors(X, X[:50], k=5, exclude=np.arange(50), chunk=7)
    expected = np.argsort(-np.where(np.eye(200, dtype=bool)[:50], -np.inf, cos[:50]), axis=1)[:, :5]
    np.testing.assert_array_equal(idx, expected)


def test_k_larger_than_corpus_and_bad_index():
    X = np.eye(3)
    idx, sims = point_neighbors(X, 0, k=10)
    assert len(idx) == 2 and 0 not in idx
    with pytest.raises(VecexploreError, match="No point 5"):
        point_neighbors(X, 5)
    with pytest.raises(VecexploreError, match="at least two"):
        point_neighbors(np.eye(1), 0)


def test_kmeans_clusters_follow_cosine():
    X = np.array([[1, 0.01], [2, 0.0], [100, 1], [0, 1], [0.01, 3], [1, 200]], dtype=float)
    texts = ["a b", "c d", "e f", "g h", "i j", "k l"]
    labels = ClusterLabeler("kmeans", 2).fit(X, texts).labels_
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1 and labels[0] != labels[3]
    with pytest.raises(VecexploreError, match="7 clusters needs at least 7 texts"):
        ClusterLabeler("kmeans", 7).fit(X, texts)
