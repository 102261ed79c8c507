"""Qdrant's own BM25 (``qdrant_edge.Bm25``): the sparse half of hybrid search, the same on Edge and on a server.

Documents get BM25's term-frequency weights and queries weight 1 per token; the collection's sparse vector has
Qdrant's IDF modifier, so Qdrant multiplies in the IDF over the collection at query time. The configuration is
Qdrant's ``Bm25Config`` (English: lowercase, English stop words, Snowball stemmer, k = 1.2, b = 0.75), with
``avg_len`` set to the collection's mean token count when it is created.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import qdrant_edge as qe

Sparse = tuple[list[int], list[float]]


@dataclass(frozen=True)
class Bm25Settings:
    """What a collection's BM25 was configured with (recorded in its tag and shown on the page)."""

    language: str = "english"
    k: float = 1.2
    b: float = 0.75
    avg_len: float = 10.0

    def config(self) -> qe.Bm25Config:
        return qe.Bm25Config(k=self.k, b=self.b, avg_len=max(self.avg_len, 1.0), language=self.language)

    def describe(self) -> str:
        return (f"Qdrant BM25 ({self.language}: lowercase, stop words removed, Snowball stemming; k = {self.k}, "
                f"b = {self.b}, average length {self.avg_len:.1f} tokens)")

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=16)
def _model(settings: Bm25Settings) -> qe.Bm25:
    return qe.Bm25(settings.config())


@lru_cache(maxsize=1)
def _counter() -> qe.Bm25:
    """A BM25 whose document weights are the raw term counts (b = 0, k → ∞): sums give token counts."""
    return qe.Bm25(qe.Bm25Config(k=1e9, b=0.0, language="english"))


def token_count(text: str) -> int:
    """How many tokens BM25 keeps from ``text`` (after stop words), as Qdrant's tokenizer counts them."""
    return round(sum(_counter().embed_document(text).values))


def document(text: str, settings: Bm25Settings) -> Sparse:
    vec = _model(settings).embed_document(text)
    return list(vec.indices), list(vec.values)


def query(text: str, settings: Bm25Settings) -> Sparse:
    vec = _model(settings).embed_query(text)
    return list(vec.indices), list(vec.values)
