"""Model comparison workflows: the same texts in several models (agreement, quality, speed), two models side by
side (aligned maps, where they disagree), and a linear translation from one space to another."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.maps.neighbors import cosine_neighbors
from vecexplore.maps.projection import Projector
from vecexplore.models.compare import (
    TranslationReport,
    align,
    common_texts,
    compare_sets,
    evaluate_translation,
    knn_jaccard,
)


@dataclass(frozen=True)
class ComparisonReport:
    """Per pair of models: CKA, RSA, mean k-NN Jaccard; per model: size, speed (when measured) and, with labels,
    probe accuracy, k-NN label accuracy and silhouette — on the texts every model could embed (``sets``)."""

    sets: dict[str, EmbeddingSet]
    pairs: list[dict]
    quality: dict[str, dict]
    info: dict[str, dict]
    notes: list[str]

    @property
    def n(self) -> int:
        return next(iter(self.sets.values())).n

    def to_dict(self) -> dict:
        return {"n": self.n, "models": {m: {**self.info.get(m, {}), **self.quality.get(m, {})} for m in self.sets},
                "pairs": self.pairs, "notes": self.notes}


def comparison_report(sets: dict[str, EmbeddingSet], k: int = 10, info: dict[str, dict] | None = None,
                      max_points: int = 2000) -> ComparisonReport:
    """Compare the spaces of two or more models on the same texts (``info``: what is known of each model beyond
    its vectors, e.g. measured speed)."""
    if len(sets) < 2:
        raise VecexploreError("Choose at least two different models to compare.")
    sets, notes = common_texts(sets)
    n = next(iter(sets.values())).n
    if k >= n:
        raise VecexploreError(f"k = {k} must be smaller than the {n} texts; lower it.")
    pairs, quality = compare_sets(sets, k=k, max_points=max_points)
    info = {m: {"dims": e.dims, "bytes_per_vector": 4 * e.dims, **(info or {}).get(m, {})} for m, e in sets.items()}
    return ComparisonReport(sets, pairs, quality, info, notes)


@dataclass(frozen=True)
class SideBySide:
    """Two models' maps of the same texts, the right one aligned onto the left (orthogonal Procrustes), each
    text's k-NN Jaccard between the spaces, and the texts whose neighbourhoods differ most."""

    left: str
    right: str
    k: int
    jaccard: np.ndarray
    left_map: np.ndarray
    right_map: np.ndarray
    disagreements: list[dict]

    @property
    def mean_jaccard(self) -> float:
        return float(self.jaccard.mean())


def side_by_side(left: EmbeddingSet, right: EmbeddingSet, k: int = 10, method: str = "pca", n_worst: int = 10,
                 neighbours: int = 5) -> SideBySide:
    """``left`` and ``right`` (the same texts in two models) mapped with ``method``, aligned, and compared."""
    if left.texts != right.texts:
        raise VecexploreError("Side by side needs the same texts in both models.")
    jaccard = knn_jaccard(left.vectors, right.vectors, k)
    left_map = Projector(method).fit_transform(left.vectors)
    right_map = align(left_map, Projector(method).fit_transform(right.vectors))
    everyone = np.arange(left.n)
    near_left, _ = cosine_neighbors(left.vectors, left.vectors, neighbours, exclude=everyone)
    near_right, _ = cosine_neighbors(right.vectors, right.vectors, neighbours, exclude=everyone)
    texts = left.texts
    worst = np.argsort(jaccard, kind="stable")[:n_worst]
    rows = [{"text": texts[i], "jaccard": float(jaccard[i]),
             f"neighbours in {left.model_id}": " | ".join(texts[j] for j in near_left[i]),
             f"neighbours in {right.model_id}": " | ".join(texts[j] for j in near_right[i])} for i in worst]
    return SideBySide(left.model_id, right.model_id, k, jaccard, left_map, right_map, rows)


def translation_report(source: EmbeddingSet, target: EmbeddingSet, method: str = "lstsq") -> TranslationReport:
    """A linear map from ``source``'s space to ``target``'s, fitted on part of their common texts and tested on
    the rest (mean cosine, top-1 / top-10 retrieval of the text's own vector)."""
    if source.texts != target.texts:
        raise VecexploreError("A translation is fitted on the same texts in both models.")
    return evaluate_translation(source.vectors, target.vectors, method)
