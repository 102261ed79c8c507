"""The projection cache: keyed by vectors and every parameter; shared between processes through the disk."""

import numpy as np
import pytest

from vecexplore.errors import VecexploreError
from vecexplore.maps.projection import TSNE_LIMIT, ProjectionCache, Projector


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(60, 16)).astype(np.float32)


def test_same_vectors_and_parameters_hit(tmp_path, X):
    cache = ProjectionCache(tmp_path)
    first, hit = cache.fit(X, Projector("pca"))
    assert not hit
    again, hit = cache.fit(X.copy(), Projector("pca"))
    assert hit and again is first
    # a new cache object (another process, a restart) reads it back from disk
    fresh, hit = ProjectionCache(tmp_path).fit(X, Projector("pca"))
    assert hit and fresh is not first and fresh.model_ is None  # the map only; the model is read when needed
    np.testing.assert_array_equal(fresh.embedding_, first.embedding_)
    np.testing.assert_allclose(fresh.transform(X[:5]), first.transform(X[:5]), atol=1e-6)


@pytest.mark.parametrize("change", [
    {"method": "umap"}, {"n_components": 3}, {"n_neighbors": 5}, {"min_dist": 0.5}, {"random_state": 1},
    {"max_fit": 200}, {"perplexity": 5.0},
])
def test_any_parameter_change_recomputes(tmp_path, X, change):
    cache = ProjectionCache(tmp_path)
    cache.fit(X, Projector("pca"))
    params = {**Projector("pca").get_params(), **change}
    assert cache.get(X, Projector(**params)) is None
    assert ProjectionCache.key(X, Projector(**params)) != ProjectionCache.key(X, Projector("pca"))


def test_changed_vectors_recompute(tmp_path, X):
    cache = ProjectionCache(tmp_path)
    cache.fit(X, Projector("pca"))
    Y = X.copy()
    Y[3, 7] += 1e-3
    assert cache.get(Y, Projector("pca")) is None
    assert cache.get(X[:-1], Projector("pca")) is None


def test_disk_and_memory_are_bounded(tmp_path, X):
    cache = ProjectionCache(tmp_path, max_memory=2, max_disk=3)
    for seed in range(5):
        cache.fit(X, Projector("pca", random_state=seed))
    assert len(list(tmp_path.glob("*.pkl"))) == 6 and len(cache._memory) == 2  # 3 maps, 3 models
    assert cache.get(X, Projector("pca", random_state=4)) is not None  # newest kept
    assert cache.get(X, Projector("pca", random_state=0)) is None  # oldest evicted


@pytest.mark.slow
def test_umap_on_a_sample_places_the_rest(X):
    big = np.random.default_rng(1).normal(size=(400, 16)).astype(np.float32)
    proj = Projector("umap", max_fit=150, n_neighbors=10).fit(big)
    assert proj.embedding_.shape == (400, 2) and len(proj.fit_index_) == 150
    assert np.isfinite(proj.embedding_).all() and np.abs(proj.embedding_).sum(axis=1).min() > 0
    assert any("sample of 150 of the 400" in note for note in proj.notes_)
    # the fitted points keep UMAP's own coordinates; the others are what transform gives
    rest = np.setdiff1d(np.arange(400), proj.fit_index_)
    np.testing.assert_allclose(proj.embedding_[proj.fit_index_], proj.model_.embedding_, atol=1e-5)
    assert proj.embedding_[rest].std() > 0


def test_tsne_refuses_huge_inputs():
    with pytest.raises(VecexploreError, match="t-SNE"):
        Projector("tsne").fit(np.zeros((TSNE_LIMIT + 1, 2), dtype=np.float32))


def test_sessions_evicting_at_once_never_fail(tmp_path, hostile):
    """Many sessions fitting different maps at once (a class on one server) evict each other's files from the
    disk cache; one that is already gone is skipped, not raised (found by bench/load.py with 20 sessions)."""
    import threading

    cache = ProjectionCache(tmp_path / "p", max_memory=1, max_disk=2)
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(12, 4)).astype(np.float32) for _ in range(40)]
    errors: list[BaseException] = []

    def work(part: list[np.ndarray]) -> None:
        try:
            for X in part:
                cache.fit(X, Projector("pca"))
                cache.get(X, Projector("pca"))
        except BaseException as exc:  # noqa: BLE001 (collected and reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(inputs[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len([p for p in (tmp_path / "p").glob("*.pkl") if not p.name.endswith(".model.pkl")]) <= 2
    hostile("server: projection cache", "8 sessions fitting 40 different maps at once (disk cache of 2)",
            "every map drawn; no FileNotFoundError")
