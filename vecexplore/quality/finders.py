"""What may be wrong with a corpus, found in its embedding space, row by row (rows stay rows: two copies of one
text are two rows): exact and near-duplicates, outliers, likely label errors (cleanlab on out-of-fold probe
probabilities), and leakage between two sets."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize

BLOCK = 1024  # rows per block of exact cosine products (1,024 × n float32 at a time)


def text_key(text: str) -> str:
    """A text as exact-duplicate detection compares it: Unicode NFKC, case-folded, whitespace collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def exact_pairs(texts: Sequence[str]) -> np.ndarray:
    """Pairs ``(i, j)``, i < j, of rows whose texts are equal once normalised (:func:`text_key`): each row paired
    with the first row of its text."""
    first: dict[str, int] = {}
    pairs = []
    for i, text in enumerate(texts):
        key = text_key(text)
        if key in first:
            pairs.append((first[key], i))
        else:
            first[key] = i
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True)
class NearPairs:
    """Pairs of rows at cosine ≥ ``threshold`` (``i < j``), and each row's highest cosine to another row (the
    histogram that helps choose the threshold)."""

    pairs: np.ndarray  # (m, 2) int
    cosine: np.ndarray  # (m,)
    nearest: np.ndarray  # (n,) each row's highest cosine to any other row


def near_pairs(X: np.ndarray, threshold: float, block: int = BLOCK) -> NearPairs:
    """Every pair at cosine ≥ ``threshold`` by exact blockwise products over the upper triangle (each pair
    computed once)."""
    U = l2_normalize(np.asarray(X, dtype=np.float32))
    n = len(U)
    nearest = np.full(n, -np.inf, dtype=np.float32)
    found_i, found_j, found_c = [], [], []
    for start in range(0, n, block):
        stop = min(start + block, n)
        sims = U[start:stop] @ U[start:].T  # rows start..stop against rows start..n
        sims[np.arange(stop - start), np.arange(stop - start)] = -np.inf  # a row is not its own neighbour
        nearest[start:stop] = np.maximum(nearest[start:stop], sims.max(axis=1))
        if stop < n:  # the lower rows see these rows too: their best so far
            nearest[stop:] = np.maximum(nearest[stop:], sims[:, stop - start:].max(axis=0))
        rows, cols = np.nonzero(sims >= threshold)
        keep = cols > rows  # the upper triangle within the diagonal block; every column beyond it is above
        found_i.append(rows[keep] + start)
        found_j.append(cols[keep] + start)
        found_c.append(sims[rows[keep], cols[keep]])
    pairs = np.stack([np.concatenate(found_i), np.concatenate(found_j)], axis=1) if found_i else \
        np.empty((0, 2), dtype=np.int64)
    return NearPairs(pairs.astype(np.int64), np.concatenate(found_c) if found_c else np.empty(0, np.float32),
                     nearest)


def groups(n: int, pairs: np.ndarray) -> list[list[int]]:
    """Connected components of the pairs' graph with more than one row, largest first (ties: lowest row)."""
    if not len(pairs):
        return []
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    members: dict[int, list[int]] = {}
    for row, c in enumerate(component):
        members.setdefault(int(c), []).append(row)
    found = [rows for rows in members.values() if len(rows) > 1]
    return sorted(found, key=lambda rows: (-len(rows), rows[0]))


def outlier_scores(X: np.ndarray, k: int = 10, method: str = "lof") -> np.ndarray:
    """Per row, how far it sits from its ``k`` nearest neighbours (higher: more of an outlier): scikit-learn's
    LocalOutlierFactor on unit vectors (``-negative_outlier_factor_``), or ``"knn"``: the mean cosine distance
    to the ``k`` nearest other rows."""
    U = l2_normalize(np.asarray(X, dtype=np.float32))
    if len(U) <= k:
        raise VecexploreError(f"Outlier scores need more than k = {k} texts (got {len(U)}).")
    if method == "lof":
        from sklearn.neighbors import LocalOutlierFactor

        return -LocalOutlierFactor(n_neighbors=k).fit(U).negative_outlier_factor_
    if method == "knn":
        from vecexplore.maps.neighbors import cosine_neighbors

        _, sims = cosine_neighbors(U, U, k=k, exclude=np.arange(len(U)))
        return 1.0 - sims.mean(axis=1)
    raise VecexploreError(f"Unknown outlier score {method!r}: choose lof or knn.")


