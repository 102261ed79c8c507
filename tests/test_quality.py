"""The data-quality lens against reference implementations (scikit-learn's LocalOutlierFactor, a direct k-NN
computation, cleanlab called directly, a brute-force cosine pass), on planted faults, and its hostile inputs."""

import json
from importlib import resources

import numpy as np
import pytest

from vecexplore.cli import main
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize
from vecexplore.quality import finders as F
from vecexplore.quality.report import quality_report

TOPICS = str(resources.files("vecexplore.data").joinpath("demo_topics.csv"))


def blobs(n: int = 600, dims: int = 32, classes: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dims)) * 3
    y = rng.integers(0, classes, n)
    return (centres[y] + rng.normal(size=(n, dims))).astype(np.float32), y


def brute_force(X: np.ndarray) -> np.ndarray:
    U = l2_normalize(X.astype(np.float64))
    S = U @ U.T
    np.fill_diagonal(S, -np.inf)
    return S


def test_near_duplicates_and_neighbours_equal_a_brute_force_cosine_pass():
    X, _ = blobs(1500)
    X[10] = X[3] + 0.01
    X[1499] = X[700]
    S = brute_force(X)
    for threshold in (0.9, 0.97):
        found = F.neighbours(X, 10, threshold, block=256)
        i, j = np.nonzero(np.triu(threshold <= S, 1))
        assert found.exact and sorted(map(tuple, found.pairs.tolist())) == sorted(zip(i.tolist(), j.tolist(),
                                                                                          strict=True))
        np.testing.assert_allclose(found.pair_cosine, S[found.pairs[:, 0], found.pairs[:, 1]], atol=1e-5)
        np.testing.assert_allclose(found.nearest, S.max(axis=1), atol=1e-5)
    order = np.argsort(-S, axis=1, kind="stable")[:, :10]
    assert (found.index == order).mean() > 0.999  # equal but for float32 near-ties
    np.testing.assert_allclose(found.cosine, np.take_along_axis(S, order, 1), atol=1e-5)
    assert F.groups(5, np.array([[0, 1], [1, 3]])) == [[0, 1, 3]]


def test_above_the_exact_size_the_qdrant_graph_finds_the_same_duplicates():
    X, _ = blobs(3000, dims=64)
    rng = np.random.default_rng(3)
    for n, src in enumerate(rng.choice(2900, 60, replace=False)):
        X[2900 + n % 100] = X[src] + rng.normal(scale=0.01, size=X.shape[1])
    S = brute_force(X)
    exact, graph = F.neighbours(X, 10, 0.99), F.neighbours(X, 10, 0.99, exact=False)
    assert exact.exact and not graph.exact
    assert graph.pairs.tolist() == sorted(exact.pairs.tolist()) and len(graph.pairs) >= 60
    np.testing.assert_allclose(graph.pair_cosine, S[graph.pairs[:, 0], graph.pairs[:, 1]], atol=1e-5)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(graph.index, exact.index, strict=True)])
    assert recall >= 0.95 and (graph.index != np.arange(3000)[:, None]).all()  # a row is not its own neighbour
    np.testing.assert_allclose(graph.nearest, S.max(axis=1), atol=1e-3)
    texts = [f"t{i}" for i in range(3000)]
    B = np.concatenate([X[:50] + 0.001, blobs(50, dims=64, seed=9)[0]])
    assert F.cross_pairs(X, B, texts, texts[:100], 0.99, exact=False).tolist() == \
        F.cross_pairs(X, B, texts, texts[:100], 0.99, exact=True).tolist()


def test_outlier_scores_equal_scikit_learn_and_a_direct_knn():
    from sklearn.neighbors import LocalOutlierFactor

    X, _ = blobs(400)
    U = l2_normalize(X)
    graph = F.neighbours(X, 10, 0.95)
    np.testing.assert_allclose(F.outlier_scores(graph, 10), -LocalOutlierFactor(n_neighbors=10).fit(U)
                               .negative_outlier_factor_, rtol=1e-5)
    np.testing.assert_allclose(F.outlier_scores(F.neighbours(X, 20, 0.95), 7),
                               -LocalOutlierFactor(n_neighbors=7).fit(U).negative_outlier_factor_, rtol=1e-5)
    S = brute_force(X)
    direct = 1 - np.sort(S, axis=1)[:, ::-1][:, :10].mean(axis=1)
    np.testing.assert_allclose(F.outlier_scores(graph, 10, "knn"), direct, atol=1e-5)


def test_label_issues_equal_cleanlab_on_the_same_probabilities():
    from cleanlab.filter import find_label_issues

    X, y = blobs(500)
    labels = [f"c{v}" for v in y]
    flipped = np.random.default_rng(1).choice(500, 25, replace=False)
    for i in flipped:
        labels[i] = f"c{(y[i] + 1) % 4}"
    issues = F.label_issues(X, labels, seed=0)
    codes = np.unique(labels, return_inverse=True)[1]
    expected = find_label_issues(codes, issues.probabilities, return_indices_ranked_by="self_confidence")
    assert issues.ranked.tolist() == list(expected)
    top = set(issues.ranked[:50].tolist())
    assert len(top & set(flipped.tolist())) / len(flipped) >= 0.6  # recall in the top 2x planted


