"""Qdrant Edge: Qdrant's engine (segments, HNSW, payload indexes, quantization) inside this process.

One shard folder per collection, ``<root>/edge/<name>/shard``, with the collection's tag beside it in
``collection.json``. A shard's folder can be open in one process only, so one :class:`EdgeBackend` per folder
serves every session of the process (:meth:`EdgeBackend.open`), and a second process gets a message naming the
folder and the way out (a Qdrant server) instead of Qdrant's WAL error.

Edge holds the GIL while it builds an HNSW graph, which would freeze every session of an app server for the
whole build. :meth:`EdgeBackend.build_index` with ``background=True`` therefore builds on a copy of the shard in a
child process while searches go on, exactly, on the live shard, then swaps the built shard in (unless points were
written meanwhile: then the build is dropped and the collection stays exact until the next one).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import qdrant_edge as qe

from vecexplore.errors import VecexploreError
from vecexplore.search.qdrant.backend import DENSE, SPARSE, IndexState, Record, ScoredRecord, to_record
from vecexplore.search.qdrant.bm25 import Sparse
from vecexplore.search.qdrant.filters import FieldFilter

DISTANCES = {"cosine": qe.Distance.Cosine, "dot": qe.Distance.Dot, "euclid": qe.Distance.Euclid,
             "manhattan": qe.Distance.Manhattan}
SCHEMA = {"keyword": qe.PayloadSchemaType.Keyword, "integer": qe.PayloadSchemaType.Integer,
          "float": qe.PayloadSchemaType.Float, "bool": qe.PayloadSchemaType.Bool}
# Qdrant's default graph (m = 16, ef_construct = 100). Segments are only indexed when :meth:`build_index` runs
# (Edge has no background optimizer), so the indexing threshold is low and the caller decides; a filtered search
# whose matching vectors fill less than full_scan_threshold KB scans them exactly.
HNSW = dict(m=16, ef_construct=100, full_scan_threshold=1_000)
INDEXING_THRESHOLD_KB = 1
# The graph is built and walked on int8 codes of the vectors (kept in RAM), and the best oversampling × k
# candidates are rescored with the float32 vectors: on 100k MiniLM vectors this built the graph 3-6× faster than
# on float32 for the same recall@10 (0.998 at hnsw_ef 256, oversampling 3; docs/benchmarks.md). Exact search
# ignores the codes.
INT8 = dict(type=qe.ScalarType.Int8, always_ram=True)
HNSW_EF = 256  # candidates per HNSW query
OVERSAMPLING = 3.0
RRF_K = 60  # reciprocal rank fusion's k (Cormack et al. 2009), the same on Edge and on a server
# A graph whose every row is queried (row_neighbours: near-duplicates, outliers) is built and searched lighter than
# the store's: on 100k model2vec vectors this took 37 s instead of 61 s on 2 busy cores, recall@10 0.98.
ROW_HNSW = dict(HNSW, ef_construct=64)
ROW_EF = 32
ROW_OVERSAMPLING = 2.0
SERVER_ROUTE = ("run a Qdrant server (docker run -p 6333:6333 qdrant/qdrant) and set VECEXPLORE_QDRANT_URL="
                "http://localhost:6333 so that several processes share it")

_OPEN: dict[Path, EdgeBackend] = {}
_OPEN_LOCK = threading.Lock()


def edge_config(dims: int, distance: str) -> qe.EdgeConfig:
    return qe.EdgeConfig(vectors={DENSE: qe.EdgeVectorParams(size=dims, distance=DISTANCES[distance])},
                         sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
                         hnsw_config=qe.HnswIndexConfig(**HNSW),
                         quantization_config=qe.ScalarQuantizationConfig(**INT8),
                         optimizers=qe.EdgeOptimizersConfig(indexing_threshold=INDEXING_THRESHOLD_KB))


def condition(f: FieldFilter, kind: str | None):
    """One filter as a Qdrant Edge condition (``kind``: the field's payload type, for casting typed values)."""
    if f.is_range:
        return qe.FieldCondition(key=f.field, range=qe.RangeFloat(gte=f.lo, lte=f.hi))
    values = [cast(v, kind) for v in f.values]
    if len(values) == 1:
        return qe.FieldCondition(key=f.field, match=qe.MatchValue(values[0]))
    return qe.Filter(should=[qe.FieldCondition(key=f.field, match=qe.MatchValue(v)) for v in values])


def filter_and_params(api, to_condition: Callable, filters: Sequence[FieldFilter], field_types: dict[str, str],
                      k: int, exact: bool) -> tuple:
    """A query's filter and search parameters in ``api`` (``qdrant_edge`` or ``qdrant_client.models``: both name the
    classes alike), so that both backends search with the same HNSW beam, rescoring and oversampling."""
    flt = api.Filter(must=[to_condition(f, field_types.get(f.field)) for f in filters]) if filters else None
    params = api.SearchParams(exact=exact, hnsw_ef=None if exact else max(HNSW_EF, k),
                              quantization=api.QuantizationSearchParams(ignore=exact, rescore=True,
                                                                        oversampling=OVERSAMPLING))
    return flt, params


def cast(value, kind: str | None):
    """A typed value (from a text box or the command line) as the field's payload type."""
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            raise VecexploreError(f"The field holds whole numbers; {value!r} is not one.") from None
    if kind == "bool":
        return str(value).lower() in {"true", "1", "yes"}
    return str(value)


def _sparse(vec: Sparse) -> qe.SparseVector:
    return qe.SparseVector(indices=list(vec[0]), values=list(vec[1]))


class EdgeBackend:
    """Collections as Qdrant Edge shards under ``root`` (open it with :meth:`open`)."""

    kind = "edge"

    def __init__(self, root: Path, lock_fd: int) -> None:
        self.root = root
        self.where = str(root)
        self._dir = root / "edge"
        self._lock_fd = lock_fd
        self._shards: dict[str, qe.EdgeShard] = {}
        self._writes: dict[str, int] = {}
        self._building: set[str] = set()
        self._meta: dict[str, dict] = {}  # tags read once: only this process writes this folder (flock)
        self._lock = threading.RLock()

    @classmethod
    def open(cls, root: str | Path) -> EdgeBackend:
        """The process's one backend for ``root``; another process holding it is a clear error."""
        root = Path(root).resolve()
        with _OPEN_LOCK:
            if root in _OPEN:
                return _OPEN[root]
            (root / "edge").mkdir(parents=True, exist_ok=True)
            fd = os.open(root / "edge" / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise VecexploreError(f"The embedded Qdrant folder {root} is open in another process (an app or a "
                                      f"command). Qdrant Edge serves one process per folder: close the other one, "
                                      f"or {SERVER_ROUTE}.") from None
            _OPEN[root] = backend = cls(root, fd)
            return backend

    # -- collections ---------------------------------------------------------------------------------------------
    def _folder(self, name: str) -> Path:
        return self._dir / name

    def names(self) -> list[str]:
        return sorted(p.parent.name for p in self._dir.glob("*/collection.json"))

    def exists(self, name: str) -> bool:
        return name in self._meta or (self._folder(name) / "collection.json").is_file()

    def meta(self, name: str) -> dict | None:
        with self._lock:
            if name not in self._meta:
                try:
                    self._meta[name] = json.loads((self._folder(name) / "collection.json").read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    return None
            return dict(self._meta[name])

    def set_meta(self, name: str, meta: dict) -> None:
        path = self._folder(name) / "collection.json"
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        with self._lock:
            tmp.write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)
            self._meta[name] = dict(meta)

    def create(self, name: str, dims: int, distance: str, meta: dict) -> None:
        with self._lock:
            folder = self._folder(name)
            if folder.exists():  # a create that died before its tag was written
                shutil.rmtree(folder)
            self._meta.pop(name, None)
            self._shards[name] = qe.EdgeShard.create(str(folder / "shard"), edge_config(dims, distance))
            self.set_meta(name, meta)

    def _shard(self, name: str) -> qe.EdgeShard:
        with self._lock:
            if name not in self._shards:
                if not self.exists(name):
                    raise VecexploreError(f"No collection {name!r}.")
                try:
                    self._shards[name] = qe.EdgeShard.load(str(self._folder(name) / "shard"))
                except Exception as exc:  # Edge raises a bare Exception
                    raise VecexploreError(f"Qdrant Edge could not open collection {name!r} in {self.root} ({exc}). "
                                          f"If another process uses this folder, close it or {SERVER_ROUTE}.") from exc
            return self._shards[name]

    def drop(self, name: str) -> None:
        with self._lock:
            shard = self._shards.pop(name, None)
            self._meta.pop(name, None)
            if shard is not None:
                shard.close()
            shutil.rmtree(self._folder(name), ignore_errors=True)

    def count(self, name: str) -> int:
        with self._lock:
            return self._shard(name).info().points_count

    # -- points --------------------------------------------------------------------------------------------------
    def upsert(self, name: str, records: Sequence[Record]) -> None:
        points = [qe.Point(r.id, {DENSE: r.dense, **({SPARSE: _sparse(r.sparse)} if r.sparse and r.sparse[0]
                                                     else {})}, r.payload) for r in records]
        with self._lock:
            self._shard(name).update(qe.UpdateOperation.upsert_points(points))
            self._writes[name] = self._writes.get(name, 0) + 1

    def query(self, name: str, dense: list[float], sparse: Sparse | None, k: int, filters: Sequence[FieldFilter],
              field_types: dict[str, str], exact: bool) -> list[ScoredRecord]:
        flt, params = filter_and_params(qe, condition, filters, field_types, k, exact)
        if sparse is None:
            request = qe.QueryRequest(limit=k, query=qe.Query.Nearest(dense, using=DENSE), filter=flt,
                                      params=params, with_payload=True)
        else:
            depth = max(k * 5, 50)
            request = qe.QueryRequest(limit=k, query=qe.Fusion.Rrf(k=RRF_K), with_payload=True, prefetches=[
                qe.Prefetch(limit=depth, query=qe.Query.Nearest(dense, using=DENSE), filter=flt, params=params),
                qe.Prefetch(limit=depth, query=qe.Query.Nearest(_sparse(sparse), using=SPARSE), filter=flt)])
        with self._lock:
            points = self._shard(name).query(request)
        return [ScoredRecord(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def scroll(self, name: str, offset: str | None, limit: int, vectors: bool) -> tuple[list[Record], str | None]:
        request = qe.ScrollRequest(offset=None if offset is None else uuid.UUID(offset), limit=limit,
                                   with_payload=True, with_vector=vectors)
        with self._lock:
            points, nxt = self._shard(name).scroll(request)
        return [to_record(p.id, p.vector, p.payload) for p in points], None if nxt is None else str(nxt)

    def index_field(self, name: str, field: str, kind: str) -> None:
        with self._lock:
            self._shard(name).update(qe.UpdateOperation.create_field_index(field, SCHEMA[kind]))

    def indexed_fields(self, name: str) -> dict[str, str]:
        with self._lock:
            schema = self._shard(name).info().payload_schema
        return {k: str(v.data_type).rsplit(".", 1)[-1].lower() for k, v in schema.items()}

    # -- HNSW ----------------------------------------------------------------------------------------------------
    def state(self, name: str) -> IndexState:
        """Points, and how many dense vectors are in an HNSW graph (Edge counts the always-indexed BM25 vectors
        in ``indexed_vectors_count`` too: they are subtracted)."""
        with self._lock:
            shard = self._shard(name)
            info = shard.info()
            sparse = shard.count(qe.CountRequest(filter=qe.Filter(must=[qe.HasVectorCondition(SPARSE)]), exact=True))
            return IndexState(info.points_count, max(info.indexed_vectors_count - sparse, 0), name in self._building)

    def build_index(self, name: str, background: bool = False, on_done: Callable[[], None] | None = None) -> bool:
        """Build the HNSW graph of ``name``: here (blocking, for the command line) or, with ``background``, in a
        child process on a copy while searches go on. False when a build is already running."""
        with self._lock:
            if name in self._building:
                return False
            self._building.add(name)
        if not background:
            try:
                with self._lock:
                    self._shard(name).optimize()
            finally:
                self._building.discard(name)
            if on_done:
                on_done()
            return True
        threading.Thread(target=self._build_copy, args=(name, on_done), daemon=True,
                         name=f"hnsw-{name}").start()
        return True

    def _build_copy(self, name: str, on_done: Callable[[], None] | None) -> None:
        folder = self._folder(name)
        work = folder / f"building-{uuid.uuid4().hex[:8]}"
        try:
            with self._lock:
                shard = self._shard(name)
                shard.flush()
                writes = self._writes.get(name, 0)
                shutil.copytree(folder / "shard", work, ignore=shutil.ignore_patterns(".lock", "*.lock"))
            done = subprocess.run([sys.executable, "-m", "vecexplore.search.qdrant.optimize", str(work)],
                                  capture_output=True, text=True)
            if done.returncode:
                return
            with self._lock:
                if self._writes.get(name, 0) != writes or not self.exists(name):
                    return  # points arrived during the build: its copy is stale
                self._shards.pop(name).close()
                old = folder / f"replaced-{uuid.uuid4().hex[:8]}"
                os.replace(folder / "shard", old)
                os.replace(work, folder / "shard")
                self._shard(name)
                shutil.rmtree(old, ignore_errors=True)
            if on_done:
                on_done()
        finally:
            shutil.rmtree(work, ignore_errors=True)
            self._building.discard(name)

    def close(self) -> None:
        """Close every shard and give the folder up (another process, or a later :meth:`open`, may take it)."""
        with _OPEN_LOCK, self._lock:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()
            self._meta.clear()
            if _OPEN.get(self.root) is self:
                del _OPEN[self.root]
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)


def row_neighbours(base: np.ndarray, k: int, queries: np.ndarray | None = None,
                   batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Each query row's ``k`` nearest rows of ``base`` (unit float32 rows), best first, as row numbers and cosines,
    through an HNSW graph on a scratch shard in a temporary folder. Its point ids are the row numbers, not the
    store's text-derived ids, so two copies of a text stay two rows. The graph is built on int8 codes like the
    store's, a little lighter (:data:`ROW_HNSW`, :data:`ROW_EF`; the best candidates rescored on float32), in a
    child process like :meth:`EdgeBackend.build_index`, since Edge holds the GIL while it builds; queries go in
    batches of ``batch``. Without ``queries`` the base rows are the queries, each left out of its own results. A
    row that gets fewer than ``k`` results is marked -1 (cosine -inf)."""
    n, dims = base.shape
    own = queries is None
    queries = base if own else queries
    index = np.full((len(queries), k), -1, dtype=np.int64)
    cosine = np.full((len(queries), k), -np.inf, dtype=np.float32)
    config = qe.EdgeConfig(vectors={DENSE: qe.EdgeVectorParams(size=dims, distance=DISTANCES["cosine"])},
                           hnsw_config=qe.HnswIndexConfig(**ROW_HNSW),
                           quantization_config=qe.ScalarQuantizationConfig(**INT8),
                           optimizers=qe.EdgeOptimizersConfig(indexing_threshold=INDEXING_THRESHOLD_KB),
                           wal_enabled=False)
    params = qe.SearchParams(hnsw_ef=max(ROW_EF, k + 1), quantization=qe.QuantizationSearchParams(
        rescore=True, oversampling=ROW_OVERSAMPLING))
    with tempfile.TemporaryDirectory(prefix="vecexplore-rows-") as tmp:
        folder = str(Path(tmp) / "shard")
        shard = qe.EdgeShard.create(folder, config)
        try:
            for start in range(0, n, 4096):
                shard.update(qe.UpdateOperation.upsert_points(
                    [qe.Point(start + i, {DENSE: row}) for i, row in enumerate(base[start:start + 4096].tolist())]))
            shard.flush()
        finally:
            shard.close()
        built = subprocess.run([sys.executable, "-m", "vecexplore.search.qdrant.optimize", folder],
                               capture_output=True, text=True)
        if built.returncode:
            raise VecexploreError(f"Qdrant Edge could not build the HNSW graph of {n:,} rows: "
                                  f"{built.stderr.strip()[-300:]}")
        shard = qe.EdgeShard.load(folder)
        try:
            for start in range(0, len(queries), batch):
                rows = queries[start:start + batch].tolist()
                found = shard.query_batch(qe.QueryBatchRequest([qe.QueryRequest(
                    limit=k + own, query=qe.Query.Nearest(row, using=DENSE), params=params) for row in rows]))
                for i, points in enumerate(found, start):
                    hits = [(int(p.id), float(p.score)) for p in points if not (own and p.id == i)][:k]
                    if hits:
                        index[i, :len(hits)], cosine[i, :len(hits)] = zip(*hits, strict=True)
        finally:
            shard.close()
    return index, cosine
