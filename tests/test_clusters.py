"""Clusters named by their words, label purity, and per-text map faithfulness, against reference implementations."""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import adjusted_rand_score, silhouette_score

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.maps import clusters
from vecexplore.maps.clusters import (
    NOISE,
    NOISE_NAME,
    ClassTfidf,
    ClusterLabeler,
    cluster_levels,
    label_positions,
    label_purity,
)
from vecexplore.maps.projection import knn_kept, knn_kept_per_point
from vecexplore.maps.report import cluster_report, faithfulness
from vecexplore.numeric import l2_normalize, seeded_sample

TOY = ["The striker scored a goal and the fans cheered the goal", "A late goal won the match for the home team",
       "The team trained before the match", "Knead the dough and bake the bread", "Bake the cake in a hot oven",
       "Fresh bread from the oven", "Rates rose and the bank raised rates again", "The bank cut its fees"]


def blobs(n: int, centres: int = 4, dims: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, centres, n)
    return (rng.normal(size=(centres, dims)) * 3)[truth] + rng.normal(size=(n, dims)), truth


def test_ctfidf_equals_the_direct_formula():
    classes = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    model = ClassTfidf().fit(TOY, classes)
    vectorizer = CountVectorizer(stop_words="english")
    counts = vectorizer.fit_transform(TOY).toarray()
    per_class = np.stack([counts[classes == c].sum(axis=0) for c in range(3)]).astype(float)
    tf = per_class / per_class.sum(axis=1, keepdims=True)
    idf = np.log(1 + per_class.sum(axis=1).mean() / per_class.sum(axis=0))
    expected = tf * idf
    assert list(model.vocabulary_) == list(vectorizer.get_feature_names_out()) and "the" not in model.vocabulary_
    np.testing.assert_allclose(model.weights_.toarray(), expected, atol=1e-3)
    top = model.top_words(3)
    for c in range(3):
        order = np.lexsort((np.arange(expected.shape[1]), -expected[c]))[:3]
        assert top[c] == [model.vocabulary_[i] for i in order]
    assert top[0][0] == "goal" and ClassTfidf().fit(["the and of", "it is"], [0, 1]).top_words(3) == {0: [], 1: []}


def test_kmeans_on_the_topics_demo_finds_and_names_the_topics(topic_eset):
    topics = sorted(set(topic_eset.labels))
    report = cluster_report(topic_eset, "kmeans", n_clusters=len(topics))
    labels = report.labels
    expected = KMeans(len(topics), n_init=clusters.N_INIT, random_state=0).fit_predict(topic_eset.normalized())
    assert adjusted_rand_score(expected, labels) == pytest.approx(1.0)
    table = pd.crosstab(labels, np.array(topic_eset.labels))
    purity = table.max(axis=1).sum() / topic_eset.n
    assert purity >= 0.8 and report.purity.overall == pytest.approx(purity, abs=1e-3)
    out = report.to_dict()
    assert out["overall_purity"] == pytest.approx(purity, abs=1e-3) and out["n_clusters"] == len(topics)
    analyzer = CountVectorizer().build_analyzer()
    words_of = {t: {w for text, lab in zip(topic_eset.texts, topic_eset.labels, strict=True) if lab == t
                    for w in analyzer(text)} for t in topics}
    for topic in topics:
        named = [c for c in out["clusters"] if c["majority_label"] == topic]
        assert any(set(c["name"].split(" · ")) <= words_of[topic] for c in named), (topic, named)
    for c in out["clusters"]:
        rows = np.flatnonzero(labels == c["id"])
        cos = topic_eset.normalized()[rows] @ report.labeler.centroids_[c["id"]]
        assert c["size"] == len(rows) and c["name"] == " · ".join(c["top_words"][:3])
        assert c["central_texts"] == [topic_eset.texts[i] for i in rows[np.argsort(-cos, kind="stable")[:3]]]
        assert c["purity"] == pytest.approx(table.loc[c["id"]].max() / len(rows), abs=1e-3)


