"""The shared numeric primitives: one top-k tie rule, one seeded sample, one array check, cosine."""

import numpy as np
import pytest

from vecexplore.errors import VecexploreError
from vecexplore.numeric import check_array, cosine, l2_normalize, seeded_sample, top_k


def test_top_k_matches_a_full_stable_sort_ties_by_index():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=(50, 40)).astype(float)  # many ties, on both sides of every cut
    for k in (1, 3, 7, 40):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(top_k(scores, k), expected)
    np.testing.assert_array_equal(top_k(scores[0], 5), expected[0][:5])


def test_top_k_excludes_and_caps():
    scores = np.array([[0.9, 0.8, 0.7], [0.1, 0.5, 0.5]])
    np.testing.assert_array_equal(top_k(scores, 5, exclude=np.array([0, 1])), [[1, 2], [2, 0]])
    assert top_k(np.array([3.0, 2.0, 1.0]), 5, exclude=[0, 0, 2]).tolist() == [1]
    assert top_k(np.array([1.0]), 3, exclude=[0]).shape == (0,)


def test_seeded_sample_is_the_sorted_seeded_choice():
    expected = np.sort(np.random.default_rng(7).choice(1000, size=30, replace=False))
    np.testing.assert_array_equal(seeded_sample(1000, 30, seed=7), expected)
    np.testing.assert_array_equal(seeded_sample(10, 30), np.arange(10))
    np.testing.assert_array_equal(seeded_sample(10, None), np.arange(10))


def test_check_array_and_cosine():
    with pytest.raises(VecexploreError, match="2-D"):
        check_array(np.zeros(3))
    with pytest.raises(VecexploreError, match="at least 2 points"):
        check_array(np.zeros((1, 3)), min_rows=2, name="points")
    with pytest.raises(VecexploreError, match="1 vectors contain NaN"):
        check_array(np.array([[1.0, np.nan], [1.0, 2.0]]))
    a, b = np.array([[3.0, 4.0], [0.0, 0.0]]), np.array([[4.0, 3.0], [1.0, 1.0]])
    np.testing.assert_allclose(cosine(a, b), [24 / 25, 0.0])
    np.testing.assert_allclose(np.linalg.norm(l2_normalize(a), axis=1), [1.0, 0.0])
