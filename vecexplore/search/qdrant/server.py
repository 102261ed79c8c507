"""A Qdrant server through qdrant-client (``VECEXPLORE_QDRANT_URL``, the sidebar, ``--qdrant-url``).

qdrant-client's local mode (``QdrantClient(path=...)``) speaks the same API: it is used only to read folders
that older vecexplore versions wrote, and, in tests, as the server's stand-in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qdrant_client import QdrantClient, models

from vecexplore.errors import VecexploreError
from vecexplore.search.qdrant.backend import DENSE, SPARSE, IndexState, Record, ScoredRecord, to_record
from vecexplore.search.qdrant.bm25 import Sparse
from vecexplore.search.qdrant.edge import RRF_K, cast, filter_and_params
from vecexplore.search.qdrant.filters import FieldFilter

DISTANCES = {"cosine": models.Distance.COSINE, "dot": models.Distance.DOT, "euclid": models.Distance.EUCLID,
             "manhattan": models.Distance.MANHATTAN}
SCHEMA = {"keyword": models.PayloadSchemaType.KEYWORD, "integer": models.PayloadSchemaType.INTEGER,
          "float": models.PayloadSchemaType.FLOAT, "bool": models.PayloadSchemaType.BOOL}


def condition(f: FieldFilter, kind: str | None):
    if f.is_range:
        return models.FieldCondition(key=f.field, range=models.Range(gte=f.lo, lte=f.hi))
    values = [cast(v, kind) for v in f.values]
    if len(values) == 1:
        return models.FieldCondition(key=f.field, match=models.MatchValue(value=values[0]))
    return models.Filter(should=[models.FieldCondition(key=f.field, match=models.MatchValue(value=v))
                                 for v in values])


class ServerBackend:
    """Collections on a Qdrant server (or in a qdrant-client local-mode folder)."""

    kind = "server"

    def __init__(self, client: QdrantClient, where: str) -> None:
        self.client = client
        self.where = where

    def _call(self, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except VecexploreError:
            raise
        except ValueError as exc:
            raise VecexploreError(f"Qdrant refused the request: {exc}") from exc
        except Exception as exc:  # network errors from a server: say so instead of a traceback
            name = type(exc).__name__
            if "Connect" in name or "Timeout" in name or "ResponseHandling" in name or "Unexpected" in name:
                raise VecexploreError(f"Cannot reach the Qdrant server at {self.where} ({name}: {exc}). Check the "
                                      "URL, or clear it to use the embedded store.") from exc
            raise

    def names(self) -> list[str]:
        return sorted(c.name for c in self._call(self.client.get_collections).collections)

    def exists(self, name: str) -> bool:
        return bool(self._call(self.client.collection_exists, name))

    def meta(self, name: str) -> dict | None:
        return self._call(self.client.get_collection, name).config.metadata

    def set_meta(self, name: str, meta: dict) -> None:
        self._call(self.client.update_collection, name, metadata=meta)

    def create(self, name: str, dims: int, distance: str, meta: dict) -> None:
        self._call(self.client.create_collection, name,
                   vectors_config={DENSE: models.VectorParams(size=dims, distance=DISTANCES[distance])},
                   sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                   quantization_config=models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(
                       type=models.ScalarType.INT8, always_ram=True)),
                   metadata=meta)

    def drop(self, name: str) -> None:
        self._call(self.client.delete_collection, name)

    def count(self, name: str) -> int:
        return self._call(self.client.count, name).count

    def upsert(self, name: str, records: Sequence[Record]) -> None:
        points = [models.PointStruct(id=r.id, payload=r.payload, vector={
            DENSE: r.dense, **({SPARSE: models.SparseVector(indices=r.sparse[0], values=r.sparse[1])}
                               if r.sparse and r.sparse[0] else {})}) for r in records]
        self._call(self.client.upsert, name, points=points, wait=True)

    def query(self, name: str, dense: list[float], sparse: Sparse | None, k: int, filters: Sequence[FieldFilter],
              field_types: dict[str, str], exact: bool) -> list[ScoredRecord]:
        flt, params = filter_and_params(models, condition, filters, field_types, k, exact)
        if sparse is None:
            result = self._call(self.client.query_points, name, query=dense, using=DENSE, limit=k,
                                query_filter=flt, search_params=params, with_payload=True)
        else:
            depth = max(k * 5, 50)
            result = self._call(self.client.query_points, name, prefetch=[
                models.Prefetch(query=dense, using=DENSE, limit=depth, filter=flt, params=params),
                models.Prefetch(query=models.SparseVector(indices=sparse[0], values=sparse[1]), using=SPARSE,
                                limit=depth, filter=flt),
            ], query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)), limit=k, with_payload=True)
        return [ScoredRecord(str(p.id), float(p.score), dict(p.payload or {})) for p in result.points]

    def scroll(self, name: str, offset: str | None, limit: int, vectors: bool) -> tuple[list[Record], str | None]:
        points, nxt = self._call(self.client.scroll, name, limit=limit, offset=offset, with_payload=True,
                                 with_vectors=vectors)
        return [to_record(p.id, p.vector, p.payload) for p in points], None if nxt is None else str(nxt)

    def index_field(self, name: str, field: str, kind: str) -> None:
        self._call(self.client.create_payload_index, name, field_name=field, field_schema=SCHEMA[kind], wait=True)

    def indexed_fields(self, name: str) -> dict[str, str]:
        schema = self._call(self.client.get_collection, name).payload_schema or {}
        return {k: str(getattr(v.data_type, "value", v.data_type)).lower() for k, v in schema.items()}

    def state(self, name: str) -> IndexState:
        info = self._call(self.client.get_collection, name)
        points = info.points_count or 0
        return IndexState(points, info.indexed_vectors_count or 0, str(info.status).lower().endswith("yellow"))

    def build_index(self, name: str, background: bool = False, on_done: Callable[[], None] | None = None) -> bool:
        """A server builds its HNSW graphs itself as points arrive."""
        if on_done:
            on_done()
        return False

    def close(self) -> None:
        self.client.close()