def test_hdbscan_keeps_noise_as_unclustered(topic_eset):
    report = cluster_report(topic_eset, "hdbscan")
    fitted = report.labeler
    expected = HDBSCAN(min_cluster_size=fitted.min_cluster_size_, metric="cosine", copy=True).fit_predict(
        topic_eset.normalized())
    assert fitted.min_cluster_size_ == max(5, topic_eset.n // 100)
    np.testing.assert_array_equal(report.labels == NOISE, expected == NOISE)
    assert adjusted_rand_score(expected, report.labels) == pytest.approx(1.0)
    unclustered = report.to_dict()["clusters"][-1]
    assert unclustered["id"] == NOISE and unclustered["name"] == NOISE_NAME
    assert unclustered["size"] == int((expected == NOISE).sum()) > 0
    assert report.purity.overall == pytest.approx(
        pd.crosstab(expected[expected != NOISE], np.array(topic_eset.labels)[expected != NOISE]).max(axis=1).sum()
        / (expected != NOISE).sum(), abs=1e-3)


def test_the_k_chooser_picks_the_best_silhouette(monkeypatch):
    monkeypatch.setattr(clusters, "AUTO_K_SAMPLE", 300)
    X, _ = blobs(500)
    fitted = ClusterLabeler().fit(X, [f"text {i}" for i in range(len(X))])
    sample = l2_normalize(X)[seeded_sample(len(X), 300, 0)]
    expected = {k: silhouette_score(sample, KMeans(k, n_init=clusters.N_INIT, random_state=0).fit_predict(sample),
                                    metric="cosine") for k in range(clusters.AUTO_K[0], clusters.AUTO_K[1] + 1)}
    assert fitted.k_scores_.keys() == expected.keys()
    np.testing.assert_allclose(list(fitted.k_scores_.values()), list(expected.values()), atol=1e-3)
    assert fitted.k_ == max(expected, key=expected.get) and fitted.n_clusters_ == fitted.k_
    assert "seeded sample of 300" in fitted.notes_[0]


def test_coarse_and_fine_levels():
    X, _ = blobs(400, centres=3)
    eset = EmbeddingSet([f"text {i}" for i in range(len(X))], X, "m", "1")
    levels = cluster_levels(eset, "kmeans", n_clusters=3)
    assert levels["coarse"].k_ == 3 and levels["fine"].k_ == clusters.FINE_FACTOR * 3
    assert levels["fine"].n_clusters_ == clusters.FINE_FACTOR * 3
    levels = cluster_levels(eset, "hdbscan", min_cluster_size=30)
    assert levels["coarse"].min_cluster_size_ == 30 and levels["fine"].min_cluster_size_ == 30 // clusters.FINE_FACTOR


def test_large_sets_fit_a_sample_and_assign_the_rest():
    X, truth = blobs(3000)
    texts = [f"text {i}" for i in range(len(X))]
    fitted = ClusterLabeler("kmeans", 4, max_fit=500).fit(X, texts)
    np.testing.assert_array_equal(fitted.fit_index_, seeded_sample(3000, 500, 0))
    model = KMeans(4, n_init=clusters.N_INIT, random_state=0).fit(l2_normalize(X[fitted.fit_index_]))
    assert adjusted_rand_score(model.predict(l2_normalize(X)), fitted.labels_) == pytest.approx(1.0)
    assert "sample of 500 of the 3,000" in fitted.notes_[0]
    fitted = ClusterLabeler("hdbscan", max_fit=500).fit(X, texts)
    index = fitted.fit_index_
    sample = l2_normalize(X[index])
    own = HDBSCAN(min_cluster_size=fitted.min_cluster_size_, metric="cosine", copy=True).fit_predict(sample)
    found = sorted(set(own) - {NOISE})
    centroids = l2_normalize(np.stack([sample[own == c].mean(axis=0) for c in found]))
    radius = np.array([(sample[own == c] @ centroids[i]).min() for i, c in enumerate(found)])
    rest = np.setdiff1d(np.arange(len(X)), index)
    cos = l2_normalize(X[rest]) @ centroids.T
    nearest = cos.argmax(axis=1)
    expected = np.empty(len(X), dtype=int)
    expected[index] = own
    expected[rest] = np.where(cos.max(axis=1) >= radius[nearest], nearest, NOISE)
    np.testing.assert_array_equal(fitted.labels_ == NOISE, expected == NOISE)
    assert adjusted_rand_score(expected, fitted.labels_) == pytest.approx(1.0)
    assert adjusted_rand_score(truth[expected != NOISE], expected[expected != NOISE]) > 0.9
    assert "least central fitted text" in fitted.notes_[0]


def test_word_sets_are_named_by_their_member_words(glove):
    from vecexplore.cache import embed
    from vecexplore.files.corpus import load_demo

    eset = embed(load_demo("words").texts, glove)[0]
    report = cluster_report(eset, "kmeans", n_clusters=8, n_words=5)
    fitted = report.labeler
    assert fitted.word_level_ and "one word" in fitted.notes_[-1]
    for c in report.to_dict()["clusters"]:
        rows = np.flatnonzero(fitted.labels_ == c["id"])
        cos = eset.normalized()[rows] @ fitted.centroids_[c["id"]]
        assert c["top_words"] == [eset.texts[i] for i in rows[np.argsort(-cos, kind="stable")[:5]]]
        assert c["name"] == " · ".join(c["top_words"][:3])


def test_label_purity_and_positions_match_direct_counts():
    rng = np.random.default_rng(1)
    ids = rng.integers(-1, 4, 300)
    labels = rng.choice(["a", "b", "c"], 300)
    purity = label_purity(ids, list(labels))
    table = pd.crosstab(ids, labels)
    for c in range(-1, 4):
        assert purity.majority[c] == table.loc[c].idxmax()
        assert purity.share[c] == pytest.approx(table.loc[c].max() / table.loc[c].sum(), abs=1e-3)
    assert purity.overall == pytest.approx(table.drop(index=-1).max(axis=1).sum() / (ids != -1).sum(), abs=1e-3)
    coords = rng.normal(size=(300, 2))
    positions = label_positions(coords, ids)
    assert sorted(positions) == [0, 1, 2, 3]
    for c, point in positions.items():
        np.testing.assert_allclose(point, np.median(coords[ids == c], axis=0), atol=1e-6)


def brute_kept(X: np.ndarray, Y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos = Xn @ Xn.T
    np.fill_diagonal(cos, -np.inf)
    d2 = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    near_x, near_y = np.argsort(-cos, axis=1)[:, :k], np.argsort(d2, axis=1)[:, :k]
    return np.array([len(set(a) & set(b)) / k for a, b in zip(near_x, near_y, strict=True)]), near_x


def test_per_point_faithfulness_matches_brute_force():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(250, 24))
    Y = PCA(2, random_state=0).fit_transform(X)
    for k in (1, 7, 20):
        kept, near = brute_kept(X, Y, k)
        points = knn_kept_per_point(X, Y, k)
        np.testing.assert_array_equal(points.index, np.arange(250))
        np.testing.assert_allclose(points.kept, kept, atol=1e-3)
        np.testing.assert_array_equal(points.neighbours, near)
        assert knn_kept(X, Y, k) == pytest.approx(points.kept.mean(), abs=1e-9)
        assert list(points.kept[points.worst(5)]) == sorted(kept)[:5]
    with pytest.raises(VecexploreError, match="0 < k < n"):
        knn_kept_per_point(X[:5], Y[:5], 5)


def test_faithfulness_on_a_sample_scores_the_sampled_texts():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 16))
    Y = PCA(2, random_state=0).fit_transform(X)
    eset = EmbeddingSet([f"text {i}" for i in range(3000)], X, "m", "1")
    result = faithfulness(eset, Y, k=10, max_points=400, seed=5)
    index = seeded_sample(3000, 400, 5)
    kept, near = brute_kept(X[index], Y[index], 10)
    np.testing.assert_array_equal(result.points.index, index)
    np.testing.assert_allclose(result.points.kept, kept, atol=1e-3)
    np.testing.assert_array_equal(result.points.neighbours, index[near])
    per_point = result.per_point()
    assert np.isnan(per_point).sum() == 2600 and np.allclose(per_point[index], kept)
    out = result.to_dict(worst=3)
    assert out["scored"] == 400 and out["mean"] == pytest.approx(kept.mean(), abs=1e-3)
    assert out["share_below_half"] == pytest.approx((kept < 0.5).mean(), abs=1e-3)
    worst = out["worst"][0]
    assert worst["kept"] == pytest.approx(kept.min()) and len(worst["true_neighbours"]) == 10
    assert worst["true_neighbours"][0] == eset.texts[index[near[np.lexsort((index, kept))[0], 0]]]
    assert "seeded sample of 400" in out["notes"][0]


