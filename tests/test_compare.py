"""Comparison measures against direct formulas and known answers."""

import numpy as np
import pytest
from scipy.stats import ortho_group, spearmanr

from vecexplore.errors import VecexploreError
from vecexplore.models.compare import (
    Translator,
    align,
    evaluate_translation,
    knn_jaccard,
    linear_cka,
    probe_accuracy,
    rsa,
)


@pytest.fixture(scope="module")
def spaces():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 24)) * np.linspace(0.3, 2, 24)
    Y = np.tanh(X @ rng.normal(size=(24, 16))) + 0.3 * rng.normal(size=(200, 16))
    return X, Y


def test_cka_identity_invariances_and_formula(spaces):
    X, Y = spaces
    assert linear_cka(X, X) == pytest.approx(1.0)
    Q = ortho_group.rvs(24, random_state=1)
    assert linear_cka(X @ Q * 3.7, Y) == pytest.approx(linear_cka(X, Y), abs=1e-9)
    n = len(X)
    H = np.eye(n) - np.ones((n, n)) / n
    K, L = H @ (X @ X.T) @ H, H @ (Y @ Y.T) @ H
    hsic = lambda a, b: (a * b).sum()  # noqa: E731
    assert linear_cka(X, Y) == pytest.approx(hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L)), abs=1e-9)
    assert 0 < linear_cka(X, Y) < 1


def test_rsa_formula_and_sampling(spaces):
    X, Y = spaces
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    iu = np.triu_indices(200, 1)
    expected = spearmanr((unit(X) @ unit(X).T)[iu], (unit(Y) @ unit(Y).T)[iu]).statistic
    rho, used = rsa(X, Y)
    assert rho == pytest.approx(expected, abs=1e-6) and used == 200
    assert rsa(X, Y, max_points=50)[1] == 50
    assert rsa(X, X)[0] == pytest.approx(1.0)


def test_jaccard_identical_and_brute_force(spaces):
    X, Y = spaces
    assert np.all(knn_jaccard(X, X * 2, k=5) == 1.0)
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    cx, cy = unit(X) @ unit(X).T, unit(Y) @ unit(Y).T
    np.fill_diagonal(cx, -np.inf)
    np.fill_diagonal(cy, -np.inf)
    expected = [len(set(np.argsort(-cx[i])[:7]) & set(np.argsort(-cy[i])[:7])) /
                len(set(np.argsort(-cx[i])[:7]) | set(np.argsort(-cy[i])[:7])) for i in range(200)]
    np.testing.assert_allclose(knn_jaccard(X, Y, k=7), expected)
    with pytest.raises(VecexploreError, match="between 1 and 199"):
        knn_jaccard(X, Y, k=200)


def test_procrustes_recovers_a_rotation():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(100, 2))
    theta = 1.1
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = (A @ R) * 2.5 + [4, -3]
    np.testing.assert_allclose(align(A, moved), A, atol=1e-9)
    mirrored = A * [-1, 1]
    np.testing.assert_allclose(align(A, mirrored), A, atol=1e-9)


@pytest.mark.parametrize("method", ["lstsq", "ridge", "procrustes"])
def test_translation_into_a_rotated_copy(spaces, method):
    X, _ = spaces
    Q = ortho_group.rvs(24, random_state=3)
    report = evaluate_translation(X, X @ Q, method=method)
    assert report.mean_cosine > 0.97 and report.top1 > 0.95 and report.top10 == 1.0
    assert report.n_test == 60 and report.n_train == 140


def test_translation_between_different_dims(spaces):
    X, Y = spaces
    for method in ("lstsq", "procrustes"):
        t = Translator(method).fit(X, Y)
        assert t.transform(X[:3]).shape == (3, 16)
    with pytest.raises(VecexploreError, match="Unknown method"):
        Translator("magic").fit(X, Y)


def test_probe_accuracy(spaces):
    X, _ = spaces
    labels = ["a" if v > 0 else "b" for v in X[:, -1]]
    assert probe_accuracy(X, labels) > 0.9
    with pytest.raises(VecexploreError, match="at least 2 labels"):
        probe_accuracy(X, ["a"] * 200)
