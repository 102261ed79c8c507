"""Comparing embedding spaces of the same texts: neighbour overlap, CKA, RSA, aligned maps, translation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.linalg import orthogonal_procrustes

from vecexplore.embedder import Embedder
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus
from vecexplore.maps.neighbors import cosine_neighbors
from vecexplore.numeric import check_array, l2_normalize, seeded_sample


def _pair(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X, Y = check_array(X), check_array(Y)
    if len(X) != len(Y):
        raise VecexploreError(f"Both spaces need one vector per text ({len(X)} vs {len(Y)} rows).")
    if len(X) < 3:
        raise VecexploreError("Comparing spaces needs at least 3 texts.")
    return X, Y


def linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """Linear CKA (Kornblith et al. 2019): ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) on centred features; 1 = same geometry
    up to rotation and scale."""
    X, Y = _pair(X, Y)
    X, Y = X - X.mean(0), Y - Y.mean(0)
    denom = np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)
    if denom == 0:
        raise VecexploreError("A space has no variance (all vectors identical): CKA is undefined.")
    return float(np.linalg.norm(Y.T @ X) ** 2 / denom)


def rsa(X: np.ndarray, Y: np.ndarray, max_points: int = 2000, seed: int = 0) -> tuple[float, int]:
    """Spearman correlation between the two pairwise cosine-similarity matrices (upper triangles), on a seeded
    sample of at most ``max_points`` texts; returns (rho, points used)."""
    from scipy.stats import spearmanr

    X, Y = _pair(X, Y)
    idx = seeded_sample(len(X), max_points, seed)
    A, B = l2_normalize(X[idx]), l2_normalize(Y[idx])
    iu = np.triu_indices(len(idx), 1)
    return float(spearmanr((A @ A.T)[iu], (B @ B.T)[iu]).statistic), len(idx)


def knn_jaccard(X: np.ndarray, Y: np.ndarray, k: int = 10) -> np.ndarray:
    """Per text: Jaccard overlap of its ``k`` cosine nearest neighbours in the two spaces (itself excluded)."""
    X, Y = _pair(X, Y)
    if not 0 < k < len(X):
        raise VecexploreError(f"k must be between 1 and {len(X) - 1} for {len(X)} texts (got {k}).")
    self_idx = np.arange(len(X))
    nx, _ = cosine_neighbors(X, X, k, exclude=self_idx)
    ny, _ = cosine_neighbors(Y, Y, k, exclude=self_idx)
    return np.array([len(set(a) & set(b)) / len(set(a) | set(b)) for a, b in zip(nx, ny, strict=True)])


def align(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """``moving`` rotated/reflected and scaled onto ``reference`` (orthogonal Procrustes on centred layouts)."""
    ref, mov = _pair(reference, moving)
    ref_c, mov_c = ref - ref.mean(0), mov - mov.mean(0)
    rotation, scale = orthogonal_procrustes(mov_c, ref_c)
    norm = (mov_c**2).sum()
    return mov_c @ rotation * (scale / norm if norm else 1.0) + ref.mean(0)


def probe_accuracy(X: np.ndarray, labels: list[str], folds: int = 5, seed: int = 0) -> float:
    """Mean cross-validated accuracy of a logistic-regression probe predicting the labels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    labels = np.asarray(labels)
    counts = np.unique(labels, return_counts=True)[1]
    folds = min(folds, int(counts.min()))
    if len(counts) < 2 or folds < 2:
        raise VecexploreError("A probe needs at least 2 labels with 2 texts each.")
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(cross_val_score(LogisticRegression(max_iter=2000), l2_normalize(X), labels, cv=cv).mean())


class Translator:
    """A linear map from space A to space B, fitted on paired vectors of the same texts.

    ``method``: ``lstsq`` (least squares), ``ridge`` (``alpha``), or ``procrustes`` (orthogonal; when the dims
    differ the smaller space is zero-padded). Vectors are unit-normalised first."""

    def __init__(self, method: str = "lstsq", alpha: float = 1.0) -> None:
        self.method = method
        self.alpha = alpha

    def fit(self, A: np.ndarray, B: np.ndarray) -> Translator:
        A, B = _pair(A, B)
        A, B = l2_normalize(A).astype(np.float64), l2_normalize(B).astype(np.float64)
        self.dims_ = (A.shape[1], B.shape[1])
        if self.method == "lstsq":
            self.W_ = np.linalg.lstsq(A, B, rcond=None)[0]
        elif self.method == "ridge":
            self.W_ = np.linalg.solve(A.T @ A + self.alpha * np.eye(A.shape[1]), A.T @ B)
        elif self.method == "procrustes":
            d = max(self.dims_)
            rotation, _ = orthogonal_procrustes(np.pad(A, ((0, 0), (0, d - A.shape[1]))),
                                                np.pad(B, ((0, 0), (0, d - B.shape[1]))))
            self.W_ = rotation[: A.shape[1], : B.shape[1]]
        else:
            raise VecexploreError(f"Unknown method {self.method!r}; choose lstsq, ridge or procrustes.")
        return self

    def transform(self, A: np.ndarray) -> np.ndarray:
        if not hasattr(self, "W_"):
            raise VecexploreError("Fit the translator before using it.")
        return (l2_normalize(np.asarray(A)).astype(np.float64) @ self.W_).astype(np.float32)


@dataclass(frozen=True)
class TranslationReport:
    method: str
    n_train: int
    n_test: int
    mean_cosine: float
    top1: float
    top10: float

    def to_dict(self) -> dict:
        return dict(vars(self))


