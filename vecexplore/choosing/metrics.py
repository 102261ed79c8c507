"""Per-item scores (per query, per text, per pair) so that every score can be bootstrapped over its items.

Each score is a small object with ``value()`` (the score on all items), ``on(index)`` (the score on each row of a
matrix of resampled item indices) and ``per_item`` (what each item contributed, for finding the items two models
disagree on; None where a score has no per-item part).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize, top_k

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class MeanScore:
    """The mean of one value per item (a query's MRR, whether a text was classified right)."""

    per_item: np.ndarray

    def value(self) -> float:
        return float(self.per_item.mean())

    def on(self, index: np.ndarray) -> np.ndarray:
        return self.per_item[index].mean(axis=1)


# --- retrieval -------------------------------------------------------------------------------------------------


def cosine_top(queries: np.ndarray, docs: np.ndarray, k: int = 10, block: int = 256) -> np.ndarray:
    """For each query, the ``k`` documents with the highest cosine (exact, in float64), best first, equal scores in
    index order."""
    q, d = l2_normalize(queries).astype(np.float64), l2_normalize(docs).astype(np.float64)
    return np.vstack([top_k(q[s:s + block] @ d.T, k) for s in range(0, len(q), block)]) if len(q) else \
        np.zeros((0, min(k, len(d))), dtype=int)


def ranking_metrics(top: np.ndarray, relevant: Sequence[dict[int, float]], k: int = 10) -> dict[str, np.ndarray]:
    """Per query: recall@k (share of its relevant documents in the top k), MRR@k (1 / rank of the first relevant
    one, 0 past k) and nDCG@k (graded gains, log2 discount, ideal order of its gains), from the ranked ``top``."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    out = {f"recall@{k}": np.zeros(len(top)), f"mrr@{k}": np.zeros(len(top)), f"ndcg@{k}": np.zeros(len(top))}
    for i, (ranked, rel) in enumerate(zip(top, relevant, strict=True)):
        gains = np.array([rel.get(int(d), 0.0) for d in ranked[:k]])
        hits = np.flatnonzero(gains > 0)
        ideal = np.sort(np.array(list(rel.values())))[::-1][:k]
        out[f"recall@{k}"][i] = len(hits) / len(rel)
        out[f"mrr@{k}"][i] = 1.0 / (hits[0] + 1) if len(hits) else 0.0
        out[f"ndcg@{k}"][i] = (gains * discount[:len(gains)]).sum() / (ideal * discount[:len(ideal)]).sum()
    return out


def tokens(text: str) -> list[str]:
    """Lower-cased runs of word characters (no stemming, no stop words)."""
    return _TOKEN.findall(text.lower())


class BM25:
    """Okapi BM25 on word tokens (:func:`tokens`), Lucene's variant: a document's score for a query is the sum over
    the query's tokens (repeats count) of ``idf · tf / (tf + k1 · (1 − b + b · len / avg_len))`` with
    ``idf = ln(1 + (N − df + 0.5) / (df + 0.5))``, always positive. k1 = 1.5 and b = 0.75 by default, the values
    BEIR's and bm25s's baselines use; the scores equal ``bm25s.BM25(method="lucene")``'s on the same tokens.
    """

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b

    def fit(self, documents: Sequence[str]) -> BM25:
        from scipy.sparse import csr_matrix

        vocabulary: dict[str, int] = {}
        rows, cols = [], []
        for i, doc in enumerate(documents):
            for token in tokens(doc):
                rows.append(i)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
        tf = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(documents), max(len(vocabulary), 1)))
        tf.sum_duplicates()
        length = np.asarray(tf.sum(axis=1)).ravel()
        avg = length.mean() if len(length) and length.mean() > 0 else 1.0
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        self.vocabulary_ = vocabulary
        self.idf_ = np.log1p((len(documents) - df + 0.5) / (df + 0.5))
        norm = self.k1 * (1 - self.b + self.b * length / avg)
        weights = tf.copy()
        weights.data = weights.data / (weights.data + np.repeat(norm, np.diff(tf.indptr))) * self.idf_[tf.indices]
        self.weights_ = weights.T.tocsr()  # terms × documents
        return self

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """Each query's score for every document (queries × documents)."""
        from scipy.sparse import csr_matrix

        rows, cols = [], []
        for i, query in enumerate(queries):
            for token in tokens(query):
                if token in self.vocabulary_:
                    rows.append(i)
                    cols.append(self.vocabulary_[token])
        counts = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(queries), self.weights_.shape[0]))
        return np.asarray((counts @ self.weights_).todense())

    def top(self, queries: Sequence[str], k: int = 10, block: int = 256) -> np.ndarray:
        """For each query, the ``k`` best documents, best first, equal scores in index order."""
        return np.vstack([top_k(self.scores(queries[s:s + block]), k) for s in range(0, len(queries), block)])


