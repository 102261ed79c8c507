"""UMAP fitted on a sample, the other texts placed from their nearest fitted texts (maps/placing.py)."""

import numpy as np
import pytest
from sklearn.manifold import trustworthiness as sk_trustworthiness
from sklearn.neighbors import NearestNeighbors

from vecexplore.errors import VecexploreError
from vecexplore.maps.placing import EXACT, TEMPERATURE, Placer
from vecexplore.maps.projection import ProjectionCache, Projector

MARGIN = 0.03  # the sampled map's trustworthiness stays within this of full UMAP's


def clustered(n: int, dims: int = 32, seed: int = 0) -> np.ndarray:
    """Texts-like vectors: 12 topics, each with 4 sub-topics, around a shared direction."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(12, dims)) * 2
    subs = topics.repeat(4, 0) + rng.normal(size=(48, dims))
    return (subs[rng.integers(0, 48, n)] + 0.6 * rng.normal(size=(n, dims)) + 3).astype(np.float32)


def test_neighbours_match_exact_cosine_search():
    X = clustered(EXACT + 2000)  # more fitted texts than EXACT: the grouped (inverted-file) search
    Q = clustered(500, seed=1)
    placer = Placer().fit(X, np.zeros((len(X), 2)))
    rows, sims = placer.neighbours(Q)
    exact = NearestNeighbors(n_neighbors=10, metric="cosine").fit(X).kneighbors(Q, return_distance=False)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact, strict=True)])
    assert recall >= 0.95
    Xn, Qn = (v / np.linalg.norm(v, axis=1, keepdims=True) for v in (X, Q))
    np.testing.assert_allclose(sims, np.einsum("nd,nkd->nk", Qn, Xn[rows]), atol=1e-5)
    assert (np.diff(sims, axis=1) <= 1e-7).all()  # most similar first
    small = Placer().fit(X[:300], np.zeros((300, 2)))  # up to EXACT: every fitted text compared
    rows, _ = small.neighbours(Q)
    exact = NearestNeighbors(n_neighbors=10, metric="cosine").fit(X[:300]).kneighbors(Q, return_distance=False)
    assert all(set(a) == set(b) for a, b in zip(rows, exact, strict=True))


def test_placed_at_the_weighted_mean_of_the_neighbours():
    X = clustered(EXACT + 1000)
    coords = np.random.default_rng(2).normal(size=(len(X), 2)).astype(np.float32)
    placer = Placer().fit(X, coords)
    Q = clustered(50, seed=3)
    rows, sims = placer.neighbours(Q)
    weights = np.exp((sims - sims[:, :1]) / TEMPERATURE)
    expected = (coords[rows] * weights[..., None]).sum(1) / weights.sum(1, keepdims=True)
    np.testing.assert_allclose(placer.place(Q), expected, atol=1e-3)
    rows, sims = placer.neighbours(X[:20])  # a fitted text's nearest is itself
    assert (rows[:, 0] == np.arange(20)).all() and np.allclose(sims[:, 0], 1, atol=1e-5)


@pytest.mark.slow
def test_sampled_umap_keeps_full_umaps_trustworthiness(tmp_path):
    """The reference: full UMAP (umap-learn itself) on every point against UMAP fitted on a quarter, the rest placed;
    both scored by scikit-learn's trustworthiness."""
    import umap

    X = clustered(3000)
    full = umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", random_state=0, n_jobs=1).fit_transform(X)
    proj, hit = ProjectionCache(tmp_path).fit(X, Projector("umap", max_fit=750))
    assert not hit and len(proj.fit_index_) == 750 and "placed on that map at the similarity-weighted" in proj.notes_[0]
    t_full = sk_trustworthiness(X, full, n_neighbors=10, metric="cosine")
    t_sampled = sk_trustworthiness(X, proj.embedding_, n_neighbors=10, metric="cosine")
    assert t_sampled >= t_full - MARGIN, (t_sampled, t_full)
    np.testing.assert_allclose(proj.embedding_[proj.fit_index_], proj.model_.embedding_, atol=1e-5)
    # a map read back from disk places new points where the fitted one does (its placer rebuilt from the model)
    again, hit = ProjectionCache(tmp_path).fit(X, Projector("umap", max_fit=750))
    assert hit and not hasattr(again, "placer_")
    np.testing.assert_allclose(again.transform(X[:30]), proj.transform(X[:30]), atol=1e-4)
    rest = np.setdiff1d(np.arange(len(X)), proj.fit_index_)
    np.testing.assert_allclose(proj.transform(X[rest[:30]]), proj.embedding_[rest[:30]], atol=1e-4)
    by_umap = Projector("umap", max_fit=750, placement="umap").fit(X)
    assert "with UMAP's transform" in by_umap.notes_[0] and np.isfinite(by_umap.embedding_).all()


def test_sample_size_and_placement_are_checked():
    X = clustered(200)
    with pytest.raises(VecexploreError, match="UMAP's sample"):
        Projector("umap", max_fit=50).fit(X)
    with pytest.raises(VecexploreError, match="Unknown placement"):
        Projector("umap", placement="nearest").fit(X)
    assert Projector().get_params()["max_fit"] == 20_000 and Projector().get_params()["placement"] == "neighbours"
