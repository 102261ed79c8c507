"""The map workflow: project an embedding set to 2-D/3-D, say how far to trust the picture (overall and text by
text), and name the clusters it shows."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.maps.clusters import ClusterLabeler, Purity, label_purity
from vecexplore.maps.projection import (
    EXACT_KEPT,
    MapQuality,
    PointsKept,
    ProjectionCache,
    Projector,
    knn_kept_per_point,
    map_quality,
    quality_k,
)


@dataclass(frozen=True)
class MapReport:
    """A fitted map of ``eset`` with its quality; ``seconds`` is the fit alone (0 when it came from the cache)."""

    eset: EmbeddingSet
    projector: Projector
    quality: MapQuality
    seconds: float
    from_cache: bool
    notes: tuple[str, ...]

    @property
    def coords(self) -> np.ndarray:
        return self.projector.embedding_

    @property
    def method(self) -> str:
        """The method actually used (PCA when too few texts for UMAP or t-SNE)."""
        return self.projector.method_

    def to_dict(self) -> dict:
        return {"n": self.eset.n, "dims": self.eset.dims, "model": self.eset.model_id,
                "version": self.eset.model_version, "method": self.method,
                "n_components": self.projector.n_components, "seconds": round(self.seconds, 3),
                **self.quality.to_dict(), "notes": list(self.notes)}


def map_report(eset: EmbeddingSet, projector: Projector, k: int = 10, max_points: int | None = 5000,
               cache: ProjectionCache | None = None) -> MapReport:
    """Fit ``projector`` on ``eset`` (or read it from ``cache``) and measure the map at ``k`` neighbours."""
    start = time.perf_counter()
    fitted, hit = cache.fit(eset.vectors, projector) if cache is not None else (projector.fit(eset.vectors), False)
    seconds = time.perf_counter() - start
    quality = map_quality(eset.vectors, fitted.embedding_, k, max_points)
    notes = list(fitted.notes_)
    if quality.k is None:
        notes.append(f"Trustworthiness and k-NN kept need at least 5 texts (got {eset.n}).")
    elif quality.k < k:
        notes.append(f"k lowered from {k} to {quality.k}: trustworthiness needs k < n/2 ({quality.sample} texts).")
    return MapReport(eset, fitted, quality, 0.0 if hit else seconds, hit, tuple(notes))


@dataclass(frozen=True)
class Faithfulness:
    """How well the map keeps each text's neighbourhood: per scored text the share of its ``k`` cosine nearest
    neighbours (original space) that are also among its ``k`` nearest on the map (see ``knn_kept_per_point``)."""

    eset: EmbeddingSet
    k: int
    points: PointsKept
    notes: tuple[str, ...]

    def per_point(self) -> np.ndarray:
        """One share per text of the set, NaN for texts outside the scored sample."""
        out = np.full(self.eset.n, np.nan)
        out[self.points.index] = self.points.kept
        return out

    @property
    def mean(self) -> float:
        """The mean share: ``knn_kept`` on the same texts."""
        return float(self.points.kept.mean())

    @property
    def share_below_half(self) -> float:
        """The share of scored texts that kept fewer than half their neighbours."""
        return float((self.points.kept < 0.5).mean())

    def worst(self, n: int = 10) -> list[dict]:
        """The ``n`` texts whose neighbourhoods the map keeps least, worst first, each with its true neighbours."""
        texts = self.eset.texts
        return [{"index": int(self.points.index[i]), "text": texts[self.points.index[i]],
                 "kept": float(self.points.kept[i]),
                 "true_neighbours": [texts[j] for j in self.points.neighbours[i]]} for i in self.points.worst(n)]

    def to_dict(self, worst: int = 10) -> dict:
        return {"k": self.k, "scored": len(self.points.index), "mean": self.mean,
                "share_below_half": self.share_below_half, "worst": self.worst(worst), "notes": list(self.notes)}


def faithfulness(eset: EmbeddingSet, coords: np.ndarray, k: int = 10, max_points: int | None = EXACT_KEPT,
                 seed: int = 0) -> Faithfulness:
    """:class:`Faithfulness` of the map ``coords`` of ``eset`` at ``k`` neighbours (lowered below n/2 as for
    :func:`map_quality`, so its mean equals ``knn_kept`` there): every text up to ``max_points``, else a seeded
    sample whose neighbours are searched among the sample."""
    sample = eset.n if max_points is None else min(eset.n, max_points)
    qk = quality_k(k, sample)
    if qk is None:
        raise VecexploreError(f"Per-text faithfulness needs at least 5 texts (got {eset.n}).")
    notes = []
    if qk < k:
        notes.append(f"k lowered from {k} to {qk} ({sample} texts).")
    if sample < eset.n:
        notes.append(f"Scored on a seeded sample of {sample:,} of the {eset.n:,} texts, each against the sample's "
                     "own neighbours; the other texts have no score.")
    return Faithfulness(eset, qk, knn_kept_per_point(eset.vectors, coords, qk, max_points, seed), tuple(notes))


@dataclass(frozen=True)
class ClusterReport:
    """Clusters of ``eset`` found in the original space, named, with their purity against the set's labels
    (None without labels); ``seconds`` is the clustering and naming."""

    eset: EmbeddingSet
    labeler: ClusterLabeler
    granularity: str
    purity: Purity | None
    seconds: float

    @property
    def labels(self) -> np.ndarray:
        """Each text's cluster id (-1: unclustered)."""
        return self.labeler.labels_

    def clusters(self) -> list[dict]:
        """One row per cluster, largest first, unclustered last: id, name, size, top words, the central texts,
        purity and majority label (None without labels)."""
        fitted = self.labeler
        ids = [int(c) for c in fitted.ids_ if c >= 0] + [int(c) for c in fitted.ids_ if c < 0]
        return [{"id": c, "name": fitted.names_[c], "size": fitted.sizes_[c], "top_words": fitted.top_words_[c],
                 "central_texts": [self.eset.texts[i] for i in fitted.central_[c]],
                 "purity": self.purity.share[c] if self.purity else None,
                 "majority_label": self.purity.majority[c] if self.purity else None} for c in ids]

    def to_dict(self) -> dict:
        fitted = self.labeler
        return {"n": self.eset.n, "model": self.eset.model_id, "version": self.eset.model_version,
                "method": fitted.method, "granularity": self.granularity, "k": fitted.k_,
                "min_cluster_size": fitted.min_cluster_size_, "n_clusters": fitted.n_clusters_,
                "k_scores": [{"k": k, "silhouette": s} for k, s in fitted.k_scores_.items()],
                "word_level": fitted.word_level_, "overall_purity": self.purity.overall if self.purity else None,
                "seconds": round(self.seconds, 3), "notes": list(fitted.notes_), "clusters": self.clusters()}


def cluster_report(eset: EmbeddingSet, method: str = "kmeans", n_clusters: int | None = None,
                   granularity: str = "coarse", min_cluster_size: int | None = None, n_words: int = 10,
                   word_level: bool | None = None, random_state: int = 0) -> ClusterReport:
    """Cluster ``eset`` with :class:`ClusterLabeler` (its parameters), name the clusters, and measure their purity
    against ``eset.labels`` when it has labels."""
    start = time.perf_counter()
    fitted = ClusterLabeler(method, n_clusters, granularity, min_cluster_size, n_words, word_level,
                            random_state=random_state).fit(eset.vectors, eset.texts)
    purity = label_purity(fitted.labels_, eset.labels) if eset.labels is not None else None
    return ClusterReport(eset, fitted, granularity, purity, time.perf_counter() - start)
