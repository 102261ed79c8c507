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
from vecexplore.search.store import HNSW_MIN_POINTS

BLOCK = 1024  # rows per block of exact cosine products (1,024 × n float32 at a time)
CHUNK = 64  # columns per chunk of the blockwise top-k
PROBE_JOBS = 2  # worker processes for the probe's folds (joblib gives each cores // jobs threads)
EXACT_MAX = HNSW_MIN_POINTS  # up to this many rows every product is computed; above, an HNSW graph (as the store)


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
class Neighbours:
    """Each row's ``k`` nearest other rows by cosine (best first), and the pairs of rows at cosine ≥ ``threshold``
    (``i < j``): every such pair when ``exact``; through HNSW, those among each row's ``k`` nearest."""

    index: np.ndarray  # (n, k) row numbers
    cosine: np.ndarray  # (n, k)
    pairs: np.ndarray  # (m, 2) int
    pair_cosine: np.ndarray  # (m,)
    exact: bool

    @property
    def nearest(self) -> np.ndarray:
        """Each row's highest cosine to any other row (the histogram that helps choose the threshold)."""
        return self.cosine[:, 0]


def _block_top_k(sims: np.ndarray, k: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest of each row of ``sims`` (its columns a multiple of ``width``) and their columns, best
    first (equal scores: lower column first). Only the ``k`` chunks of ``width`` columns with the highest maxima
    can hold them, so one pass takes the chunks' maxima and the rest looks at ``k × width`` columns per row."""
    b, n = sims.shape
    chunks = sims.reshape(b, n // width, width).max(axis=2)
    if chunks.shape[1] > k:
        chunks = np.argpartition(chunks, -k, axis=1)[:, -k:]
    else:
        chunks = np.broadcast_to(np.arange(chunks.shape[1]), chunks.shape)
    cols = (chunks[:, :, None] * width + np.arange(width)).reshape(b, -1)
    vals = np.take_along_axis(sims, cols, 1)
    best = np.argpartition(vals, -k, axis=1)[:, -k:]
    cols, vals = np.take_along_axis(cols, best, 1), np.take_along_axis(vals, best, 1)
    order = np.lexsort((cols, -vals), axis=1)
    return np.take_along_axis(cols, order, 1), np.take_along_axis(vals, order, 1)


def exact_neighbours(U: np.ndarray, k: int, queries: np.ndarray | None = None, threshold: float | None = None,
                     block: int = BLOCK) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each query row's ``k`` nearest rows of ``U`` (unit float32 rows) by blockwise exact products, as row
    numbers and cosines; without ``queries`` the rows of ``U``, each left out of its own results, and then with
    ``threshold`` every pair ``(i, j)``, i < j, at cosine ≥ ``threshold``, with its cosine."""
    own = queries is None
    Q = U if own else queries
    n = len(U)
    width = min(CHUNK, n)
    padded = np.zeros((-(-n // width) * width, U.shape[1]), dtype=np.float32)
    padded[:n] = U
    index = np.empty((len(Q), k), dtype=np.int64)
    cosine = np.empty((len(Q), k), dtype=np.float32)
    found_i, found_j, found_c = [], [], []
    for start in range(0, len(Q), block):
        stop = min(start + block, len(Q))
        sims = Q[start:stop] @ padded.T
        sims[:, n:] = -np.inf
        if own:
            sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # a row is not its own neighbour
        index[start:stop], cosine[start:stop] = _block_top_k(sims, k, width)
        if own and threshold is not None:
            hit = np.flatnonzero(cosine[start:stop, 0] >= threshold)  # only rows with a pair are scanned
            rows, cols = np.nonzero(sims[hit] >= threshold)
            rows = hit[rows]
            keep = cols > rows + start  # each pair once
            found_i.append(rows[keep] + start)
            found_j.append(cols[keep])
            found_c.append(sims[rows[keep], cols[keep]])
    if not found_i:
        return index, cosine, np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.float32)
    pairs = np.stack([np.concatenate(found_i), np.concatenate(found_j)], axis=1).astype(np.int64)
    return index, cosine, pairs, np.concatenate(found_c)


def nearest_rows(base: np.ndarray, k: int, queries: np.ndarray | None = None,
                 exact: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each query row's ``k`` nearest rows of ``base`` (row numbers, cosines; best first): exact blockwise products
    up to :data:`EXACT_MAX` rows of ``base``, Qdrant Edge's HNSW graph above (``exact`` decides instead).
    Without ``queries``, every row of ``base`` against the others."""
    U = l2_normalize(np.asarray(base, dtype=np.float32))
    Q = None if queries is None else l2_normalize(np.asarray(queries, dtype=np.float32))
    if len(U) <= EXACT_MAX if exact is None else exact:
        return exact_neighbours(U, k, Q)[:2]
    from vecexplore.search.qdrant.edge import row_neighbours

    index, cosine = row_neighbours(U, k, Q)
    short = np.flatnonzero(index[:, -1] < 0)  # rows the graph gave fewer than k: those exactly
    if len(short):
        sims = (U if Q is None else Q)[short] @ U.T
        if Q is None:
            sims[np.arange(len(short)), short] = -np.inf
        order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        index[short], cosine[short] = order, np.take_along_axis(sims, order, 1)
    return index, cosine


def neighbours(X: np.ndarray, k: int, threshold: float, exact: bool | None = None, block: int = BLOCK) -> Neighbours:
    """Each row's ``k`` nearest other rows and the pairs at cosine ≥ ``threshold``: up to :data:`EXACT_MAX` rows
    by exact blockwise products (every pair), above through Qdrant Edge's HNSW graph (the pairs among each row's
    ``k`` nearest). One pass serves the near-duplicates, the nearest-cosine histogram and the outlier scores."""
    U = l2_normalize(np.asarray(X, dtype=np.float32))
    if len(U) < 2:
        raise VecexploreError("Neighbours need at least two texts.")
    k = min(k, len(U) - 1)
    if len(U) <= EXACT_MAX if exact is None else exact:
        return Neighbours(*exact_neighbours(U, k, threshold=threshold, block=block), exact=True)
    index, cosine = nearest_rows(U, k, exact=False)
    rows, cols = np.nonzero(cosine >= threshold)
    ends = np.sort(np.stack([rows, index[rows, cols]], axis=1), axis=1)
    pairs, first = np.unique(ends, axis=0, return_index=True)
    return Neighbours(index, cosine, pairs.astype(np.int64).reshape(-1, 2), cosine[rows, cols][first], False)


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


def outlier_scores(graph: Neighbours, k: int = 10, method: str = "lof") -> np.ndarray:
    """Per row, how far it sits from its ``k`` nearest neighbours (higher: more of an outlier), read off the
    neighbour graph: the local outlier factor as scikit-learn's LocalOutlierFactor computes it on unit vectors
    (Euclidean distance √(2 − 2·cos)), or ``"knn"``: the mean cosine distance to the ``k`` nearest other rows."""
    if graph.index.shape[1] < k:
        raise VecexploreError(f"Outlier scores need more than k = {k} texts (got {graph.index.shape[1] + 1}).")
    index, cosine = graph.index[:, :k], graph.cosine[:, :k].astype(np.float64)
    if method == "knn":
        return 1.0 - cosine.mean(axis=1)
    if method != "lof":
        raise VecexploreError(f"Unknown outlier score {method!r}: choose lof or knn.")
    distance = np.sqrt(np.maximum(2.0 - 2.0 * cosine, 0.0))
    reach = np.maximum(distance, distance[index, -1])  # reachability: at least the neighbour's own k-distance
    density = 1.0 / (reach.mean(axis=1) + 1e-10)
    return (density[index] / density[:, None]).mean(axis=1)


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
    # Folds in two worker processes of one thread each: in this process, threads cost the small fits more than
    # they give (10x on busy cores), and limiting them here (threadpoolctl) would change every thread's BLAS
    # while other sessions compute, which can deadlock OpenBLAS.
    probs = cross_val_predict(LogisticRegression(max_iter=2000), l2_normalize(np.asarray(X, dtype=np.float64)),
                              codes, cv=StratifiedKFold(splits, shuffle=True, random_state=seed),
                              method="predict_proba", n_jobs=PROBE_JOBS)
    # n_jobs=1: cleanlab would otherwise fork a multiprocessing pool, which hangs in a threaded app server
    ranked = find_label_issues(codes, probs, return_indices_ranked_by="self_confidence", n_jobs=1)
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
                exact: bool | None = None) -> np.ndarray:
    """Pairs ``(row in A, row in B)`` where B's row repeats A's text (normalised) or lies at cosine ≥
    ``threshold``; one pair per B row (its first exact copy, else its closest A row: :func:`nearest_rows`)."""
    keys: dict[str, int] = {}
    for i, text in enumerate(texts_a):
        keys.setdefault(text_key(text), i)
    index, cosine = nearest_rows(A, 1, B, exact)
    pairs = []
    for row, text in enumerate(texts_b):
        copy = keys.get(text_key(text))
        if copy is not None:
            pairs.append((copy, row))
        elif cosine[row, 0] >= threshold:
            pairs.append((int(index[row, 0]), row))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)
