"""The map workflow: project an embedding set to 2-D/3-D and say how far to trust the picture."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.projection import ProjectionCache, Projector, knn_kept, quality_k, trustworthiness


@dataclass(frozen=True)
class MapQuality:
    """Trustworthiness and the share of k-NN kept, at the neighbourhood size ``k`` the data allow (None: fewer
    than 5 texts), measured on ``sample`` texts (a seeded sample above ``max_points``)."""

    k: int | None
    trustworthiness: float | None
    knn_kept: float | None
    sample: int

    def to_dict(self) -> dict:
        if self.k is None:
            return {}
        return {"trustworthiness": self.trustworthiness, "knn_kept": self.knn_kept, "quality_k": self.k}


def map_quality(vectors: np.ndarray, coords: np.ndarray, k: int = 10, max_points: int | None = 5000) -> MapQuality:
    """Both quality scores of a map at ``k`` lowered below n/2 (trustworthiness' own condition)."""
    sample = len(vectors) if max_points is None else min(len(vectors), max_points)
    qk = quality_k(k, sample)
    if qk is None:
        return MapQuality(None, None, None, sample)
    return MapQuality(qk, trustworthiness(vectors, coords, qk, max_points=max_points),
                      knn_kept(vectors, coords, qk, max_points=max_points), sample)


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
