"""The one data flow: corpus → encoder → cached, model-tagged vectors (used by the app and the CLI alike)."""

from __future__ import annotations

import hashlib

from vecexplore.cache import EmbeddingCache, EmbedStats, embed
from vecexplore.corpus import Corpus
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import Encoder, Progress

IMPORTED_ID = "imported"


def imported_set(corpus: Corpus) -> EmbeddingSet:
    """An embedding set from precomputed vectors; its version is the hash of the vectors."""
    version = "sha256:" + hashlib.sha256(corpus.vectors.tobytes()).hexdigest()[:12]
    return EmbeddingSet(corpus.texts, corpus.vectors, f"{IMPORTED_ID}:{corpus.name}", version, corpus.labels)


def embed_corpus(corpus: Corpus, encoder: Encoder, cache: EmbeddingCache | None = None,
                 progress: Progress | None = None, batch_size: int = 64) -> tuple[EmbeddingSet, EmbedStats]:
    """Vectors for every text of ``corpus``, from ``cache`` where possible."""
    return embed(corpus.texts, encoder, labels=corpus.labels, cache=cache, batch_size=batch_size,
                 progress=progress)