# --- classification ---------------------------------------------------------------------------------------------


def folds_for(labels: Sequence[str], folds: int = 5) -> int:
    """``folds``, lowered to the size of the smallest class; refused below 2."""
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    n = min(folds, int(counts.min()))
    if len(counts) < 2 or n < 2:
        raise VecexploreError("Cross-validation needs at least 2 labels with 2 texts each.")
    return n


def _splitter(labels: Sequence[str], folds: int, seed: int):
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(folds_for(labels, folds), shuffle=True, random_state=seed)


def probe_correct(X: np.ndarray, labels: Sequence[str], folds: int = 5, seed: int = 0) -> np.ndarray:
    """Per text, 1.0 when a logistic-regression probe trained on the other folds (stratified, shuffled with
    ``seed``) predicts its label, on unit-length vectors."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    y = np.asarray(labels)
    predicted = cross_val_predict(LogisticRegression(max_iter=2000), l2_normalize(X), y,
                                  cv=_splitter(y, folds, seed))
    return (predicted == y).astype(float)


def knn_correct(X: np.ndarray, labels: Sequence[str], k: int = 10, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Per text, 1.0 when the majority label of its ``k`` nearest training texts by cosine (folds as in
    :func:`probe_correct`; a tied vote goes to the label first in sorted order, as scikit-learn's) is its own."""
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    Z = l2_normalize(X).astype(np.float64)
    correct = np.zeros(len(y))
    for train, test in _splitter(labels, folds, seed).split(Z, y):
        near = train[np.vstack([top_k(Z[test[s:s + 1024]] @ Z[train].T, min(k, len(train)))
                                for s in range(0, len(test), 1024)])]
        votes = np.zeros((len(test), len(classes)))
        np.add.at(votes, (np.repeat(np.arange(len(test)), near.shape[1]), y[near].ravel()), 1)
        correct[test] = votes.argmax(axis=1) == y[test]
    return correct


# --- clustering ---------------------------------------------------------------------------------------------------


def _entropy(counts: np.ndarray) -> np.ndarray:
    """Entropy (nats) of the distributions in the last axis of ``counts``."""
    total = counts.sum(axis=-1, keepdims=True)
    p = np.divide(counts, total, out=np.zeros_like(counts, dtype=float), where=total > 0)
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=-1)


def v_measure_from_counts(table: np.ndarray) -> np.ndarray:
    """V-measure (β = 1) of contingency tables ``(..., labels, clusters)``, as scikit-learn's ``v_measure_score``."""
    table = np.asarray(table, dtype=float)
    h_c, h_k = _entropy(table.sum(axis=-1)), _entropy(table.sum(axis=-2))
    joint = _entropy(table.reshape(*table.shape[:-2], -1))
    mutual = h_c + h_k - joint
    homogeneity = np.where(h_c > 0, mutual / np.where(h_c > 0, h_c, 1.0), 1.0)
    completeness = np.where(h_k > 0, mutual / np.where(h_k > 0, h_k, 1.0), 1.0)
    total = homogeneity + completeness
    return np.where(total > 0, 2 * homogeneity * completeness / np.where(total > 0, total, 1.0), 0.0)


@dataclass(frozen=True)
class VMeasure:
    """V-measure of the k-means clusters against the labels; resampled as (label, cluster) pairs."""

    label_codes: np.ndarray
    cluster_codes: np.ndarray
    per_item = None

    @property
    def _shape(self) -> tuple[int, int]:
        return int(self.label_codes.max()) + 1, int(self.cluster_codes.max()) + 1

    def _tables(self, index: np.ndarray) -> np.ndarray:
        n_labels, n_clusters = self._shape
        cells = n_labels * n_clusters
        codes = self.label_codes[index] * n_clusters + self.cluster_codes[index]
        codes = codes + np.arange(len(index))[:, None] * cells
        return np.bincount(codes.ravel(), minlength=len(index) * cells).reshape(len(index), n_labels, n_clusters)

    def value(self) -> float:
        return float(self.on(np.arange(len(self.label_codes))[None, :])[0])

    def on(self, index: np.ndarray) -> np.ndarray:
        return v_measure_from_counts(self._tables(index))


