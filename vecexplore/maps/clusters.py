"""Clusters found in the original embedding space, named by their most distinctive words.

:class:`ClusterLabeler` clusters unit-length vectors (so clusters follow cosine similarity) with k-means or
HDBSCAN, fitted on a seeded sample and extended to every text, and names each cluster with class-based TF-IDF
(:class:`ClassTfidf`) or, for word-level models, with its most central words. :func:`cluster_levels` fits a
coarse and a fine level; :func:`label_purity` compares clusters with known labels; :func:`label_positions` says
where to write a cluster's name on a map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score
from sklearn.metrics.pairwise import cosine_distances
from threadpoolctl import threadpool_limits

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.numeric import check_array, l2_normalize, seeded_sample
from vecexplore.validation import check

METHODS = ("kmeans", "hdbscan")
GRANULARITIES = ("coarse", "fine")
NOISE = -1  # HDBSCAN's label for texts in no cluster
NOISE_NAME = "unclustered"
MAX_FIT = {"kmeans": 50_000, "hdbscan": 10_000}  # HDBSCAN holds all pairwise distances of its sample: n² memory
FINE_FACTOR = 3  # the fine level: 3× the k-means clusters, or HDBSCAN clusters a third of the size
AUTO_K = (2, 12)  # the k tried when n_clusters is None
AUTO_K_SAMPLE = 4_000  # texts k is chosen on (silhouette is quadratic in them)
N_INIT = 2  # k-means restarts (the best inertia is kept)
NAME_SAMPLE = 100_000  # texts whose words name the clusters
N_CENTRAL = 3  # central texts kept per cluster
CHUNK = 65_536  # rows assigned at a time (bounded memory on a million texts)
ASSIGNED = {"kmeans": "The other texts were assigned to the nearest k-means centre (as KMeans.predict does).",
            "hdbscan": "Each other text joins the cluster whose centroid is nearest (cosine) when it is at least as "
                       "close to it as that cluster's least central fitted text, and is unclustered otherwise."}


def _kmeans(k: int, random_state: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=N_INIT, random_state=random_state)


def choose_k(Xn: np.ndarray, random_state: int = 0) -> tuple[int, dict[int, float]]:
    """The k in :data:`AUTO_K` whose k-means clustering of the unit vectors ``Xn`` has the highest mean silhouette
    (cosine; the smaller k on a tie), and the silhouette of every k tried. Callers pass a sample
    (:data:`AUTO_K_SAMPLE` texts): silhouette compares every pair."""
    scores = {}
    distances = cosine_distances(Xn)  # once for every k
    for k in range(AUTO_K[0], min(AUTO_K[1], len(Xn) - 1) + 1):
        labels = _kmeans(k, random_state).fit_predict(Xn)
        if len(np.unique(labels)) > 1:  # duplicated vectors can leave fewer distinct clusters than k
            scores[k] = float(silhouette_score(distances, labels, metric="precomputed"))
    if not scores:
        raise VecexploreError("These vectors cannot be split into clusters (they all point the same way); "
                              "check the corpus or the model.")
    best = max(scores.values())
    return min(k for k, s in scores.items() if s == best), scores


class ClassTfidf:
    """Class-based TF-IDF (c-TF-IDF, as in BERTopic): how distinctive each word is of each class.

    Words are counted with scikit-learn's ``CountVectorizer`` (lower-cased, English stop words removed) and summed
    per class. For word t and class c: ``tf = count(t, c) / words in c``, ``idf = log(1 + A / f_t)`` with ``A``
    the mean number of words per class and ``f_t`` the count of t over all classes (BERTopic rounds ``A`` down to
    a whole number; here it is kept exact); the weight is ``tf · idf``.

    Attributes: ``classes_`` (sorted), ``vocabulary_`` (the words, sorted), ``idf_``, ``weights_`` (sparse,
    one row per class, one column per word).
    """

    def __init__(self, stop_words: str | None = "english") -> None:
        self.stop_words = stop_words

    def fit(self, texts: Sequence[str], classes: np.ndarray) -> ClassTfidf:
        classes = np.asarray(classes)
        if len(texts) != len(classes):
            raise VecexploreError(f"{len(texts)} texts but {len(classes)} classes: each text needs one class.")
        self.classes_, inverse = np.unique(classes, return_inverse=True)
        vectorizer = CountVectorizer(stop_words=self.stop_words)
        try:
            counts = vectorizer.fit_transform(texts)
            self.vocabulary_ = vectorizer.get_feature_names_out()
        except ValueError:  # no word left (only stop words, numbers of one digit, punctuation)
            counts = sparse.csr_matrix((len(texts), 0))
            self.vocabulary_ = np.array([], dtype=object)
        member = sparse.csr_matrix((np.ones(len(texts)), (inverse, np.arange(len(texts)))),
                                   shape=(len(self.classes_), len(texts)))
        per_class = (member @ counts).tocsr().astype(np.float64)
        words = np.asarray(per_class.sum(axis=1)).ravel()
        total = np.asarray(per_class.sum(axis=0)).ravel()
        self.idf_ = np.log1p(words.mean() / np.where(total > 0, total, 1.0))
        tf = sparse.diags(1.0 / np.where(words > 0, words, 1.0)) @ per_class
        self.weights_ = (tf @ sparse.diags(self.idf_)).tocsr()
        return self

    def top_words(self, n: int) -> dict:
        """Each class's ``n`` highest-weighted words, best first (equal weights in alphabetical order)."""
        out = {}
        for row, cls in enumerate(self.classes_):
            start, stop = self.weights_.indptr[row], self.weights_.indptr[row + 1]
            cols, weights = self.weights_.indices[start:stop], self.weights_.data[start:stop]
            out[cls.item()] = [str(self.vocabulary_[c]) for c in cols[np.lexsort((cols, -weights))][:n]]
        return out