@pytest.mark.parametrize("params,n,message", [
    ({"n_clusters": 1}, 50, "between 2 and 100"),
    ({"n_clusters": 101}, 200, "between 2 and 100"),
    ({"method": "dbscan"}, 50, "Unknown clustering method 'dbscan'"),
    ({"granularity": "medium"}, 50, "Unknown granularity"),
    ({"n_clusters": 5}, 4, "5 clusters needs at least 5 texts"),
    ({}, 2, "needs at least 3 texts"),
    ({"method": "hdbscan", "n_clusters": 3}, 50, "HDBSCAN finds the number of clusters itself"),
    ({"method": "hdbscan", "min_cluster_size": 1}, 50, "min_cluster_size must be between 2"),
    ({"method": "kmeans", "min_cluster_size": 5}, 50, "min_cluster_size is HDBSCAN's"),
    ({"n_words": 0}, 50, "Words per cluster must be between 1 and 50"),
])
def test_bad_inputs_are_refused(params, n, message):
    X, _ = blobs(n)
    with pytest.raises(VecexploreError, match=message):
        ClusterLabeler(**params).fit(X, [f"t{i}" for i in range(n)])


def test_mismatched_inputs_are_refused():
    X, _ = blobs(20)
    with pytest.raises(VecexploreError, match="19 texts but 20 vectors"):
        ClusterLabeler().fit(X, ["t"] * 19)
    with pytest.raises(VecexploreError, match="3 labels for 2 texts"):
        label_purity(np.array([0, 1]), ["a", "b", "c"])
    with pytest.raises(VecexploreError, match="2 map points for 3 cluster labels"):
        label_positions(np.zeros((2, 2)), np.array([0, 1, 1]))