def kmeans_v_measure(X: np.ndarray, labels: Sequence[str], seed: int = 0) -> VMeasure:
    """k-means (k = the number of labels, ``n_init=10``, seeded) on unit-length vectors, against the labels."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    k = int(codes.max()) + 1
    with threadpool_limits(1):  # as maps.clusters: several threads ran k-means 5-20x slower on 2 shared cores
        clusters = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(l2_normalize(X))
    return VMeasure(codes, clusters.astype(int))


# --- similarity ---------------------------------------------------------------------------------------------------


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    denom = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    return np.divide((a * b).sum(axis=1), denom, out=np.full(len(a), np.nan), where=denom > 0)


@dataclass(frozen=True)
class Spearman:
    """Spearman's rho of the cosines against the human scores; resampled as pairs (ranks recomputed, ties
    averaged). A resample where either side is constant has no rho (NaN)."""

    cosines: np.ndarray
    scores: np.ndarray

    @property
    def per_item(self) -> np.ndarray:
        """How far each pair's cosine rank sits from its score rank (0 best, −1 worst), on a 0–1 rank scale."""
        from scipy.stats import rankdata

        n = len(self.scores)
        return -np.abs(rankdata(self.cosines) - rankdata(self.scores)) / max(n - 1, 1)

    def value(self) -> float:
        return float(self.on(np.arange(len(self.scores))[None, :])[0])

    def on(self, index: np.ndarray) -> np.ndarray:
        from scipy.stats import rankdata

        return _pearson_rows(rankdata(self.cosines[index], axis=1), rankdata(self.scores[index], axis=1))


def pair_cosines(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine of paired rows (float64)."""
    return (l2_normalize(left).astype(np.float64) * l2_normalize(right).astype(np.float64)).sum(axis=1)


# --- fit: how much of the texts a model sees ---------------------------------------------------------------------

FIT_KEYS = ("max_seq_length", "n_truncated", "truncated_share", "oov_share", "n_texts_without_known_words",
            "pieces_per_word", "unknown_token_share")


def fit_from_info(info: dict, vectors: np.ndarray | None = None) -> dict:
    """What an encoder's ``diagnose()`` put in a set's ``info`` (truncation, unknown words), and the share of texts
    with a zero vector (the model saw nothing of them)."""
    fit = {key: info[key] for key in FIT_KEYS if key in info}
    if vectors is not None and len(vectors):
        fit["zero_vector_share"] = float((~np.asarray(vectors).any(axis=1)).mean())
    return fit


def tokenizer_fit(tokenizer, texts: Sequence[str]) -> dict:
    """Word pieces per word and the share of unknown pieces, from a ``tokenizers.Tokenizer`` (special tokens not
    counted; words as the tokenizer's pre-tokenizer splits them, else white space)."""
    encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    pieces = sum(len(e.ids) for e in encodings)
    words = sum(len({w for w in e.word_ids if w is not None}) for e in encodings)
    unk = tokenizer.token_to_id(getattr(getattr(tokenizer, "model", None), "unk_token", None) or "[UNK]")
    unknown = sum(sum(i == unk for i in e.ids) for e in encodings) if unk is not None else 0
    return {"pieces_per_word": pieces / words if words else 0.0,
            "unknown_token_share": unknown / pieces if pieces else 0.0}


def encoder_fit(encoder, texts: Sequence[str]) -> dict:
    """How well ``encoder`` fits ``texts``: its ``diagnose()`` (truncation, unknown words) and, for a model with a
    ``tokenizers`` tokenizer (``tokenizer_``, or a Hugging Face fast tokenizer's ``backend_tokenizer``), word pieces
    per word and the unknown-piece share."""
    fit = fit_from_info(encoder.diagnose(list(texts)))
    tokenizer = getattr(encoder, "tokenizer_", None)
    if tokenizer is None:
        hf = getattr(getattr(encoder, "model_", None), "tokenizer", None)
        tokenizer = getattr(hf, "backend_tokenizer", None)
    if tokenizer is not None and hasattr(tokenizer, "encode_batch"):
        fit.update(tokenizer_fit(tokenizer, texts))
    return fit
