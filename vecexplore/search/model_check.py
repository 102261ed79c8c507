"""Text queries on a user's own vectors: only from the model the user names as the one that made them, and only
once that model has reproduced them. :func:`check_model` embeds a seeded sample of the rows that have a text
(:data:`SAMPLE_ROWS`) with the named model and measures the cosine of each new vector with the stored one;
:func:`named_model_set` refuses the model unless every cosine reaches :data:`REPRODUCE_COSINE`, and otherwise
returns the vectors tagged with that model (so the store accepts its queries). The Search page, the command line
(``--vectors-model``) and the notebook API (``vecexplore.embedding(vectors, vectors_model=...)``) all call it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vecexplore.embedder import Embedder
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.numeric import cosine, seeded_sample

REPRODUCE_COSINE = 0.99  # every sampled row's cosine (new vector, stored vector) must reach this
SAMPLE_ROWS = 32  # rows embedded again to check the named model


@dataclass(frozen=True)
class ModelCheck:
    """How well ``model_id`` reproduced the stored vectors on ``rows`` sampled rows (seed ``seed``)."""

    model_id: str
    rows: int
    seed: int
    min_cosine: float
    median_cosine: float
    threshold: float = REPRODUCE_COSINE

    @property
    def passed(self) -> bool:
        return self.min_cosine >= self.threshold

    def sentence(self) -> str:
        """The check in one sentence (what the page shows before searching)."""
        measured = (f"cosine of its vectors with yours on {self.rows} sampled rows (seed {self.seed}): min "
                    f"{self.min_cosine:.4f}, median {self.median_cosine:.4f}; {self.threshold} needed")
        if self.passed:
            return f"{self.model_id} reproduces your vectors: {measured}. Text queries are embedded by it."
        return f"{self.model_id} does not reproduce your vectors: {measured}."

    def to_dict(self) -> dict:
        return {"model": self.model_id, "rows": self.rows, "seed": self.seed, "min_cosine": round(self.min_cosine, 4),
                "median_cosine": round(self.median_cosine, 4), "threshold": self.threshold, "passed": self.passed}


def check_model(eset: EmbeddingSet, embedder: Embedder, rows: int = SAMPLE_ROWS, seed: int = 0) -> ModelCheck:
    """Embed up to ``rows`` of ``eset``'s texts (a seeded sample of the rows that have one) with ``embedder`` and
    compare each vector with the stored one; a model of another width, or vectors without texts, are refused."""
    if eset.info.get("text_column", "") is None:
        raise VecexploreError("These vectors came without their texts (the points are named by row), so no model can "
                              "be checked against them: open them with the table of their texts to search by text.")
    with_text = np.flatnonzero([bool(t.strip()) for t in eset.texts])
    if not with_text.size:
        raise VecexploreError("No row of these vectors has a text, so no model can be checked against them.")
    picked = with_text[seeded_sample(len(with_text), rows, seed)]
    made = embedder.vectors([eset.texts[i] for i in picked])
    if made.shape[1] != eset.dims:
        raise VecexploreError(f"{embedder.model_id} makes {made.shape[1]}-d vectors but yours have {eset.dims} "
                              "dimensions, so it cannot have made them: name the model that did.")
    cosines = cosine(made, eset.vectors[picked])
    return ModelCheck(embedder.model_id, len(picked), seed, float(cosines.min()), float(np.median(cosines)))


def named_model_set(eset: EmbeddingSet, embedder: Embedder, rows: int = SAMPLE_ROWS,
                    seed: int = 0) -> tuple[EmbeddingSet, ModelCheck]:
    """``eset``'s vectors tagged with ``embedder``'s model (id and version, as its queries are), once
    :func:`check_model` shows the model reproduces them; else a refusal with the measured cosines."""
    check = check_model(eset, embedder, rows, seed)
    if not check.passed:
        raise VecexploreError(f"{check.sentence()} A text query embedded by it would land in another space than "
                              "your vectors. Name the model (and version) that made them, or search by example "
                              "(a text of the corpus) instead.")
    encoder = embedder.encoder()
    info = {**eset.info, "model_check": check.to_dict(), "opened_as": eset.model_id}
    return EmbeddingSet(eset.texts, eset.vectors, encoder.id, encoder.version, eset.labels, info), check