def test_cli_clusters_and_project_faithfulness(capsys, tmp_path):
    import json
    from importlib import resources

    from vecexplore.cli import main

    topics = str(resources.files("vecexplore.data").joinpath("demo_topics.csv"))
    code = main(["clusters", topics, "--model", "glove-6B-50d", "--label-col", "label", "--k", "5", "--words", "4"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["k"] == 5 and out["n_clusters"] == len(out["clusters"]) == 5
    assert sum(c["size"] for c in out["clusters"]) == out["n"] == 300
    assert all(len(c["top_words"]) == 4 and len(c["central_texts"]) == 3 for c in out["clusters"])
    weighted = sum(c["purity"] * c["size"] for c in out["clusters"]) / out["n"]
    assert out["overall_purity"] == pytest.approx(weighted, abs=1e-3)
    assert main(["embed", topics, "--model", "glove-6B-50d", "-o", str(tmp_path / "e.parquet")]) == 0
    capsys.readouterr()
    code = main(["project", str(tmp_path / "e.parquet"), "--method", "pca", "--faithfulness", "--k", "8", "-o",
                 str(tmp_path / "p.parquet")])
    out = json.loads(capsys.readouterr().out)
    frame = pd.read_parquet(tmp_path / "p.parquet")
    X = EmbeddingSet.from_parquet(tmp_path / "e.parquet").vectors
    kept, _ = brute_kept(X, frame[["x", "y"]].to_numpy(), 8)
    np.testing.assert_allclose(frame["knn_kept"], kept, atol=1e-3)
    assert code == 0 and out["faithfulness"]["mean"] == pytest.approx(out["knn_kept"], abs=1e-3)
    assert out["faithfulness"]["share_below_half"] == pytest.approx((kept < 0.5).mean(), abs=1e-3)
    assert [w["kept"] for w in out["faithfulness"]["worst"]] == pytest.approx(sorted(kept)[:10], abs=1e-3)
