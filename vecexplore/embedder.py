"""An :class:`Embedder`: a model ready to embed any corpus — its id, the backend it runs on, the cache its vectors
go to. Beside :class:`~vecexplore.embedding_set.EmbeddingSet` it is the one input type of the workflows: a report
that has to embed texts (queries, pairs, a second corpus, a fine-tuned copy) takes an Embedder, never a path, an
encoder object or a callable."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from vecexplore.cache import EmbeddingCache, EmbedStats, embed
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import Encoder, Progress, load_encoder
from vecexplore.files.corpus import Corpus
from vecexplore.pipeline import embed_corpus, query_set


class Embedder:
    """Model ``model_id`` on ``backend``, its vectors read from and written to ``cache`` (None: no cache).

    The encoder is built on first use (``fit_texts``: what ``tfidf-lsa`` is fitted on); ``loader`` builds it
    instead, e.g. the app's process-wide copy. ``name`` is what reports call it (default the model id; the report
    card names a backend variant ``model@backend``). ``load_seconds_`` is how long that first build took."""

    def __init__(self, model_id: str, backend: str = "auto", cache: EmbeddingCache | None = None,
                 fit_texts: Sequence[str] | None = None, loader: Callable[[], Encoder] | None = None,
                 name: str | None = None) -> None:
        self.model_id = model_id
        self.name = name or model_id
        self.backend = backend
        self.cache = cache
        self.fit_texts = fit_texts
        self.loader = loader
        self._encoder: Encoder | None = None
        self.load_seconds_: float | None = None

    @classmethod
    def of(cls, encoder: Encoder, cache: EmbeddingCache | None = None) -> Embedder:
        """An Embedder around an encoder already built (tests, and the fine-tuning lab's fresh model)."""
        made = cls(encoder.id, getattr(encoder, "backend", "auto") or "auto", cache, loader=lambda: encoder)
        made._encoder, made.load_seconds_ = encoder, 0.0
        return made

    def __repr__(self) -> str:
        return f"Embedder({self.name!r}, backend={self.backend!r})"

    def encoder(self) -> Encoder:
        """The model, built once."""
        if self._encoder is None:
            start = time.perf_counter()
            self._encoder = self.loader() if self.loader is not None else \
                load_encoder(self.model_id, self.fit_texts, backend=self.backend)
            self.load_seconds_ = time.perf_counter() - start
        return self._encoder

    def sibling(self, model_id: str, loader: Callable[[], Encoder] | None = None) -> Embedder:
        """Another model on the same backend and cache (the fine-tuned copy of this one, say)."""
        return Embedder(model_id, self.backend, self.cache, self.fit_texts, loader)

    def embed(self, corpus: Corpus | Sequence[str], progress: Progress | None = None) -> tuple[EmbeddingSet,
                                                                                              EmbedStats]:
        """Every text of ``corpus`` embedded, with what the model could not see in the set's ``info``."""
        if not isinstance(corpus, Corpus):
            corpus = Corpus(list(corpus))
        return embed_corpus(corpus, self.encoder(), cache=self.cache, progress=progress)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` (pairs, a probe list): no diagnosis, cached."""
        return embed(list(texts), self.encoder(), cache=self.cache)[0].vectors

    def queries(self, texts: Sequence[str]) -> EmbeddingSet:
        """Queries as a set tagged with this model, refusing any the model cannot see (see ``query_set``)."""
        return query_set(list(texts), self.encoder(), cache=self.cache)

    def diagnose(self, texts: Sequence[str]) -> dict:
        """What the model cannot see in ``texts`` (truncation, unknown words)."""
        return self.encoder().diagnose(list(texts))

    def texts_per_second(self, texts: Sequence[str]) -> float:
        """Texts per second on ``texts`` without the cache, after a short warm-up."""
        encoder = self.encoder()
        encoder.encode(list(texts[:8]))
        start = time.perf_counter()
        encoder.encode(list(texts))
        seconds = time.perf_counter() - start
        return len(texts) / seconds if seconds > 0 else float("inf")