@dataclass(frozen=True)
class LabelIssues:
    """Out-of-fold probe probabilities and what cleanlab makes of them."""

    classes: list[str]
    probabilities: np.ndarray  # (n, classes) out-of-fold
    ranked: np.ndarray  # rows cleanlab flags, worst first
    quality: np.ndarray  # (n,) cleanlab's label quality score (self-confidence), low = suspicious

    def suggested(self, row: int) -> str:
        return self.classes[int(self.probabilities[row].argmax())]


def check_labels(labels: Sequence[str]) -> np.ndarray:
    """Labels that a probe can learn from: at least two classes, and classes that repeat."""
    y = np.asarray([str(v) for v in labels])
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise VecexploreError(f"Every text has the same label ({classes[0]!r}): there is no label error to find. "
                              "Choose a label column with at least two classes.")
    if counts.max() == 1:
        raise VecexploreError("Every text has a label of its own, so no label can be checked against others: the "
                              "label column looks like an id. Choose a column of classes.")
    return y


def label_issues(X: np.ndarray, labels: Sequence[str], folds: int = 5, seed: int = 0) -> LabelIssues:
    """Likely label errors: a logistic-regression probe's out-of-fold probabilities (stratified folds, seeded),
    ranked by cleanlab's ``find_label_issues`` (self-confidence)."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = check_labels(labels)
    classes, codes = np.unique(y, return_inverse=True)
    splits = max(2, min(folds, int(np.bincount(codes).min())))
    probs = cross_val_predict(LogisticRegression(max_iter=2000), l2_normalize(np.asarray(X, dtype=np.float64)),
                              codes, cv=StratifiedKFold(splits, shuffle=True, random_state=seed),
                              method="predict_proba")
    ranked = find_label_issues(codes, probs, return_indices_ranked_by="self_confidence")
    return LabelIssues(list(classes), probs, np.asarray(ranked, dtype=np.int64),
                       get_label_quality_scores(codes, probs, method="self_confidence"))


def mixed_classes(labels: Sequence[str], issues: LabelIssues, top: int = 5) -> list[dict]:
    """The pairs of classes the space mixes most: out-of-fold predictions of one class as the other."""
    y = np.asarray([str(v) for v in labels])
    predicted = np.asarray(issues.classes)[issues.probabilities.argmax(axis=1)]
    counts: dict[tuple[str, str], int] = {}
    for given, guess in zip(y, predicted, strict=True):
        if given != guess:
            counts[(given, guess)] = counts.get((given, guess), 0) + 1
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"given": str(g), "predicted": str(p), "count": c, "share_of_given": c / int((y == g).sum())}
            for (g, p), c in rows]


def cross_pairs(A: np.ndarray, B: np.ndarray, texts_a: Sequence[str], texts_b: Sequence[str], threshold: float,
                block: int = BLOCK) -> np.ndarray:
    """Pairs ``(row in A, row in B)`` where B's row repeats A's text (normalised) or lies at cosine ≥
    ``threshold``; one pair per B row (its closest A row)."""
    keys = {}
    for i, text in enumerate(texts_a):
        keys.setdefault(text_key(text), i)
    UA, UB = l2_normalize(np.asarray(A, dtype=np.float32)), l2_normalize(np.asarray(B, dtype=np.float32))
    pairs = []
    for start in range(0, len(UB), block):
        sims = UB[start:start + block] @ UA.T
        best = sims.argmax(axis=1)
        for offset, (j, s) in enumerate(zip(best, sims[np.arange(len(best)), best], strict=True)):
            row = start + offset
            exact = keys.get(text_key(texts_b[row]))
            if exact is not None:
                pairs.append((exact, row))
            elif s >= threshold:
                pairs.append((int(j), row))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)
