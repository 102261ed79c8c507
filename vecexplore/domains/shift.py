"""Two-sample statistics: how far corpus B sits from corpus A in one embedding space.

Each statistic has a known null behaviour: MMD² (unbiased, RBF kernel, median-heuristic bandwidth) with a
permutation p-value; a classifier two-sample test (logistic regression on a held-out half, ROC AUC ≈ 0.5 when the
corpora cannot be told apart) with a Mann–Whitney p-value; the centroid cosine distance; and the k-NN mixing rate
against the rate expected by chance.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.maps.neighbors import cosine_neighbors
from vecexplore.numeric import check_array, cosine, l2_normalize, seeded_sample
from vecexplore.validation import check, p_value_resolution

MIN_TEXTS = 10


def _check(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    A, B = check_array(A, 2, "texts in corpus A"), check_array(B, 2, "texts in corpus B")
    if A.shape[1] != B.shape[1]:
        raise VecexploreError("Both corpora must be embedded by the same model (same dimensions).")
    return A, B


def _squared_distances(Z: np.ndarray) -> np.ndarray:
    sq = (Z**2).sum(1)
    return np.maximum(sq[:, None] + sq[None, :] - 2 * Z @ Z.T, 0)


def _median(d2: np.ndarray) -> float:
    median = float(np.sqrt(np.median(d2[np.triu_indices(len(d2), 1)])))
    return median if median > 0 else 1.0


def median_bandwidth(Z: np.ndarray) -> float:
    """Median of the pairwise Euclidean distances (the median heuristic for the RBF kernel)."""
    return _median(_squared_distances(Z))


def _kernel(Z: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """RBF kernel matrix of the rows of ``Z``; ``sigma`` defaults to the median heuristic on the same distances."""
    d2 = _squared_distances(Z)
    sigma = sigma or _median(d2)
    return np.exp(-d2 / (2 * sigma**2))


def _mmd2_many(K: np.ndarray, in_a: np.ndarray) -> np.ndarray:
    """Unbiased MMD² for each column of ``in_a`` (a boolean membership of corpus A), from one kernel matrix."""
    a = in_a.astype(np.float64)
    b = 1.0 - a
    n, m = a.sum(0), b.sum(0)
    ka, kb = K @ a, K @ b
    d = np.diag(K)[:, None]
    within_a = ((a * ka).sum(0) - (a * d).sum(0)) / (n * (n - 1))
    within_b = ((b * kb).sum(0) - (b * d).sum(0)) / (m * (m - 1))
    return within_a + within_b - 2 * (a * kb).sum(0) / (n * m)


def _membership(n_a: int, n_b: int) -> np.ndarray:
    return np.r_[np.ones(n_a, bool), np.zeros(n_b, bool)]


def mmd2(A: np.ndarray, B: np.ndarray, sigma: float | None = None) -> float:
    """Unbiased MMD² between the samples with an RBF kernel (bandwidth: median heuristic on the pooled data)."""
    A, B = _check(A, B)
    return float(_mmd2_many(_kernel(np.vstack([A, B]), sigma), _membership(len(A), len(B))[:, None])[0])


def mmd_test(A: np.ndarray, B: np.ndarray, permutations: int = 200, seed: int = 0) -> tuple[float, float]:
    """MMD² and its permutation p-value ``(1 + #{permuted ≥ observed}) / (1 + permutations)``; all permutations
    are scored with two matrix products on the one kernel matrix."""
    A, B = _check(A, B)
    K = _kernel(np.vstack([A, B]))
    base = _membership(len(A), len(B))
    rng = np.random.default_rng(seed)
    masks = np.stack([base, *(rng.permutation(base) for _ in range(permutations))], axis=1)
    scores = _mmd2_many(K, masks)
    observed, permuted = float(scores[0]), scores[1:]
    return observed, float((1 + (permuted >= observed - 1e-12).sum()) / (1 + permutations))


def c2st(A: np.ndarray, B: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """Classifier two-sample test (Lopez-Paz & Oquab 2017): a logistic regression trained on a seeded, stratified
    half of A ∪ B; its ROC AUC on the other half, with the one-sided Mann–Whitney p-value of those held-out
    scores (exact under the null: the model never saw the test labels; AUC = U / (n_a n_b))."""
    from scipy.stats import mannwhitneyu
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    A, B = _check(A, B)
    X = l2_normalize(np.vstack([A, B]))
    y = np.r_[np.zeros(len(A)), np.ones(len(B))]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
    scores = LogisticRegression(max_iter=1000).fit(X_tr, y_tr).decision_function(X_te)
    p = mannwhitneyu(scores[y_te == 1], scores[y_te == 0], alternative="greater").pvalue
    return float(roc_auc_score(y_te, scores)), float(p)


def centroid_cosine_distance(A: np.ndarray, B: np.ndarray) -> float:
    """1 − cosine between the mean unit vectors of the two corpora."""
    A, B = _check(A, B)
    a, b = l2_normalize(A).mean(0), l2_normalize(B).mean(0)
    return float(1 - cosine(a, b)) if a.any() and b.any() else 1.0


def knn_mixing(A: np.ndarray, B: np.ndarray, k: int = 10) -> tuple[float, float]:
    """Share of each point's k cosine neighbours (in the pooled set) that come from the other corpus, and the
    share expected if corpus membership were random."""
    A, B = _check(A, B)
    Z = np.vstack([A, B])
    n, m = len(A), len(B)
    k = min(k, n + m - 1)
    idx, _ = cosine_neighbors(Z, Z, k, exclude=np.arange(n + m))
    group = np.r_[np.zeros(n, bool), np.ones(m, bool)]
    observed = float((group[idx] != group[:, None]).mean())
    expected = float((n * m / (n + m - 1) + m * n / (n + m - 1)) / (n + m))
    return observed, expected


@dataclass(frozen=True)
class ShiftReport:
    mmd2: float
    mmd_p_value: float
    c2st_auc: float
    c2st_p_value: float
    centroid_cosine_distance: float
    knn_mixing: float
    knn_mixing_expected: float
    n_a: int
    n_b: int
    seconds: float
    notes: tuple[str, ...]
    p_value_resolution: float  # the smallest p-value the permutation test can report: 1 / (permutations + 1)

    def to_dict(self) -> dict:
        return {**asdict(self), "notes": list(self.notes)}


def compare_corpora(A: np.ndarray, B: np.ndarray, permutations: int = 200, max_per_corpus: int = 2000,
                    k: int = 10, seed: int = 0) -> ShiftReport:
    """All statistics between A and B; each corpus is capped at ``max_per_corpus`` texts by a seeded sample."""
    start = time.perf_counter()
    check("permutations", permutations)
    check("seed", seed)
    A, B = _check(A, B)
    notes = []
    for name, X in (("A", A), ("B", B)):
        if len(X) < MIN_TEXTS:
            notes.append(f"Corpus {name} has only {len(X)} texts: the tests have little power (p-values near 1 "
                         "say little).")
    caps = {"A": min(len(A), max_per_corpus), "B": min(len(B), max_per_corpus)}
    small = min(caps.values())
    for name in caps:
        if caps[name] > 4 * small:
            caps[name] = 4 * small
            notes.append(f"Very unbalanced sizes ({len(A):,} vs {len(B):,}): corpus {name} is subsampled to "
                         f"{caps[name]:,} texts (4× the smaller one, seed {seed}).")
    if len(A) > caps["A"]:
        A = A[seeded_sample(len(A), caps["A"], seed)]
        notes.append(f"Corpus A sampled to {caps['A']:,} texts (seed {seed}).")
    if len(B) > caps["B"]:
        B = B[seeded_sample(len(B), caps["B"], seed)]
        notes.append(f"Corpus B sampled to {caps['B']:,} texts (seed {seed}).")
    stat, p = mmd_test(A, B, permutations, seed)
    auc, auc_p = c2st(A, B, seed=seed)
    mix, expected = knn_mixing(A, B, k)
    return ShiftReport(stat, p, auc, auc_p, centroid_cosine_distance(A, B), mix, expected, len(A), len(B),
                       time.perf_counter() - start, tuple(notes), p_value_resolution(permutations))