def evaluate_translation(A: np.ndarray, B: np.ndarray, method: str = "lstsq", test_share: float = 0.3,
                         seed: int = 0) -> TranslationReport:
    """Fit A→B on part of the texts; on the held-out rest, the mean cosine between translated and true B
    vectors, and how often a translated vector retrieves its own text's B vector first / in the top 10."""
    A, B = _pair(A, B)
    n = len(A)
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_share)))
    if n - n_test < 2:
        raise VecexploreError("Too few texts to fit a translation and test it; add more texts.")
    test, train = order[:n_test], order[n_test:]
    t = Translator(method).fit(A[train], B[train])
    pred, true = l2_normalize(t.transform(A[test])), l2_normalize(B[test])
    cos = (pred * true).sum(1)
    ranks, _ = cosine_neighbors(true, pred, k=min(10, n_test))
    return TranslationReport(method, len(train), n_test, float(cos.mean()),
                             float(np.mean(ranks[:, 0] == np.arange(n_test))),
                             float(np.mean([i in row for i, row in enumerate(ranks)])))


def embed_models(corpus: Corpus, embedders: Sequence[Embedder], throughput_sample: int = 500,
                 embed: Callable[[Embedder, Corpus], tuple[EmbeddingSet, object]] | None = None,
                 drop_blind: bool = True) -> tuple[dict[str, EmbeddingSet], dict[str, dict], list[str]]:
    """The same corpus in each model's space: ``({name: EmbeddingSet}, {name: info}, notes)``, keyed by each
    embedder's ``name``; ``info`` holds dims, bytes per vector and (unless ``throughput_sample`` is 0) texts per
    second on the first texts.

    ``embed(embedder, corpus)`` embeds one model (default ``embedder.embed``; the app passes its own, with a
    progress bar and the session's memory; the report card measures costs in it). With ``drop_blind``, texts a
    model cannot embed (no known word: a zero vector) are dropped from every space, and counted."""
    unique = list({e.name: e for e in embedders}.values())
    if len(unique) < 2:
        raise VecexploreError("Choose at least two different models to compare.")
    sets, info = {}, {}
    for embedder in unique:
        eset = (embed or Embedder.embed)(embedder, corpus)[0]
        sets[embedder.name] = eset
        info[embedder.name] = {"dims": eset.dims, "bytes_per_vector": 4 * eset.dims}
        if throughput_sample:
            info[embedder.name]["sent_per_s"] = embedder.texts_per_second(corpus.texts[:throughput_sample])
    if not drop_blind:
        return sets, info, []
    sets, notes = common_texts(sets)
    return sets, info, notes


def common_texts(sets: dict) -> tuple[dict, list[str]]:
    """Keep only the texts every model could embed (a zero vector means no known word), saying how many went."""
    keep = np.ones(next(iter(sets.values())).n, dtype=bool)
    notes = []
    for model_id, eset in sets.items():
        zero = ~eset.vectors.any(axis=1)
        if zero.any():
            notes.append(f"{model_id} cannot embed {int(zero.sum())} texts (no known words): they are left out of "
                         "every comparison.")
        keep &= ~zero
    if keep.sum() < 3:
        raise VecexploreError("Fewer than 3 texts can be embedded by every model.")
    if not keep.all():
        sets = {m: e.subset(np.flatnonzero(keep)) for m, e in sets.items()}
    return sets, notes


def compare_sets(sets: dict, k: int = 10, max_points: int = 2000) -> tuple[list[dict], dict]:
    """Per pair of models: CKA, RSA and mean k-NN Jaccard; per model, if labelled: probe accuracy, k-NN label
    accuracy (share of each text's k neighbours with its label) and silhouette."""
    from itertools import combinations

    from sklearn.metrics import silhouette_score

    ids = list(sets)
    n = sets[ids[0]].n
    k = min(k, n - 1)
    pairs = []
    for a, b in combinations(ids, 2):
        X, Y = sets[a].vectors, sets[b].vectors
        rho, used = rsa(X, Y, max_points)
        pairs.append({"a": a, "b": b, "cka": linear_cka(X, Y), "rsa_spearman": rho, "rsa_points": used,
                      "knn_jaccard_mean": float(knn_jaccard(X, Y, k).mean()), "k": k})
    quality = {}
    labels = sets[ids[0]].labels
    if labels is not None and len(set(labels)) > 1:
        from vecexplore.transforms.isotropy import knn_label_agreement

        for m in ids:
            X = l2_normalize(sets[m].vectors)
            quality[m] = {"probe_accuracy": probe_accuracy(X, labels),
                          "knn_label_accuracy": knn_label_agreement(X, labels, k),
                          "silhouette": float(silhouette_score(X, labels, metric="cosine"))}
    return pairs, quality


def column_sets(name: str, source: Path | bytes, columns: Sequence[str], text_col: str | None = None,
                label_col: str | None = None, max_rows: int | None = None, seed: int = 0) -> dict[str, EmbeddingSet]:
    """The same rows' vectors from two or more vector columns of one table (a user's own vectors, e.g. ``minilm``
    and ``mpnet``), keyed by column: each a set tagged ``imported:<file>:<column>`` with the file's texts and
    labels, every one sampled to the same ``max_rows`` rows (seeded). What :func:`comparison_report` compares in
    place of :func:`embed_models`' sets."""
    from vecexplore.files import vectors
    from vecexplore.pipeline import imported_set

    columns = list(dict.fromkeys(columns))
    if len(columns) < 2:
        raise VecexploreError(f"Choose at least two vector columns of {name} to compare.")
    sets = {}
    for col in columns:
        frame, array = vectors.read(name, source, col)
        corpus = vectors.vectors_corpus(array, frame, f"{name}:{col}", text_col, label_col)
        sets[col] = imported_set(corpus if max_rows is None else corpus.sample(max_rows, seed))
    return sets
