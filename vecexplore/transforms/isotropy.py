"""Anisotropy diagnostics (how narrow a cone the vectors fill) and the post-processing that widens it.

Metrics: mean cosine of random pairs with a confidence interval, partition isotropy I(W) (Mu & Viswanath 2018),
IsoScore (Rudman et al. 2022), explained-variance spectrum and effective rank, top-PC variance share, norms, and
per-dimension contributions to the mean cosine ("rogue dimensions", Timkey & van Schijndel 2021).
Transforms (fit on one set, transform another): centering, all-but-the-top, BERT-whitening, ZCA.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.numeric import check_array, cosine, l2_normalize
from vecexplore.validation import check

TRANSFORMS = ("none", "center", "abtt", "whiten", "zca")


@dataclass(frozen=True)
class MeanCosine:
    mean: float  # over the sampled random pairs
    low: float
    high: float  # normal-approximation confidence interval of the sampled mean
    n_pairs: int
    all_pairs: float  # exact mean over every pair of distinct points


def mean_cosine(X: np.ndarray, n_pairs: int = 20_000, confidence: float = 0.95, seed: int = 0) -> MeanCosine:
    """Mean cosine of random pairs of distinct points, with a confidence interval, and the exact mean over all
    pairs, ``(‖Σ x̂‖² − n) / (n(n − 1))`` (zero vectors count as cosine 0)."""
    from scipy.stats import norm

    X = check_array(X, min_rows=2)
    U = l2_normalize(X).astype(np.float64)
    n = len(U)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, n_pairs)
    j = (i + rng.integers(1, n, n_pairs)) % n  # j != i
    cos = (U[i] * U[j]).sum(1)
    half = norm.ppf(0.5 + confidence / 2) * cos.std(ddof=1) / np.sqrt(n_pairs)
    s = U.sum(0)
    self_terms = (U * U).sum()
    exact = (s @ s - self_terms) / (n * (n - 1))
    return MeanCosine(float(cos.mean()), float(cos.mean() - half), float(cos.mean() + half), n_pairs, float(exact))


def pairwise_cosines(X: np.ndarray, n_pairs: int = 20_000, seed: int = 0) -> np.ndarray:
    """Cosines of random pairs of distinct points (for a histogram)."""
    U = l2_normalize(check_array(X, min_rows=2))
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(U), n_pairs)
    j = (i + rng.integers(1, len(U), n_pairs)) % len(U)
    return (U[i] * U[j]).sum(1)


def rogue_dimensions(X: np.ndarray) -> np.ndarray:
    """Each dimension's contribution to the mean cosine over all pairs of distinct points; they sum to it.

    ``CC_d = ((Σ_j x̂_jd)² − Σ_j x̂_jd²) / (n(n − 1))`` — a few dimensions with a large share are "rogue"."""
    U = l2_normalize(check_array(X, min_rows=2)).astype(np.float64)
    n = len(U)
    return (U.sum(0) ** 2 - (U**2).sum(0)) / (n * (n - 1))


def _centred_variances(X: np.ndarray) -> np.ndarray:
    """Squared singular values of the centred vectors, largest first (eigenvalues of the d × d scatter matrix,
    which is cheaper than an SVD of the n × d matrix when n ≫ d)."""
    centred = X - X.mean(0)
    if len(X) > X.shape[1]:
        return np.clip(np.linalg.eigvalsh(centred.T @ centred)[::-1], 0, None)
    return np.linalg.svd(centred, compute_uv=False) ** 2


def spectrum(X: np.ndarray) -> np.ndarray:
    """Explained-variance ratio of every principal component (of the centred vectors), largest first."""
    var = _centred_variances(check_array(X, min_rows=2))
    return var / var.sum() if var.sum() > 0 else var


def effective_rank(X: np.ndarray) -> float:
    """exp of the entropy of the normalised singular values of the centred vectors (Roy & Vetterli 2007)."""
    s = np.sqrt(_centred_variances(check_array(X, min_rows=2)))
    if s.sum() == 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def partition_isotropy(X: np.ndarray) -> float:
    """I(W) = min_c Z(c) / max_c Z(c), Z(c) = Σ_i exp(cᵀ w_i), over the eigenvectors c of WᵀW and their
    negatives (Mu & Viswanath 2018); 1 = isotropic. Computed in log space."""
    X = check_array(X, min_rows=2)
    _, vecs = np.linalg.eigh(X.T @ X)
    proj = X @ np.hstack([vecs, -vecs])
    log_z = logsumexp(proj, axis=0)
    return float(np.exp(log_z.min() - log_z.max()))


def isoscore(X: np.ndarray) -> float:
    """IsoScore (Rudman et al. 2022): 1 when variance is spread evenly over all dimensions, ~0 when one
    direction holds it all. Same algorithm as the reference ``IsoScore`` package."""
    X = check_array(X, min_rows=2)
    d = X.shape[1]
    if d < 2:
        raise VecexploreError("IsoScore needs at least 2 dimensions.")
    pcs = np.linalg.svd(np.cov(X.T), compute_uv=False)
    if not pcs.any():
        raise VecexploreError("All vectors are identical: there is no spread to measure.")
    pcs_norm = pcs * np.sqrt(d) / np.linalg.norm(pcs)
    defect = np.linalg.norm(pcs_norm - 1) / np.sqrt(2 * (d - np.sqrt(d)))
    return float(((d - defect**2 * (d - np.sqrt(d))) ** 2 - d) / (d * (d - 1)))


def metrics(X: np.ndarray, top_k: int = 1, seed: int = 0) -> dict:
    """All the diagnostics as plain numbers (what the CLI prints and the page tabulates)."""
    X = check_array(X, min_rows=3)
    mc = mean_cosine(X, seed=seed)
    norms = np.linalg.norm(X, axis=1)
    ratios = spectrum(X)
    rogue = rogue_dimensions(X)
    share = np.abs(rogue) / np.abs(rogue).sum() if np.abs(rogue).sum() else rogue
    return {
        "n": int(len(X)), "dims": int(X.shape[1]),
        "mean_cosine": mc.mean, "mean_cosine_ci": [mc.low, mc.high], "mean_cosine_all_pairs": mc.all_pairs,
        "isoscore": isoscore(X), "partition_isotropy": partition_isotropy(X),
        "effective_rank": effective_rank(X), "top_pc_share": float(ratios[:top_k].sum()), "top_k": top_k,
        "norm_mean": float(norms.mean()), "norm_std": float(norms.std()),
        "top_rogue_dims": [int(i) for i in np.argsort(-np.abs(rogue))[:5]],
        "top_rogue_share": float(np.sort(share)[::-1][:3].sum()),
    }


class PostProcessor:
    """Base of the transforms: ``fit`` learns ``mean_`` (and a matrix), ``transform`` applies them.

    Both take arrays or embedding sets. Fitted on a set, a transform records its space (``space_``:
    model id, version, transform) and refuses a set from another space; a set maps to a set whose ``transform``
    names this one's ``spec`` (a new space)."""

    name = "none"

    def fit(self, X: np.ndarray | EmbeddingSet) -> PostProcessor:
        if isinstance(X, EmbeddingSet):
            self.space_ = [X.model_id, X.model_version, X.transform]
            X = X.vectors
        X = check_array(X, min_rows=2)
        self.mean_ = X.mean(0)
        self.dims_in_ = X.shape[1]
        self.notes_: list[str] = []
        self.fitted_on_ = hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest()[:12]
        self.n_fit_ = len(X)
        self._fit(X - self.mean_)
        return self

    def _fit(self, centred: np.ndarray) -> None:
        """Learn what the transform needs from the centred vectors."""

    def transform(self, X: np.ndarray | EmbeddingSet) -> np.ndarray | EmbeddingSet:
        if not hasattr(self, "mean_"):
            raise VecexploreError(f"Fit the {self.name} transform on a corpus before applying it.")
        if isinstance(X, EmbeddingSet):
            fitted = getattr(self, "space_", None)
            if fitted is not None and list(fitted) != [X.model_id, X.model_version, X.transform]:
                raise VecexploreError(f"The {self.name} transform was fitted on vectors of {fitted[0]} "
                                      f"({fitted[1]}); these come from {X.model_id} ({X.model_version}). Fit it on "
                                      "this model's vectors.")
            return X if self.name == "none" else X.with_vectors(self.transform(X.vectors), self.spec)
        X = check_array(X, min_rows=1)
        if X.shape[1] != self.dims_in_:
            raise VecexploreError(f"The {self.name} transform was fitted on {self.dims_in_}-d vectors; these are "
                                  f"{X.shape[1]}-d (another model?).")
        return self._transform(X - self.mean_).astype(np.float32)

    def _transform(self, centred: np.ndarray) -> np.ndarray:
        return centred

    def fit_transform(self, X: np.ndarray | EmbeddingSet) -> np.ndarray | EmbeddingSet:
        return self.fit(X).transform(X)

    @property
    def spec(self) -> str:
        """What a stored vector went through, e.g. ``whiten(k=256)@3f2a…`` (fit data hash)."""
        return f"{self.name}({self._params()})@{self.fitted_on_}"

    def _params(self) -> str:
        return ""

    def save(self, path: str | Path) -> None:
        arrays = {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        meta = {"class": type(self).__name__, "params": {k: v for k, v in vars(self).items()
                                                          if not k.endswith("_") and not isinstance(v, np.ndarray)},
                "state": {k: v for k, v in vars(self).items() if k.endswith("_") and not isinstance(v, np.ndarray)}}
        np.savez(path, __meta__=json.dumps(meta), **arrays)


class Center(PostProcessor):
    """Subtract the mean vector."""

    name = "center"


class AllButTheTop(PostProcessor):
    """Remove the mean and the top ``d`` principal directions (Mu & Viswanath 2018)."""

    name = "abtt"

    def __init__(self, d: int = 3) -> None:
        self.d = d

    def _fit(self, centred: np.ndarray) -> None:
        check("abtt_d", self.d, "D (directions removed)")
        rank = min(centred.shape) - 1
        d = min(self.d, max(rank, 0))
        if d < self.d:
            self.notes_.append(f"Only {d} directions can be removed from {len(centred)} vectors.")
        if self.d > centred.shape[1]:
            raise VecexploreError(f"D = {self.d} is more than the {centred.shape[1]} dimensions.")
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        self.components_ = vt[:d]

    def _transform(self, centred: np.ndarray) -> np.ndarray:
        return centred - (centred @ self.components_.T) @ self.components_

    def _params(self) -> str:
        return f"d={self.d}"


class Whitening(PostProcessor):
    """BERT-whitening (Su et al. 2021): ``(x − μ) U Λ^−½``, first ``k`` columns kept, then L2-normalised.

    With fewer vectors than dimensions the covariance is singular: ``k`` is capped at its rank and a small
    shrinkage (``shrinkage`` × mean eigenvalue) keeps the division finite; ``notes_`` says so. When ``k`` reaches
    that rank (n distinct texts span n − 1 directions) every pair of texts ends at the same cosine, −1/(n − 1):
    the numbers are kept, and ``notes_`` warns that the whitened space no longer tells texts apart."""

    name = "whiten"

    def __init__(self, k: int | None = 256, shrinkage: float = 1e-6) -> None:
        self.k = k
        self.shrinkage = shrinkage

    def _fit(self, centred: np.ndarray) -> None:
        dims = centred.shape[1]
        if self.k is not None:
            check("whiten_k", self.k, "k (dimensions kept)")
        k = dims if self.k is None else self.k
        if k > dims:
            self.notes_.append(f"k = {k} is more than the {dims} dimensions: all {dims} are kept.")
            k = dims
        cov = centred.T @ centred / max(len(centred) - 1, 1)
        u, lam, _ = np.linalg.svd(cov)
        rank = int((lam > lam.max() * 1e-10).sum()) if lam.max() > 0 else 0
        if rank == 0:
            raise VecexploreError("All vectors are identical: there is no variance to whiten.")
        if k > rank:
            self.notes_.append(f"Only {len(centred)} vectors for {dims} dimensions: the covariance has rank {rank}, "
                               f"so k is capped at {rank} (asked for {k}).")
            k = rank
        distinct = len(np.unique(centred, axis=0)) if k == rank else 0
        if k == rank and rank >= distinct - 1:
            self.notes_.append(
                f"k = {k} keeps every direction the {distinct} distinct texts span ({rank}): whitening then spreads "
                f"them evenly, every pair at about the same cosine ({-1 / max(rank, 1):.3f}), so the map, the "
                f"neighbours and the metrics after it say nothing about the texts. Choose a smaller k (e.g. "
                f"{max(1, rank // 2)}) or add texts.")
        self.k_ = k
        self.W_ = u[:, :k] / np.sqrt(lam[:k] + self.shrinkage * lam.mean())

    def _transform(self, centred: np.ndarray) -> np.ndarray:
        return l2_normalize(centred @ self.W_)

    def _params(self) -> str:
        return f"k={self.k_}"


class ZCA(PostProcessor):
    """ZCA whitening: ``(x − μ) U Λ^−½ Uᵀ`` — whitened, but kept in the original axes and dimensions."""

    name = "zca"

    def __init__(self, shrinkage: float = 1e-6) -> None:
        self.shrinkage = shrinkage

    def _fit(self, centred: np.ndarray) -> None:
        cov = centred.T @ centred / max(len(centred) - 1, 1)
        u, lam, _ = np.linalg.svd(cov)
        if lam.max() <= 0:
            raise VecexploreError("All vectors are identical: there is no variance to whiten.")
        if len(centred) <= centred.shape[1]:
            self.notes_.append(f"Only {len(centred)} vectors for {centred.shape[1]} dimensions: the covariance is "
                               "singular, so shrinkage is added to its eigenvalues.")
        self.W_ = (u / np.sqrt(lam + self.shrinkage * lam.mean() + 1e-12)) @ u.T

    def _transform(self, centred: np.ndarray) -> np.ndarray:
        return centred @ self.W_


def make_transform(name: str, k: int | None = 256, d: int = 3) -> PostProcessor:
    """A transform by name: none, center, abtt (``d``), whiten (``k``), zca."""
    if name == "none":
        return PostProcessor()
    if name == "center":
        return Center()
    if name == "abtt":
        return AllButTheTop(d)
    if name == "whiten":
        return Whitening(k)
    if name == "zca":
        return ZCA()
    raise VecexploreError(f"Unknown transform {name!r}; choose one of {', '.join(TRANSFORMS)}.")


def load_transform(path: str | Path) -> PostProcessor:
    """A transform saved with ``save``."""
    try:
        data = np.load(path, allow_pickle=False)
        meta = json.loads(str(data["__meta__"]))
    except (OSError, KeyError, ValueError) as exc:
        raise VecexploreError(f"{path} is not a saved vecexplore transform: {exc}") from exc
    classes = {c.__name__: c for c in (PostProcessor, Center, AllButTheTop, Whitening, ZCA)}
    obj = classes[meta["class"]].__new__(classes[meta["class"]])
    vars(obj).update(meta["params"])
    vars(obj).update(meta["state"])
    vars(obj).update({k: data[k] for k in data.files if k != "__meta__"})
    return obj


@dataclass(frozen=True)
class PairScores:
    spearman: float
    pearson: float
    n: int


def pair_correlation(A: np.ndarray, B: np.ndarray, scores: np.ndarray) -> PairScores:
    """Spearman and Pearson between cos(A_i, B_i) and the human scores."""
    from scipy.stats import pearsonr, spearmanr

    cos = cosine(A, B)
    return PairScores(float(spearmanr(cos, scores).statistic), float(pearsonr(cos, scores).statistic), len(scores))


def knn_label_agreement(X: np.ndarray, labels: list[str], k: int = 10) -> float:
    """Mean share of each point's ``k`` cosine nearest neighbours that carry its label."""
    from vecexplore.maps.neighbors import cosine_neighbors

    idx, _ = cosine_neighbors(X, X, k, exclude=np.arange(len(X)))
    lab = np.asarray(labels)
    return float((lab[idx] == lab[:, None]).mean())