class ClusterLabeler:
    """Cluster texts by their vectors and name each cluster (scikit-learn style).

    Vectors are scaled to unit length, so clusters follow cosine similarity. ``method``:

    - ``"kmeans"``: scikit-learn's ``KMeans`` with ``n_clusters`` clusters; None chooses k in :data:`AUTO_K` by the
      highest silhouette on a seeded sample of :data:`AUTO_K_SAMPLE` texts (the scores are in ``k_scores_``).
    - ``"hdbscan"``: scikit-learn's ``HDBSCAN`` (cosine), which finds the number of clusters itself and leaves
      texts in no cluster as :data:`NOISE` ("unclustered"); ``min_cluster_size`` is the smallest group it calls a
      cluster (None: 1/100 of the fitted texts, at least 5).

    ``granularity="fine"`` splits further: :data:`FINE_FACTOR` × ``n_clusters`` k-means clusters, or HDBSCAN with a
    third of ``min_cluster_size`` (at least 3; the parameters always describe the coarse level).

    Large sets: the clusters are fitted on a seeded sample of ``max_fit`` texts (default :data:`MAX_FIT`) and every
    other text is assigned to one (``notes_`` says how).

    Names: the top ``n_words`` c-TF-IDF words of each cluster (:class:`ClassTfidf`, the unclustered texts one more
    class as in BERTopic, counted on a seeded sample of at most :data:`NAME_SAMPLE` texts), the name being the first
    three joined by " · "; for word-level sets (every text one word; ``word_level=None`` detects it) the member
    words nearest the centroid instead.

    Attributes: ``labels_`` (cluster id per text, 0 the largest cluster, :data:`NOISE` for unclustered),
    ``ids_`` (the ids present, noise first), ``n_clusters_`` (clusters found, noise aside), ``k_`` (k-means'
    k, None for HDBSCAN), ``min_cluster_size_`` (HDBSCAN's, None for k-means), ``k_scores_`` (k → silhouette
    when k was chosen), ``centroids_`` (unit mean direction per cluster), ``centrality_`` (each text's cosine to
    its cluster's centroid; NaN when unclustered), ``sizes_``, ``central_`` (per cluster the rows of its
    :data:`N_CENTRAL` most central texts), ``top_words_``, ``names_``, ``word_level_``, ``fit_index_``, ``notes_``.
    """

    def __init__(self, method: str = "kmeans", n_clusters: int | None = None, granularity: str = "coarse",
                 min_cluster_size: int | None = None, n_words: int = 10, word_level: bool | None = None,
                 max_fit: int | None = None, random_state: int = 0) -> None:
        self.method = method
        self.n_clusters = n_clusters
        self.granularity = granularity
        self.min_cluster_size = min_cluster_size
        self.n_words = n_words
        self.word_level = word_level
        self.max_fit = max_fit
        self.random_state = random_state

    def _check(self, X: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        if self.method not in METHODS:
            raise VecexploreError(f"Unknown clustering method {self.method!r}; choose one of {', '.join(METHODS)}.")
        if self.granularity not in GRANULARITIES:
            raise VecexploreError(f"Unknown granularity {self.granularity!r}; choose coarse or fine.")
        if self.n_clusters is not None:
            if self.method != "kmeans":
                raise VecexploreError("HDBSCAN finds the number of clusters itself; set min_cluster_size instead "
                                      "of a number of clusters.")
            check("clusters", self.n_clusters, "The number of clusters")
        if self.min_cluster_size is not None:
            if self.method != "hdbscan":
                raise VecexploreError("min_cluster_size is HDBSCAN's; k-means takes a number of clusters.")
            check("min_cluster_size", self.min_cluster_size, "HDBSCAN's min_cluster_size")
        check("cluster_words", self.n_words, "Words per cluster")
        check("seed", self.random_state, "The random seed")
        if self.max_fit is not None and self.max_fit < 100:
            raise VecexploreError("max_fit must be at least 100 texts.")
        X = check_array(X, min_rows=0, dtype=np.float32)
        if len(texts) != len(X):
            raise VecexploreError(f"{len(texts)} texts but {len(X)} vectors: each text needs exactly one vector.")
        needed = max(3, self.n_clusters or 0, self.min_cluster_size or 0)
        if len(X) < needed:
            what = (f"{self.n_clusters} clusters" if self.n_clusters and self.n_clusters >= 3 else
                    f"clusters of at least {self.min_cluster_size} texts" if self.min_cluster_size else "clusters")
            raise VecexploreError(f"Finding {what} needs at least {needed} texts (got {len(X)}); add texts or "
                                  "ask for fewer, smaller clusters.")
        return X

    def fit(self, X: np.ndarray, texts: Sequence[str]) -> ClusterLabeler:
        """Cluster the vectors ``X`` (one row per text of ``texts``) and name the clusters."""
        X = self._check(X, texts)
        n = len(X)
        self.notes_: list[str] = []
        self.fit_index_ = seeded_sample(n, self.max_fit or MAX_FIT[self.method], self.random_state)
        sample = l2_normalize(X[self.fit_index_])
        # One thread: with two, scikit-learn's k-means ran 5-10x slower on 2 cores shared with other work.
        with threadpool_limits(1):
            fit_labels = self._fit_kmeans(sample) if self.method == "kmeans" else self._fit_hdbscan(sample)
        if len(self.fit_index_) < n:
            self.notes_.append(f"{'k-means' if self.method == 'kmeans' else 'HDBSCAN'} was fitted on a seeded "
                               f"sample of {len(self.fit_index_):,} of the {n:,} texts. {ASSIGNED[self.method]}")
        labels, centrality = self._assign_all(X, fit_labels)
        self._renumber(labels)
        self.labels_ = self._order[labels + 1]
        self.centrality_ = centrality
        self.ids_ = np.unique(self.labels_)
        self.sizes_ = {int(c): int(s) for c, s in zip(*np.unique(self.labels_, return_counts=True), strict=True)}
        self._name(texts)
        return self

    def fit_predict(self, X: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """``fit``, then each text's cluster id."""
        return self.fit(X, texts).labels_

    def _fit_kmeans(self, sample: np.ndarray) -> None:
        """Fit k-means on the unit vectors ``sample``; every text is then assigned to its nearest centre."""
        self.min_cluster_size_ = None
        self.k_scores_: dict[int, float] = {}
        k = self.n_clusters
        if k is None:
            k, self.k_scores_ = choose_k(sample[seeded_sample(len(sample), AUTO_K_SAMPLE, self.random_state)],
                                         self.random_state)
            self.notes_.append(f"k = {k} chosen by the highest silhouette (cosine) among k = "
                               f"{min(self.k_scores_)}…{max(self.k_scores_)}"
                               + (f", on a seeded sample of {AUTO_K_SAMPLE:,} texts." if len(sample) > AUTO_K_SAMPLE
                                  else "."))
        if self.granularity == "fine":
            fine = min(FINE_FACTOR * k, len(sample))
            if fine < FINE_FACTOR * k:
                self.notes_.append(f"The fine level has {fine} clusters rather than {FINE_FACTOR * k} "
                                   f"({len(sample)} texts).")
            k = fine
        model = _kmeans(k, self.random_state).fit(sample)
        self.k_ = k
        self._centres = model.cluster_centers_.astype(np.float32)
        self.centroids_ = l2_normalize(self._centres)

    def _fit_hdbscan(self, sample: np.ndarray) -> np.ndarray:
        """Fit HDBSCAN on the unit vectors ``sample``; its labels, which the sample keeps."""
        self.k_ = None
        self.k_scores_ = {}
        size = self.min_cluster_size or max(5, len(sample) // 100)
        if self.granularity == "fine":
            size = max(3, size // FINE_FACTOR)
        self.min_cluster_size_ = min(size, len(sample))
        labels = HDBSCAN(min_cluster_size=self.min_cluster_size_, metric="cosine", algorithm="brute",
                         copy=True).fit_predict(sample)
        found = np.unique(labels[labels != NOISE])
        self.centroids_ = l2_normalize(np.stack([sample[labels == c].mean(axis=0) for c in found])
                                       if len(found) else np.zeros((0, sample.shape[1]), dtype=np.float32))
        own = np.einsum("ij,ij->i", sample[labels != NOISE], self.centroids_[labels[labels != NOISE]])
        self._radius = np.array([own[labels[labels != NOISE] == c].min() for c in found], dtype=np.float32)
        if not len(found):
            self.notes_.append(f"HDBSCAN found no group of {self.min_cluster_size_} or more similar texts: every "
                               "text is unclustered. Lower min_cluster_size.")
        return labels

    def _assign(self, Xn: np.ndarray) -> np.ndarray:
        """The cluster of each unit vector (before renumbering)."""
        if not len(self.centroids_):
            return np.full(len(Xn), NOISE)
        if self.method == "kmeans":  # KMeans.predict: the nearest centre (euclidean, to the unnormalised centres)
            return np.argmax(Xn @ self._centres.T - 0.5 * (self._centres**2).sum(axis=1), axis=1)
        sims = Xn @ self.centroids_.T
        labels = sims.argmax(axis=1)
        return np.where(sims[np.arange(len(Xn)), labels] >= self._radius[labels], labels, NOISE)

    def _assign_all(self, X: np.ndarray, fit_labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Every text's cluster (HDBSCAN's own label for its fitted sample) and cosine to that cluster's centroid,
        :data:`CHUNK` rows at a time."""
        labels = np.empty(len(X), dtype=np.int64)
        centrality = np.full(len(X), np.nan, dtype=np.float32)
        for start in range(0, len(X), CHUNK):
            Xn = l2_normalize(X[start:start + CHUNK])
            chunk = self._assign(Xn)
            clustered = chunk != NOISE
            centrality[start:start + CHUNK][clustered] = np.einsum("ij,ij->i", Xn[clustered],
                                                                   self.centroids_[chunk[clustered]])
            labels[start:start + CHUNK] = chunk
        if fit_labels is not None:
            labels[self.fit_index_] = fit_labels
            sample = l2_normalize(X[self.fit_index_])
            clustered = fit_labels != NOISE
            centrality[self.fit_index_] = np.nan
            centrality[self.fit_index_[clustered]] = np.einsum("ij,ij->i", sample[clustered],
                                                               self.centroids_[fit_labels[clustered]])
        return labels, centrality

    def _renumber(self, labels: np.ndarray) -> None:
        """Number the clusters by size, largest first (``_order`` maps old id + 1 to new id; noise stays)."""
        sizes = np.bincount(labels[labels != NOISE], minlength=len(self.centroids_))
        by_size = np.lexsort((np.arange(len(sizes)), -sizes))
        self._order = np.concatenate([[NOISE], np.argsort(by_size)])
        self.centroids_ = self.centroids_[by_size]
        if self.method == "kmeans":
            self._centres = self._centres[by_size]
        else:
            self._radius = self._radius[by_size]
        self.n_clusters_ = int((sizes > 0).sum())

    def _name(self, texts: Sequence[str]) -> None:
        n = len(self.labels_)
        clustered = np.flatnonzero(self.labels_ != NOISE)
        self.word_level_ = (all(len(t.split()) == 1 for t in texts) if self.word_level is None
                            else self.word_level)
        top = max(N_CENTRAL, self.n_words if self.word_level_ else 0)
        order = clustered[np.lexsort((clustered, -self.centrality_[clustered], self.labels_[clustered]))]
        starts = np.searchsorted(self.labels_[order], self.ids_[self.ids_ != NOISE])
        nearest = {int(c): order[s:s + min(top, self.sizes_[int(c)])]
                   for c, s in zip(self.ids_[self.ids_ != NOISE], starts, strict=True)}
        self.central_ = {c: rows[:N_CENTRAL] for c, rows in nearest.items()}
        if self.word_level_:
            self.top_words_ = {c: list(dict.fromkeys(texts[i] for i in rows))[: self.n_words]
                               for c, rows in nearest.items()}
            self.notes_.append("Every text is one word: each cluster is named by its words nearest its centroid.")
        else:
            rows = seeded_sample(n, NAME_SAMPLE, self.random_state)
            words = ClassTfidf().fit([texts[i] for i in rows], self.labels_[rows]).top_words(self.n_words)
            self.top_words_ = {c: words.get(c, []) for c in nearest}
            if len(rows) < n:
                self.notes_.append(f"Cluster names come from the words of a seeded sample of {len(rows):,} texts "
                                   "(c-TF-IDF).")
        self.names_ = {c: " · ".join(w[:3]) or f"cluster {c}" for c, w in self.top_words_.items()}
        if NOISE in self.sizes_:
            self.top_words_[NOISE], self.central_[NOISE] = [], np.zeros(0, dtype=int)
            self.names_[NOISE] = NOISE_NAME


def cluster_levels(eset: EmbeddingSet, method: str = "kmeans", n_clusters: int | None = None,
                   min_cluster_size: int | None = None, **params) -> dict[str, ClusterLabeler]:
    """A coarse and a fine clustering of ``eset`` (``{"coarse": ..., "fine": ...}``, both fitted): the fine level
    reuses the coarse level's k (k-means, chosen once when ``n_clusters`` is None) or min_cluster_size (HDBSCAN).
    ``params`` go to :class:`ClusterLabeler`."""
    coarse = ClusterLabeler(method, n_clusters, "coarse", min_cluster_size, **params).fit(eset.vectors, eset.texts)
    fine = ClusterLabeler(method, coarse.k_, "fine", coarse.min_cluster_size_, **params)
    return {"coarse": coarse, "fine": fine.fit(eset.vectors, eset.texts)}


@dataclass(frozen=True)
class Purity:
    """How well clusters match known labels: per cluster id its ``majority`` label and the ``share`` of its texts
    carrying it; ``overall``: the share of clustered texts (unclustered aside) carrying their cluster's majority
    label, i.e. the size-weighted mean of ``share`` (None when no text is clustered)."""

    majority: dict[int, str]
    share: dict[int, float]
    overall: float | None


def label_purity(clusters: np.ndarray, labels: Sequence[str]) -> Purity:
    """:class:`Purity` of cluster ids ``clusters`` against ``labels`` (one per text; equal counts: the label that
    sorts first is the majority)."""
    clusters = np.asarray(clusters)
    if len(labels) != len(clusters):
        raise VecexploreError(f"{len(labels)} labels for {len(clusters)} texts.")
    codes, names = pd.factorize(pd.Series(labels, dtype=str), sort=True)
    ids, rows = np.unique(clusters, return_inverse=True)
    table = sparse.csr_matrix((np.ones(len(codes)), (rows, codes)), shape=(len(ids), len(names)))
    top = np.asarray(table.argmax(axis=1)).ravel()
    hits = np.asarray(table.max(axis=1).todense()).ravel()
    sizes = np.asarray(table.sum(axis=1)).ravel()
    clustered = ids != NOISE
    overall = float(hits[clustered].sum() / sizes[clustered].sum()) if clustered.any() else None
    return Purity({int(c): str(names[t]) for c, t in zip(ids, top, strict=True)},
                  {int(c): float(h / s) for c, h, s in zip(ids, hits, sizes, strict=True)}, overall)


def label_positions(coords: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Where to write each cluster's name on a map: per cluster id (unclustered aside) the median of its
    members' map coordinates ``coords`` (one row per text)."""
    coords = np.asarray(coords)
    labels = np.asarray(labels)
    if len(coords) != len(labels):
        raise VecexploreError(f"{len(coords)} map points for {len(labels)} cluster labels.")
    order = np.argsort(labels, kind="stable")
    ids, starts = np.unique(labels[order], return_index=True)
    groups = np.split(order, starts[1:])
    return {int(c): np.median(coords[g], axis=0) for c, g in zip(ids, groups, strict=True) if c != NOISE}
