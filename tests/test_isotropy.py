"""Isotropy metrics and transforms against direct numpy/scipy formulas and the reference IsoScore package."""

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from vecexplore.errors import VecexploreError
from vecexplore.transforms.isotropy import (
    ZCA,
    AllButTheTop,
    Center,
    Whitening,
    effective_rank,
    isoscore,
    knn_label_agreement,
    load_transform,
    make_transform,
    mean_cosine,
    metrics,
    pair_correlation,
    partition_isotropy,
    rogue_dimensions,
    spectrum,
)
from vecexplore.transforms.sts import shipped_pairs, sts_pairs, transform_effect


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    iso = rng.normal(size=(1500, 40))
    cone = rng.normal(size=(1500, 40)) * np.linspace(0.2, 3, 40) + 4.0  # shifted, uneven: a narrow cone
    return iso, cone


def unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_mean_cosine_exact_and_sampled(data):
    _, cone = data
    X = cone[:300]
    U = unit(X)
    C = U @ U.T
    exact = C[~np.eye(300, dtype=bool)].mean()
    mc = mean_cosine(X, n_pairs=5000, seed=3)
    assert mc.all_pairs == pytest.approx(exact, abs=1e-9)
    rng = np.random.default_rng(3)
    i = rng.integers(0, 300, 5000)
    j = (i + rng.integers(1, 300, 5000)) % 300
    sampled = C[i, j]
    assert mc.mean == pytest.approx(sampled.mean(), abs=1e-9)
    half = 1.959963984540054 * sampled.std(ddof=1) / np.sqrt(5000)
    assert (mc.low, mc.high) == pytest.approx((sampled.mean() - half, sampled.mean() + half), abs=1e-9)
    assert mc.low <= exact <= mc.high


def test_isotropic_gaussian_and_cone(data):
    iso, cone = data
    assert abs(mean_cosine(iso).all_pairs) < 0.01
    assert isoscore(iso) > 0.9
    assert mean_cosine(cone).all_pairs > 0.8
    skewed = np.random.default_rng(1).normal(size=(1500, 40)) * np.geomspace(0.01, 10, 40)
    assert isoscore(skewed) < 0.2
    whitened = Whitening(k=40).fit_transform(cone)
    assert abs(mean_cosine(whitened).all_pairs) < 0.01
    assert isoscore(whitened) > 0.95


def test_isoscore_equals_the_reference_package(data):
    from IsoScore.IsoScore import IsoScore

    iso, cone = data
    skewed = iso * np.geomspace(0.01, 10, 40)
    for X in (iso, cone, skewed):
        assert isoscore(X) == pytest.approx(float(IsoScore(X)), abs=1e-3)


def test_rogue_dimensions_sum_to_the_mean_cosine(data):
    _, cone = data
    X = cone[:200]
    U = unit(X)
    pairs = [(i, j) for i in range(200) for j in range(200) if i != j]
    i, j = np.array(pairs).T
    expected = (U[i] * U[j]).mean(0)
    np.testing.assert_allclose(rogue_dimensions(X), expected, atol=1e-9)
    assert rogue_dimensions(X).sum() == pytest.approx(mean_cosine(X).all_pairs, abs=1e-9)
    rogue = X.copy()
    rogue[:, 7] += 50  # one dimension dominates every cosine
    assert metrics(rogue)["top_rogue_dims"][0] == 7


def test_spectrum_effective_rank_partition(data):
    iso, cone = data
    X = cone[:500]
    centred = X - X.mean(0)
    eig = np.sort(np.linalg.eigvalsh(np.cov(X.T)))[::-1]
    np.testing.assert_allclose(spectrum(X), eig / eig.sum(), atol=1e-9)
    s = np.linalg.svd(centred, compute_uv=False)
    p = s / s.sum()
    assert effective_rank(X) == pytest.approx(np.exp(-(p * np.log(p)).sum()), abs=1e-9)
    W = iso[:500] * 0.3
    _, vecs = np.linalg.eigh(W.T @ W)
    Z = np.array([np.exp(W @ (sign * c)).sum() for c in vecs.T for sign in (1, -1)])
    assert partition_isotropy(W) == pytest.approx(Z.min() / Z.max(), abs=1e-9)
    assert partition_isotropy(cone) < 1e-6 < partition_isotropy(W)
    m = metrics(X, top_k=3)
    assert m["top_pc_share"] == pytest.approx((eig[:3] / eig.sum()).sum(), abs=1e-9)


