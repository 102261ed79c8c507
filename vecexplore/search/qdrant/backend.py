"""The interface both Qdrant backends implement, in plain Python and numpy types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vecexplore.search.qdrant.bm25 import Sparse
from vecexplore.search.qdrant.filters import FieldFilter

DENSE, SPARSE = "dense", "bm25"
DISTANCES = ("cosine", "dot", "euclid", "manhattan")


@dataclass
class Record:
    """One point: its id (a UUID string), dense vector, BM25 sparse vector and payload."""

    id: str
    dense: list[float]
    sparse: Sparse | None
    payload: dict = field(default_factory=dict)


def to_record(point_id, vector, payload) -> Record:
    """A point read back from either backend (``vector``: a dict of named vectors, or absent)."""
    vec = vector if isinstance(vector, dict) else {}
    sp = vec.get(SPARSE)
    return Record(str(point_id), list(vec.get(DENSE, [])),
                  (list(sp.indices), list(sp.values)) if sp is not None else None, dict(payload or {}))


@dataclass(frozen=True)
class ScoredRecord:
    id: str
    score: float
    payload: dict


@dataclass(frozen=True)
class IndexState:
    """How a collection is searched: its points, how many are in an HNSW graph, and whether a build runs."""

    points: int
    indexed: int
    building: bool = False


class Backend(Protocol):
    """A place that holds collections: Qdrant Edge folders, or a Qdrant server."""

    kind: str  # "edge" or "server"
    where: str  # a folder or a URL, for messages

    def names(self) -> list[str]: ...
    def exists(self, name: str) -> bool: ...
    def meta(self, name: str) -> dict | None: ...
    def set_meta(self, name: str, meta: dict) -> None: ...
    def create(self, name: str, dims: int, distance: str, meta: dict) -> None: ...
    def drop(self, name: str) -> None: ...
    def count(self, name: str) -> int: ...
    def upsert(self, name: str, records: Sequence[Record]) -> None: ...
    def query(self, name: str, dense: list[float], sparse: Sparse | None, k: int,
              filters: Sequence[FieldFilter], field_types: dict[str, str], exact: bool) -> list[ScoredRecord]: ...
    def scroll(self, name: str, offset: str | None, limit: int,
               vectors: bool) -> tuple[list[Record], str | None]: ...
    def index_field(self, name: str, field: str, kind: str) -> None: ...
    def indexed_fields(self, name: str) -> dict[str, str]: ...
    def state(self, name: str) -> IndexState: ...
    def build_index(self, name: str) -> bool: ...
    def close(self) -> None: ...
