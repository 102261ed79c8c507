"""The domain-shift workflow: how far corpus B sits from a reference corpus A in each model's space, in numbers
and in plain words, and which model keeps B's own labels apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vecexplore.cache import EmbedStats
from vecexplore.domains.shift import MIN_TEXTS, ShiftReport, compare_corpora
from vecexplore.embedder import Embedder
from vecexplore.embedding_set import EmbeddingSet, same_space
from vecexplore.errors import VecexploreError
from vecexplore.maps.neighbors import cosine_neighbors
from vecexplore.maps.projection import Projector
from vecexplore.models.compare import probe_accuracy
from vecexplore.transforms.isotropy import mean_cosine

CLEAR_P = 0.01  # significance levels: the conventional 1% and 5% (Fisher 1925)
SHIFT_P = 0.05
CLEAR_AUC = 0.9  # a classifier this good at telling A from B is "outstanding" (Hosmer & Lemeshow 2000, §5.2.4)


def verdict(stats: ShiftReport) -> str:
    """The reading of one model's statistics in plain words.

    Clearly separated: the MMD permutation test rejects "same distribution" at 1% and a held-out classifier tells
    the corpora apart with AUC above 0.9 (Lopez-Paz & Oquab 2017 for the classifier test). Differs measurably: either
    test rejects at 5%. With fewer than 10 texts on a side the tests have too little power to say anything."""
    if stats.n_a < MIN_TEXTS or stats.n_b < MIN_TEXTS:
        return "too few texts for the tests to say much"
    if stats.mmd_p_value < CLEAR_P and stats.c2st_auc > CLEAR_AUC:
        return "B is clearly separated from A"
    if stats.mmd_p_value < SHIFT_P or stats.c2st_p_value < SHIFT_P:
        return "B differs measurably from A, but overlaps it"
    return "B cannot be told apart from A"


@dataclass(frozen=True)
class ModelShift:
    """One model's view: the two corpora embedded, the statistics, anisotropy of each side, what the model could
    not see (unknown words, truncated texts) and the verdict."""

    a: EmbeddingSet
    b: EmbeddingSet
    stats_a: EmbedStats
    stats_b: EmbedStats
    stats: ShiftReport
    extra: dict

    @property
    def verdict(self) -> str:
        return verdict(self.stats)

    def to_dict(self) -> dict:
        return {**self.stats.to_dict(), **self.extra, "verdict": self.verdict}


@dataclass(frozen=True)
class DomainShiftReport:
    """Every model's view of A against B; with B's labels, how well each model keeps them apart (probe accuracy)."""

    models: dict[str, ModelShift]
    probes: dict[str, float] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        return list(dict.fromkeys(note for m in self.models.values() for note in m.stats.notes))

    @property
    def best_probe(self) -> str | None:
        return max(self.probes, key=self.probes.get) if self.probes else None

    def reading(self) -> list[tuple[str, str]]:
        """``(model, sentence)`` for each model: its verdict with the numbers behind it."""
        return [(m, f"{s.verdict} (AUC {s.stats.c2st_auc:.2f}, MMD p = {s.stats.mmd_p_value:.3f}).")
                for m, s in self.models.items()]

    def to_dict(self) -> dict:
        return {"models": {m: s.to_dict() for m, s in self.models.items()}, "probes": self.probes,
                "notes": self.notes}


def shift_report(texts_a: Sequence[str], texts_b: Sequence[str], embedders: Sequence[Embedder],
                 permutations: int = 200, seed: int = 0, labels_b: Sequence[str] | None = None) -> DomainShiftReport:
    """Corpus B against reference corpus A in the space of each of ``embedders``."""
    if list(texts_a) == list(texts_b):
        raise VecexploreError("The two corpora are identical: there is nothing to compare.")
    if not embedders:
        raise VecexploreError("Choose at least one model.")
    models = {}
    for embedder in {e.model_id: e for e in embedders}.values():
        set_a, stats_a = embedder.embed(texts_a)
        set_b, stats_b = embedder.embed(texts_b)
        same_space(set_a, set_b, "Corpora A and B")
        models[embedder.model_id] = _model_shift(set_a, set_b, stats_a, stats_b, permutations, seed)
    return _with_probes(models, labels_b)


def shift_sets(set_a: EmbeddingSet, set_b: EmbeddingSet, permutations: int = 200, seed: int = 0,
               name: str = "your vectors") -> DomainShiftReport:
    """Corpus B against reference corpus A given as vectors (a user's own, both from one model, which the sets'
    tags cannot show: they are checked for equal dims only), reported under ``name``; B's labels are probed."""
    if set_a.dims != set_b.dims:
        raise VecexploreError(f"A's vectors have {set_a.dims} dims but B's have {set_b.dims}: both must come from the "
                              "same model.")
    if set_a.n == set_b.n and np.array_equal(set_a.vectors, set_b.vectors):
        raise VecexploreError("The two sets of vectors are identical: there is nothing to compare.")
    imported = (EmbedStats(set_a.n, set_a.n, 0, 0.0), EmbedStats(set_b.n, set_b.n, 0, 0.0))
    return _with_probes({name: _model_shift(set_a, set_b, *imported, permutations, seed)}, set_b.labels)


def _model_shift(set_a: EmbeddingSet, set_b: EmbeddingSet, stats_a: EmbedStats, stats_b: EmbedStats,
                 permutations: int, seed: int) -> ModelShift:
    """One space's statistics, anisotropy of each side and what the model could not see."""
    stats = compare_corpora(set_a.vectors, set_b.vectors, permutations=permutations, seed=seed)
    extra = {"anisotropy_a": mean_cosine(set_a.vectors).mean, "anisotropy_b": mean_cosine(set_b.vectors).mean}
    for key, name in (("oov_share", "oov"), ("truncated_share", "truncated")):
        if key in set_b.info:
            extra[f"{name}_a"], extra[f"{name}_b"] = set_a.info[key], set_b.info[key]
    return ModelShift(set_a, set_b, stats_a, stats_b, stats, extra)


def _with_probes(models: dict[str, ModelShift], labels_b: Sequence[str] | None) -> DomainShiftReport:
    """The report, with how well each space keeps B's labels apart when B has two labels or more."""
    probes = {}
    if labels_b is not None and len(set(labels_b)) > 1:
        probes = {m: probe_accuracy(s.b.vectors, list(labels_b)) for m, s in models.items()}
    return DomainShiftReport(models, probes)


def shared_map(a: EmbeddingSet, b: EmbeddingSet) -> np.ndarray:
    """Both corpora on one PCA map (fitted on their union): A's rows first, then B's."""
    return Projector("pca").fit_transform(np.vstack([a.vectors, b.vectors]))


def furthest(a: EmbeddingSet, b: EmbeddingSet, n: int = 10) -> list[dict]:
    """B's ``n`` texts furthest from A: lowest cosine to their nearest text in A, with that text."""
    idx, sims = cosine_neighbors(a.vectors, b.vectors, 1)
    return [{"text in B": b.texts[i], "cosine to nearest A": float(sims[i, 0]), "nearest text in A": a.texts[idx[i, 0]]}
            for i in np.argsort(sims[:, 0], kind="stable")[:n]]