def test_transforms_fitted_on_a_applied_to_b(data):
    iso, cone = data
    A, B = cone[:800], cone[800:]
    mu = A.mean(0)
    np.testing.assert_allclose(Center().fit(A).transform(B), B - mu, atol=1e-4)
    u = np.linalg.svd(A - mu, full_matrices=False)[2][:3]
    expected = (B - mu) - (B - mu) @ u.T @ u
    np.testing.assert_allclose(AllButTheTop(3).fit(A).transform(B), expected, atol=1e-4)
    cov = np.cov(A.T)
    U, lam, _ = np.linalg.svd(cov)
    W = U[:, :10] / np.sqrt(lam[:10])
    expected = unit((B - mu) @ W)
    np.testing.assert_allclose(Whitening(k=10, shrinkage=0).fit(A).transform(B), expected, atol=1e-4)
    zca = (U / np.sqrt(lam)) @ U.T
    np.testing.assert_allclose(ZCA(shrinkage=0).fit(A).transform(B), (B - mu) @ zca, atol=1e-3)
    out = ZCA().fit(A).transform(A)
    np.testing.assert_allclose(np.cov(out.T), np.eye(40), atol=1e-3)  # whitened: identity covariance


def test_whitening_up_to_the_rank_warns_that_texts_become_equidistant_and_keeps_its_numbers():
    """k reaching the rank n − 1 of n texts: every pair ends at cosine −1/(n − 1), and a note says the whitened
    space no longer tells texts apart; the vectors are those of the formula, and a smaller k gets no such note."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(10, 64))
    centred = X - X.mean(0)
    u, lam, _ = np.linalg.svd(centred.T @ centred / 9)
    for k, kept in ((9, 9), (30, 9)):  # at the rank, and above it (capped at the rank)
        w = Whitening(k=k).fit(X)
        out = w.transform(X)
        expected = centred @ (u[:, :kept] / np.sqrt(lam[:kept] + 1e-6 * lam.mean()))
        np.testing.assert_allclose(out, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-4)
        cos = out @ out.T
        np.testing.assert_allclose(cos[np.triu_indices(10, 1)], -1 / 9, atol=1e-4)
        assert w.k_ == kept and "every pair at about the same cosine (-0.111)" in w.notes_[-1]
        assert "Choose a smaller k (e.g. 4)" in w.notes_[-1]
    assert not Whitening(k=8).fit(X).notes_  # below the rank: the geometry is kept, no note
    duplicated = np.vstack([X, X[:1]])  # a duplicate text does not hide it: 10 distinct texts, rank 9
    assert "the 10 distinct texts span (9)" in Whitening(k=9).fit(duplicated).notes_[-1]
    assert not Whitening(k=64).fit(rng.normal(size=(200, 64))).notes_  # more texts than dims: full whitening


def test_bad_inputs(data):
    iso, _ = data
    few = iso[:20]
    w = Whitening(k=30).fit(few)
    assert w.k_ == 19 and "rank 19" in w.notes_[0]
    assert np.isfinite(w.transform(few)).all()
    big = Whitening(k=256).fit(iso)
    assert big.k_ == 40 and "all 40 are kept" in big.notes_[0]
    with pytest.raises(VecexploreError, match="identical"):
        Whitening().fit(np.ones((10, 4)))
    with pytest.raises(VecexploreError, match="identical"):
        isoscore(np.ones((10, 4)))
    with pytest.raises(VecexploreError, match="NaN"):
        metrics(np.array([[1.0, np.nan], [1, 2], [3, 4]]))
    with pytest.raises(VecexploreError, match="D = 50 is more"):
        AllButTheTop(50).fit(iso)
    with pytest.raises(VecexploreError, match="fitted on 40-d"):
        Center().fit(iso).transform(iso[:, :10])
    with pytest.raises(VecexploreError, match="Unknown transform"):
        make_transform("pca")
    with pytest.raises(VecexploreError, match="Fit the"):
        Whitening().transform(iso)


def test_save_and_load(tmp_path, data):
    iso, cone = data
    for t in (Center(), AllButTheTop(2), Whitening(k=8), ZCA()):
        t.fit(cone)
        t.save(tmp_path / f"{t.name}.npz")
        back = load_transform(tmp_path / f"{t.name}.npz")
        np.testing.assert_allclose(back.transform(iso[:5]), t.transform(iso[:5]), atol=1e-6)
        assert back.spec == t.spec
    with pytest.raises(VecexploreError, match="not a saved"):
        load_transform(tmp_path / "missing.npz")


def test_pair_correlation_and_knn_agreement(data):
    iso, _ = data
    A, B = iso[:50], iso[:50] + np.random.default_rng(2).normal(size=(50, 40)) * np.linspace(0, 3, 50)[:, None]
    scores = -np.linspace(0, 3, 50)
    cos = (unit(A) * unit(B)).sum(1)
    r = pair_correlation(A, B, scores)
    assert r.spearman == pytest.approx(spearmanr(cos, scores).statistic, abs=1e-6)
    assert r.pearson == pytest.approx(pearsonr(cos, scores).statistic, abs=1e-6)
    X = np.vstack([iso[:30] + 5 * np.eye(40)[0], iso[30:60] - 5 * np.eye(40)[0]])
    labels = ["a"] * 30 + ["b"] * 30
    U = unit(X)
    C = U @ U.T
    np.fill_diagonal(C, -np.inf)
    nn = np.argsort(-C, axis=1)[:, :5]
    expected = (np.array(labels)[nn] == np.array(labels)[:, None]).mean()
    assert knn_label_agreement(X, labels, 5) == pytest.approx(expected, abs=1e-9)


def test_pairs_file_and_effect(glove):
    text = "s1,s2,score\na cat sat,a cat sat down,4.5\nthe sky,the sea,7\n" + \
        "".join(f"dog number {i},cat number {i},{i % 5}\n" for i in range(10))
    pairs = sts_pairs(text)
    assert len(pairs) == 11 and pairs.n_out_of_range == 1
    with pytest.raises(VecexploreError, match="line 3 has a different number of fields"):
        sts_pairs(text.replace("the sky,the sea,7", "bad row only two"))
    with pytest.raises(VecexploreError, match="only 0 usable pairs"):
        sts_pairs("a,b,7\nc,d,8\n")
    demo = shipped_pairs()
    assert len(demo) == 100 and demo.scores.min() >= 0 and demo.scores.max() <= 5
    rows = transform_effect(demo, glove.encode, [("whiten", {"k": 16}), ("center", {})],
                            fit_corpus=["a general sentence about news", "another one about sport"] * 20)
    assert [r["transform"] for r in rows] == ["none", "whiten(k=16)", "whiten(k=16)", "center()", "center()"]
    assert {r["fitted on"] for r in rows[1:]} == {"the pairs", "the corpus"}
    base = pair_correlation(glove.encode(demo.s1), glove.encode(demo.s2), demo.scores)
    assert rows[0]["spearman"] == pytest.approx(base.spearman, abs=1e-9)
    assert "capped at 1" in rows[2]["notes"]  # 40 corpus vectors (2 distinct texts): covariance of rank 1


def test_stsb_dev_whitening_helps_glove(glove, shared_data):
    pairs = sts_pairs((shared_data / "stsb-en-dev.csv").read_bytes(), "stsb-en-dev.csv")
    assert len(pairs) == 1500
    rows = {(r["transform"], r["fitted on"]): r["spearman"]
            for r in transform_effect(pairs, glove.encode, [("whiten", {"k": 256})])}
    assert rows[("whiten(k=256)", "the pairs")] > rows[("none", "—")] + 0.05
