"""Two-sample statistics: null behaviour, power, and equality with direct formulas."""

import numpy as np
import pytest

from vecexplore.domains.shift import compare_corpora, knn_mixing, median_bandwidth, mmd2, mmd_test
from vecexplore.errors import VecexploreError


def test_mmd2_equals_the_direct_formula():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(30, 5)), rng.normal(size=(40, 5)) + 0.5
    Z = np.vstack([A, B])
    d = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))
    sigma = np.median(d[np.triu_indices(70, 1)])
    assert median_bandwidth(Z) == pytest.approx(sigma, rel=1e-9)
    k = lambda x, y: np.exp(-((x - y) ** 2).sum() / (2 * sigma**2))  # noqa: E731
    xx = sum(k(A[i], A[j]) for i in range(30) for j in range(30) if i != j) / (30 * 29)
    yy = sum(k(B[i], B[j]) for i in range(40) for j in range(40) if i != j) / (40 * 39)
    xy = sum(k(a, b) for a in A for b in B) / (30 * 40)
    assert mmd2(A, B) == pytest.approx(xx + yy - 2 * xy, abs=1e-9)
    assert mmd_test(A, B, permutations=50)[0] == pytest.approx(xx + yy - 2 * xy, abs=1e-9)


@pytest.mark.slow
def test_same_distribution_is_not_flagged(topics, minilm):
    X = minilm.encode(topics.texts)
    p_values, aucs = [], []
    for seed in range(10):
        order = np.random.default_rng(seed).permutation(len(X))
        r = compare_corpora(X[order[:150]], X[order[150:]], permutations=200, seed=seed)
        p_values.append(r.mmd_p_value)
        aucs.append(r.c2st_auc)
        assert r.knn_mixing == pytest.approx(r.knn_mixing_expected, abs=0.08)
    assert sum(p > 0.05 for p in p_values) >= 8
    assert abs(np.mean(aucs) - 0.5) < 0.08


def test_different_corpora_are_separated(topics, minilm):
    X = minilm.encode(topics.texts)
    labels = np.array(topics.labels)
    r = compare_corpora(X[labels == "sport"], X[labels == "finance"], permutations=200)
    assert r.mmd_p_value < 0.01 and r.c2st_auc > 0.9 and r.c2st_p_value < 0.01
    assert r.knn_mixing < r.knn_mixing_expected / 2 and r.centroid_cosine_distance > 0.1


def test_mixing_equals_a_brute_force_count():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(25, 6)), rng.normal(size=(35, 6)) + 0.4
    Z = np.vstack([A, B])
    U = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    C = U @ U.T
    np.fill_diagonal(C, -np.inf)
    group = np.r_[np.zeros(25), np.ones(35)]
    nn = np.argsort(-C, axis=1)[:, :5]
    expected = np.mean([[group[j] != group[i] for j in nn[i]] for i in range(60)])
    observed, chance = knn_mixing(A, B, k=5)
    assert observed == pytest.approx(expected, abs=1e-12)
    assert chance == pytest.approx((25 * 35 / 59 + 35 * 25 / 59) / 60)


def test_small_unbalanced_and_bad_input():
    rng = np.random.default_rng(2)
    r = compare_corpora(rng.normal(size=(5, 8)), rng.normal(size=(3000, 8)), permutations=100, max_per_corpus=1000)
    assert any("only 5 texts" in n for n in r.notes) and any("unbalanced" in n for n in r.notes)
    assert any("B sampled to 20 texts" in n for n in r.notes) and r.n_b == 20
    r = compare_corpora(rng.normal(size=(300, 8)), rng.normal(size=(3000, 8)), permutations=100, max_per_corpus=1000)
    assert r.n_a == 300 and r.n_b == 1000 and any("B sampled to 1,000" in n for n in r.notes)
    with pytest.raises(VecexploreError, match="same model"):
        compare_corpora(rng.normal(size=(5, 8)), rng.normal(size=(5, 9)))


def test_verdict_reads_the_statistics_with_the_documented_thresholds():
    from dataclasses import replace

    from vecexplore.domains.report import verdict
    from vecexplore.domains.shift import ShiftReport

    base = ShiftReport(0.1, 0.2, 0.6, 0.3, 0.1, 0.4, 0.5, 50, 50, 0.1, (), 1 / 201)
    assert verdict(base) == "B cannot be told apart from A"
    assert verdict(replace(base, c2st_p_value=0.04)) == "B differs measurably from A, but overlaps it"
    assert verdict(replace(base, mmd_p_value=0.005, c2st_auc=0.95)) == "B is clearly separated from A"
    assert verdict(replace(base, mmd_p_value=0.005, c2st_auc=0.85)) == "B differs measurably from A, but overlaps it"
    assert verdict(replace(base, n_b=9, mmd_p_value=0.001, c2st_auc=0.99)) == "too few texts for the tests to say much"


def test_shift_report_keeps_spaces_apart_and_reads_each_model(topics, glove):
    from vecexplore.domains.report import shift_report
    from vecexplore.embedder import Embedder

    labels = np.array(topics.labels)
    sport = [t for t, lab in zip(topics.texts, labels, strict=True) if lab == "sport"]
    money = [t for t, lab in zip(topics.texts, labels, strict=True) if lab == "finance"]
    report = shift_report(sport, money, [Embedder.of(glove)], permutations=100)
    view = report.models["glove-6B-50d"]
    assert view.a.model_id == view.b.model_id == "glove-6B-50d" and view.stats.n_a == 60
    assert view.verdict == "B is clearly separated from A" and report.reading()[0][0] == "glove-6B-50d"
    assert {"mmd2", "verdict", "anisotropy_a", "oov_b", "p_value_resolution"} <= set(view.to_dict())
    with pytest.raises(VecexploreError, match="identical"):
        shift_report(sport, sport, [Embedder.of(glove)])
