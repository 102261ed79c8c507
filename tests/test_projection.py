import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness as sk_trustworthiness

from vecexplore.errors import VecexploreError
from vecexplore.maps.projection import Projector, knn_kept, trustworthiness


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 32)) * 3
    X = np.vstack([c + rng.normal(size=(60, 32)) for c in centers]).astype(np.float32)
    return X


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("k", [1, 5, 12])
def test_trustworthiness_equals_sklearn(blobs, metric, k):
    Y = PCA(2, random_state=0).fit_transform(blobs)
    expected = sk_trustworthiness(blobs, Y, n_neighbors=k, metric=metric)
    assert trustworthiness(blobs, Y, k, metric=metric, chunk=37) == pytest.approx(expected, abs=1e-9)


def test_trustworthiness_on_real_embeddings(minilm, topics):
    X = minilm.encode(topics.texts)
    Y = Projector("pca").fit_transform(X)
    assert trustworthiness(X, Y, 10) == pytest.approx(sk_trustworthiness(X, Y, n_neighbors=10, metric="cosine"),
                                                      abs=1e-3)


def test_trustworthiness_sampled_is_sklearn_on_the_sample(blobs):
    Y = PCA(2, random_state=0).fit_transform(blobs)
    idx = np.sort(np.random.default_rng(3).choice(len(blobs), 100, replace=False))
    expected = sk_trustworthiness(blobs[idx], Y[idx], n_neighbors=5, metric="cosine")
    assert trustworthiness(blobs, Y, 5, max_points=100, seed=3) == pytest.approx(expected, abs=1e-9)
    with pytest.raises(VecexploreError, match="n_neighbors < n/2"):
        trustworthiness(blobs[:6], Y[:6], 5)


def test_knn_kept_matches_a_direct_formula(blobs):
    Y = PCA(2, random_state=0).fit_transform(blobs)
    k = 7
    Xn = blobs / np.linalg.norm(blobs, axis=1, keepdims=True)
    cos = Xn @ Xn.T
    np.fill_diagonal(cos, -np.inf)
    d2 = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    nx = np.argsort(-cos, axis=1)[:, :k]
    ny = np.argsort(d2, axis=1)[:, :k]
    expected = np.mean([len(set(a) & set(b)) / k for a, b in zip(nx, ny, strict=True)])
    assert knn_kept(blobs, Y, k) == pytest.approx(expected, abs=1e-3)


def test_pca_equals_sklearn_on_unit_vectors(blobs):
    Xn = blobs / np.linalg.norm(blobs, axis=1, keepdims=True)
    expected = PCA(3, random_state=0).fit_transform(Xn)
    proj = Projector("pca", n_components=3).fit(blobs)
    np.testing.assert_allclose(proj.embedding_, expected, atol=1e-4)
    np.testing.assert_allclose(proj.transform(blobs[:5]), expected[:5], atol=1e-4)
    assert proj.method_ == "pca" and proj.notes_ == []


@pytest.mark.slow
def test_umap_equals_raw_umap(blobs):
    import umap

    expected = umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", random_state=0, n_jobs=1).fit_transform(blobs)
    proj = Projector("umap", n_neighbors=15, min_dist=0.1).fit(blobs)
    np.testing.assert_allclose(proj.embedding_, expected, atol=1e-4)
    assert proj.transform(blobs[:3]).shape == (3, 2)
    assert trustworthiness(blobs, proj.embedding_, 5) > 0.9


@pytest.mark.slow
def test_small_inputs_fall_back_or_explain():
    rng = np.random.default_rng(1)
    two = rng.normal(size=(2, 8))
    proj = Projector("umap").fit(two)
    assert proj.method_ == "pca" and "needs at least 6 texts" in proj.notes_[0]
    assert proj.embedding_.shape == (2, 2)
    three_d = Projector("pca", n_components=3).fit(two)
    assert three_d.embedding_.shape == (2, 3)  # the missing component is zero
    ten = rng.normal(size=(10, 8))
    proj = Projector("umap", n_neighbors=15).fit(ten)
    assert proj.method_ == "umap" and "lowered from 15 to 9" in proj.notes_[0]
    with pytest.raises(VecexploreError, match="at least 2 texts"):
        Projector("pca").fit(rng.normal(size=(1, 8)))
    with pytest.raises(VecexploreError, match="Unknown projection method"):
        Projector("mds").fit(ten)


def test_the_search_maps_pca_on_the_smallest_corpora(hostile):
    """The Search page rings its hits on a PCA map of the corpus and places the query with the same PCA. One text
    has no map: the core refuses it with a message (a page must show it, not a traceback); two texts are the
    smallest map, and a query is placed on it."""
    rng = np.random.default_rng(2)
    one = rng.normal(size=(1, 384)).astype(np.float32)
    with pytest.raises(VecexploreError, match="A map needs at least 2 texts; add more texts") as raised:
        Projector("pca").fit(one)
    hostile("core: Projector (the Search page's map of the hits)", "a PCA map of a one-text corpus",
            str(raised.value))
    two = rng.normal(size=(2, 384)).astype(np.float32)
    proj = Projector("pca").fit(two)
    assert proj.method_ == "pca" and proj.embedding_.shape == (2, 2) and not proj.notes_
    assert proj.embedding_[0, 0] == pytest.approx(-proj.embedding_[1, 0], abs=1e-5)  # either side of the centre
    placed = proj.transform(two[:1] + 0.01 * rng.normal(size=(1, 384)).astype(np.float32))
    assert placed.shape == (1, 2) and np.isfinite(placed).all()
    assert abs(placed[0, 0] - proj.embedding_[0, 0]) < abs(placed[0, 0] - proj.embedding_[1, 0])  # beside its text


def test_tsne_cannot_place_new_points(blobs):
    proj = Projector("tsne", perplexity=10).fit(blobs[:40])
    assert proj.embedding_.shape == (40, 2)
    with pytest.raises(VecexploreError, match="t-SNE cannot place"):
        proj.transform(blobs[:2])
