"""The one data flow: corpus → encoder → cached, model-tagged vectors (used by the app and the CLI alike)."""

from __future__ import annotations

import hashlib

import numpy as np

from vecexplore.cache import EmbeddingCache, EmbedStats, embed
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import Encoder, Progress
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus

IMPORTED_ID = "imported"


def imported_set(corpus: Corpus) -> EmbeddingSet:
    """An embedding set from precomputed vectors: model id ``imported:<file name>``, version the hash of the
    vectors, ``info`` what the reader found out about them (a user's own vectors: file, dims, metric, unit length)."""
    version = "sha256:" + hashlib.sha256(np.ascontiguousarray(corpus.vectors).data).hexdigest()[:12]
    return EmbeddingSet(corpus.texts, corpus.vectors, f"{IMPORTED_ID}:{corpus.name}", version, corpus.labels,
                        corpus.vector_info or {})


def embed_corpus(corpus: Corpus, encoder: Encoder, cache: EmbeddingCache | None = None,
                 progress: Progress | None = None, batch_size: int = 64) -> tuple[EmbeddingSet, EmbedStats]:
    """Vectors for every text of ``corpus``, from ``cache`` where possible, with what the model could not see in
    the set's ``info`` (the encoder's diagnosis: truncated texts, unknown words) and how it ran (``backend``, its
    ``fidelity`` and ``backend_note``): what the pages and the CLI show beside every embedding."""
    eset, stats = embed(corpus.texts, encoder, labels=corpus.labels, cache=cache, batch_size=batch_size,
                        progress=progress)
    return eset.with_info(**encoder.diagnose(corpus.texts), backend=getattr(encoder, "backend", None),
                          fidelity=getattr(encoder, "fidelity_", None),
                          backend_note=getattr(encoder, "backend_note", None)), stats


def embed_queries(texts: list[str], encoder: Encoder, cache: EmbeddingCache | None = None) -> np.ndarray:
    """Vectors for queries and other new texts, refusing any the model cannot see: a text with no word the model
    knows gets the zero vector, which is equally far from everything, so its "nearest neighbours" would be noise."""
    vectors = embed(texts, encoder, cache=cache)[0].vectors
    blind = [t for t, v in zip(texts, vectors, strict=True) if not v.any()]
    if not blind:
        return vectors
    unknown = encoder.diagnose(blind[:1]).get("top_unknown") or []
    detail = f" (unknown: {', '.join(unknown[:5])})" if unknown else ""
    if len(texts) == 1:
        raise VecexploreError(f"{encoder.id} knows none of the words in {blind[0]!r}{detail}, so it has no vector "
                              "to search with: every text would score the same. Use words the model knows, or pick "
                              "a contextual model such as all-MiniLM-L6-v2.")
    examples = ", ".join(repr(t) for t in blind[:3])
    raise VecexploreError(f"{len(blind)} of {len(texts)} texts have no word {encoder.id} knows (e.g. {examples}"
                          f"{detail}): they have no vector to search with. Reword or remove them.")


def query_set(texts: list[str], encoder: Encoder, cache: EmbeddingCache | None = None) -> EmbeddingSet:
    """Queries embedded as :func:`embed_queries` does, as a set tagged with the model that made them (what the
    search store checks against a collection's tag)."""
    return EmbeddingSet(texts, embed_queries(texts, encoder, cache), encoder.id, encoder.version)
