"""Post-processing workflows: how anisotropic a space is before and after a transform fitted on the corpus, and
whether the transform helps a task (Spearman on scored sentence pairs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from vecexplore.embedder import Embedder
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.transforms import isotropy as iso
from vecexplore.transforms.sts import PairFile, transform_effect

SPECTRUM_SHOWN = 100  # principal components kept for the spectrum picture
ROGUE_SHOWN = 15  # dimensions kept for the rogue-dimension picture


@dataclass(frozen=True)
class IsotropyReport:
    """The metrics of ``eset`` before and after ``transform`` (fitted on it; ``after`` is None for ``none``), and,
    computed when first asked for, what the pictures show."""

    eset: EmbeddingSet
    transform: iso.PostProcessor
    transformed: EmbeddingSet
    before: dict
    after: dict | None

    @property
    def applied(self) -> bool:
        return self.after is not None

    @cached_property
    def label_agreement(self) -> tuple[int, float, float] | None:
        """``(k, before, after)``: the share of each text's k nearest neighbours that carry its label (None when
        the corpus has fewer than two labels)."""
        labels = self.eset.labels
        if labels is None or len(set(labels)) < 2:
            return None
        k = min(10, self.eset.n - 1)
        before = iso.knn_label_agreement(self.eset.vectors, labels, k)
        after = iso.knn_label_agreement(self.transformed.vectors, labels, k) if self.applied else before
        return k, before, after

    @cached_property
    def cosines(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Cosines of 20,000 random pairs, before and after."""
        after = iso.pairwise_cosines(self.transformed.vectors) if self.applied else None
        return iso.pairwise_cosines(self.eset.vectors), after

    @cached_property
    def spectra(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Explained-variance ratio of the first principal components, before and after."""
        after = iso.spectrum(self.transformed.vectors)[:SPECTRUM_SHOWN] if self.applied else None
        return iso.spectrum(self.eset.vectors)[:SPECTRUM_SHOWN], after

    @cached_property
    def rogue(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(dims, before, after)``: the dimensions contributing most to the mean cosine and their contribution
        before and after (after only for a transform that keeps the axes: not whitening)."""
        before = iso.rogue_dimensions(self.eset.vectors)
        top = np.argsort(-np.abs(before))[:ROGUE_SHOWN]
        keeps_axes = self.applied and self.transformed.dims == self.eset.dims and self.transform.name != "whiten"
        after = iso.rogue_dimensions(self.transformed.vectors)[top] if keeps_axes else None
        return top, before[top], after

    def to_dict(self) -> dict:
        tag = {"model": self.eset.model_id, "version": self.eset.model_version}
        if not self.applied:
            return {**tag, "transform": "none", **self.before}
        return {**tag, "transform": self.transform.spec, **self.after, "before": self.before,
                "notes": list(self.transform.notes_)}


def isotropy_report(eset: EmbeddingSet, transform: str = "none", k: int | None = 256, d: int = 3) -> IsotropyReport:
    """Anisotropy metrics of ``eset``, and after ``transform`` (none, center, abtt with ``d``, whiten with ``k``,
    zca) fitted on the same set."""
    if eset.n < 3:
        raise VecexploreError("Isotropy needs at least 3 texts; add more to the corpus.")
    fitted = iso.make_transform(transform, k=k, d=d).fit(eset)
    transformed = fitted.transform(eset)
    before = iso.metrics(eset.vectors)
    after = None if transform == "none" else iso.metrics(transformed.vectors)
    return IsotropyReport(eset, fitted, transformed, before, after)


@dataclass(frozen=True)
class StsEffect:
    """Spearman/Pearson of cosine against human scores with no transform and after each transform, fitted on
    the pairs and (if given) on a corpus; the pairs left out for a score outside the scale are counted, and the
    notes say how the file was read."""

    model: str
    rows: list[dict]
    n_out_of_range: int
    notes: tuple[str, ...] = ()

    def row(self, transform: str, fitted_on: str) -> dict:
        """The row of one transform (its name, as asked for) fitted on ``"the pairs"`` or ``"the corpus"``."""
        return next(r for r in self.rows if r["transform"].startswith(transform) and r["fitted on"] in
                    ("—", fitted_on))

    def to_dict(self) -> dict:
        return {"model": self.model, "rows": self.rows, "n_bad_rows": 0, "n_out_of_range": self.n_out_of_range,
                "notes": list(self.notes)}


def sts_effect(pairs: PairFile, embedder: Embedder, transforms: Sequence[tuple[str, dict]],
               fit_corpus: Sequence[str] | None = None) -> StsEffect:
    """The effect of each ``(name, params)`` transform on Spearman over ``pairs`` (texts embedded by
    ``embedder``), fitted on the pairs and, if given, on ``fit_corpus``."""
    return StsEffect(embedder.model_id, transform_effect(pairs, embedder.vectors, transforms, fit_corpus),
                     pairs.n_out_of_range, pairs.notes)