def test_planted_duplicates_and_leakage_are_found():
    X, y = blobs(800)
    rng = np.random.default_rng(2)
    texts = [f"text {i}" for i in range(800)]
    copies = rng.choice(700, 40, replace=False)
    for n, src in enumerate(copies):  # near-duplicates by a small edit of the vector
        X[700 + n % 100] = X[src] + rng.normal(scale=0.02, size=X.shape[1])
    eset = EmbeddingSet(texts, X, "m", "1", [str(v) for v in y])
    report = quality_report(eset, threshold=0.99)
    planted = {tuple(sorted((int(s), 700 + n))) for n, s in enumerate(copies)}
    hits = sum(any(a in g and b in g for g in report.duplicates) for a, b in planted)
    in_groups = sum(len(g) for g in report.duplicates)
    assert hits / len(planted) >= 0.9  # recall
    assert in_groups <= 2 * len(planted) / 0.9  # precision: no more than ~10% of grouped rows unplanted
    test = EmbeddingSet([f"test {i}" for i in range(100)], X[:100].copy(), "m", "1")
    test.vectors[50:] = blobs(50, seed=9)[0]
    leak = quality_report(eset, test, threshold=0.99).leakage
    assert leak["share"] == pytest.approx(0.5) and [a for a, b in leak["pairs"]] == list(range(50))


def test_junk_rows_rank_among_the_top_outliers(topics, glove):
    from vecexplore.cache import embed

    junk = ["aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ=", "0x3f 0xa1 0x00 0xff 0x7e 0x12 0x9c",
            "https://example.com/a?b=1&c=2", "12 45 78 90 33 21 7 8 64"]
    eset = embed([*topics.texts, *junk], glove)[0]
    report = quality_report(eset)
    top = [o["index"] for o in report.outliers[:10]]
    assert set(range(300, 304)) <= set(top)


def test_hostile_inputs_get_a_message(hostile, capsys):
    X, y = blobs(40)
    with pytest.raises(VecexploreError, match="same label") as err:
        quality_report(EmbeddingSet([f"t{i}" for i in range(40)], X, "m", "1", ["a"] * 40))
    hostile("data quality: workflow", "one label only", str(err.value))
    with pytest.raises(VecexploreError, match="label of its own") as err:
        quality_report(EmbeddingSet([f"t{i}" for i in range(40)], X, "m", "1", [f"l{i}" for i in range(40)]))
    hostile("data quality: workflow", "a label per text", str(err.value))
    with pytest.raises(VecexploreError, match="All 40 texts are the same text") as err:
        quality_report(EmbeddingSet(["Same  text"] * 20 + ["same text"] * 20, X, "m", "1"))
    hostile("data quality: workflow", "all texts identical (up to case and spacing)", str(err.value))
    with pytest.raises(VecexploreError) as err:
        quality_report(EmbeddingSet([f"t{i}" for i in range(40)], X, "m", "1"),
                       EmbeddingSet(["u"] * 5, X[:5], "other-model", "1"))
    hostile("data quality: workflow", "two sets from different models", str(err.value))
    code = main(["quality", TOPICS, "--model", "glove-6B-50d", "--threshold", "1.5"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2 and "--threshold: must be between 0 and 1" in out["error"]
    hostile("CLI: quality", "--threshold 1.5", out["error"])



def test_cli_against_a_set_from_another_model_is_refused(hostile, capsys, tmp_path):
    other = tmp_path / "other.parquet"
    assert main(["embed", TOPICS, "--model", "tfidf-lsa", "-o", str(other)]) == 0
    capsys.readouterr()
    code = main(["quality", TOPICS, "--model", "glove-6B-50d", "--against", str(other)])
    out = json.loads(capsys.readouterr().out)
    assert code == 2 and "tfidf-lsa" in out["error"]
    hostile("CLI: quality", "--against a Parquet of another model's vectors", out["error"])


def test_cli_quality_keys(capsys, tmp_path):
    other = tmp_path / "test.txt"
    other.write_text("The striker scored twice before half time.\nA completely new sentence about nothing.\n")
    code = main(["quality", TOPICS, "--model", "glove-6B-50d", "--label-col", "label", "--against", str(other),
                 "--threshold", "0.99", "--top", "5"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert {"duplicates", "outliers", "label_issues", "leakage", "rows_read", "notes"} <= set(out)
    assert out["rows_read"] == 300 and len(out["outliers"]) == 5
    assert all(set(o) == {"index", "score"} for o in out["outliers"])
    assert all(set(i) == {"index", "given", "suggested", "score"} for i in out["label_issues"])
    assert out["outliers"] == sorted(out["outliers"], key=lambda o: -o["score"])
    assert set(out["leakage"]) >= {"share", "pairs"} and out["leakage"]["n_other"] == 2


def test_cli_rows_are_positions_among_the_rows_kept(capsys, tmp_path):
    from vecexplore.files.corpus import load_demo
    from vecexplore.numeric import seeded_sample

    texts = load_demo("topics").texts[:30]
    lines = [*texts[:3], "", *texts[3:], "  ", texts[0]]  # two blank texts; row 30 (kept) repeats row 0
    path = tmp_path / "c.csv"
    path.write_text("text,id\n" + "".join(f'"{t}",{i}\n' for i, t in enumerate(lines)))
    code = main(["quality", str(path), "--model", "glove-6B-50d", "--threshold", "0.999"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert (out["rows_read"], out["rows_skipped"], out["rows_kept"]) == (33, 2, 31)
    assert [0, 30] in out["duplicates"]
    main(["quality", str(path), "--model", "glove-6B-50d", "--threshold", "0.999", "--max-texts", "20"])
    sampled = json.loads(capsys.readouterr().out)
    picked = set(seeded_sample(31, 20, 0).tolist())
    assert {o["index"] for o in sampled["outliers"]} == picked  # positions among the rows kept, not in the sample
    assert ([0, 30] in sampled["duplicates"]) == ({0, 30} <= picked)
