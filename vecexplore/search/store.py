"""Semantic search on Qdrant collections whose vectors are tagged with the model that made them.

Every collection records, in its tag and in every point's payload, the model id, model version, dims, distance
and transform. Indexing or querying with another model, version or transform is refused. Point ids are derived
from the text, so indexing the same texts again adds nothing. Hybrid search fuses dense vectors with Qdrant's own
BM25 (:mod:`vecexplore.search.qdrant.bm25`) by Qdrant's reciprocal rank fusion.

The collections live in a backend (:mod:`vecexplore.search.qdrant`): Qdrant Edge in this process by default, or a Qdrant
server. Small collections are searched exactly; past :data:`HNSW_MIN_POINTS` an HNSW graph is built and its
recall@10 against exact search is measured on sampled stored vectors and recorded in the tag.

One store often serves many app sessions (a class on one server), and the store itself keeps the rules, whoever
calls it: a :class:`Store` acts for one caller (:meth:`Store.acting_as`; the command line, the server's local
owner, by default). A collection records who created it and whether it is shared: it is private to the session
that made it until its owner marks it shared, and a shared collection is read-only for the other sessions
(:func:`vecexplore.owners.may_read`, :func:`~vecexplore.owners.may_change`). Another session's private
collection is answered like one that does not exist, and the default names (:func:`default_name`) carry a
piece derived from the session id, so they cannot be guessed. Every search takes its queries as an
:class:`EmbeddingSet`, refused unless it comes from the collection's model, version and transform.

User columns become payload fields under their own names when Qdrant's key paths read those as they are
(letters, digits, ``_``); any other name (``my col``, ``a.b``, ``x[0]``, ``q"uote``, ``$v``) is stored under a
stand-in key (:func:`payload_key`) recorded in the tag, so filters, payloads and field lists always speak the
user's column names.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from vecexplore import validation
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.numeric import seeded_sample
from vecexplore.owners import CLI_OWNER, created_by, may_change, may_read
from vecexplore.search.qdrant import bm25
from vecexplore.search.qdrant.backend import DISTANCES, Backend, Record
from vecexplore.search.qdrant.filters import FieldFilter

_NAMESPACE = uuid.UUID("6f1d3b0e-6c2e-4c65-9a55-0e8f3f9c2a11")
RESERVED = {"text", "label", "source", "model_id", "model_version", "transform"}
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
HNSW_MIN_POINTS = 20_000  # below this a collection is scanned exactly (a few ms); above, an HNSW graph is built
RECALL_QUERIES = 100  # stored vectors used as queries to measure HNSW recall@10 against exact search


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_STAND_IN = "col_"


def default_name(corpus_name: str, model_id: str, fingerprint: str, caller: str = CLI_OWNER) -> str:
    """The collection name a corpus gets unless the user types one: its name, the model and a digest of the
    corpus fingerprint and ``caller`` (a session id, which no other session knows), so no other session can
    guess it."""

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")[:32] or "corpus"

    digest = hashlib.sha256(f"{caller}\x1f{fingerprint}".encode()).hexdigest()[:12]
    return f"{slug(corpus_name)}-{slug(model_id)}-{digest}"


def payload_key(column: str) -> str:
    """The payload key a user column is stored under: its own name when Qdrant's key paths take it literally,
    else ``col_<hash>`` (a name such as ``a.b`` or ``x[0]`` would be read as a path into nested values)."""
    if _PLAIN_KEY.fullmatch(column) and not column.startswith(_STAND_IN):
        return column
    return _STAND_IN + hashlib.sha256(column.encode()).hexdigest()[:12]


def point_id(text: str) -> str:
    """The id of a text: the same text always gets the same id, so re-indexing is idempotent."""
    return str(uuid.uuid5(_NAMESPACE, text))


def typed_columns(columns: Sequence[dict]) -> list[dict]:
    """Payload columns with numbers as numbers: a column whose every non-empty value is an integer (or a number)
    becomes int (or float), so that it can be filtered by range; empty values become ``None``."""
    keys = {k for row in columns for k in row}
    kinds = {}
    for key in keys:
        values = [str(row.get(key, "")).strip() for row in columns]
        filled = [v for v in values if v]
        kinds[key] = str
        for kind in (int, float):
            try:
                if filled and all(np.isfinite(kind(v)) for v in filled):
                    kinds[key] = kind
                    break
            except ValueError:
                continue
    return [{k: (kinds[k](str(v).strip()) if str(v).strip() else None) for k, v in row.items()} for row in columns]


def kind_of(value) -> str | None:
    """The payload index type of a value: keyword, integer, float or bool."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "keyword"
    return None


@dataclass(frozen=True)
class CollectionTag:
    """What every vector in a collection is (model, version, transform, size, distance), how its BM25 is set, who
    made it, and how well its HNSW graph finds the exact neighbours."""

    model_id: str
    model_version: str
    dims: int
    distance: str = "cosine"
    transform: str = "none"
    bm25: dict = field(default_factory=lambda: bm25.Bm25Settings().to_dict())
    owner: str = ""  # the app session (or "cli") that created it; "" for collections older than owners
    shared: bool = True  # False: private to its owner (created under its default name)
    created: str = ""  # ISO 8601, UTC
    hnsw_recall: float | None = None  # recall@10 of HNSW search against exact search, once a graph is built
    columns: dict = field(default_factory=dict)  # payload key → user column name, for names stored under a stand-in

    @classmethod
    def from_metadata(cls, meta: dict | None, name: str) -> CollectionTag:
        required = ("model_id", "model_version", "dims")
        if not isinstance(meta, dict) or any(k not in meta for k in required):
            raise VecexploreError(f"Collection {name!r} was not made by vecexplore (its vectors carry no model "
                                  "tag), so it cannot be searched safely.")
        values = {k: meta[k] for k in cls.__dataclass_fields__ if k in meta}
        if "bm25" not in values and "avg_len" in meta:  # tags written before Qdrant's BM25
            values["bm25"] = bm25.Bm25Settings(avg_len=float(meta["avg_len"])).to_dict()
        return cls(**values)

    @property
    def bm25_settings(self) -> bm25.Bm25Settings:
        return bm25.Bm25Settings(**self.bm25)

    def created_by(self, viewer: str | None) -> str:
        return created_by(self.owner, viewer)

    def column(self, key: str) -> str:
        """The user's name of payload ``key``."""
        return self.columns.get(key, key)

    def key(self, column: str) -> str:
        """The payload key of user column ``column``."""
        return next((k for k, name in self.columns.items() if name == column), column)

    def describe(self) -> str:
        extra = "" if self.transform == "none" else f", transform {self.transform}"
        return f"{self.model_id} ({self.model_version}, {self.dims}-d, {self.distance}{extra})"


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    text: str
    payload: dict


class Store:
    """Tagged collections in one backend (Qdrant Edge on disk, or a Qdrant server), as seen and changed by one
    ``caller``: a session id, or :data:`~vecexplore.owners.CLI_OWNER` (the command line, the server's local owner,
    which may do everything). :meth:`acting_as` gives another caller's view of the same backend."""

    def __init__(self, backend: Backend, hnsw_min_points: int = HNSW_MIN_POINTS, caller: str = CLI_OWNER) -> None:
        self.backend = backend
        self.hnsw_min_points = hnsw_min_points
        self.caller = caller
        self._lock = threading.RLock()  # check-then-create must not interleave between sessions

    def acting_as(self, caller: str) -> Store:
        """This store (same backend and lock) acting for ``caller``: every rule below is checked for it."""
        if not caller:
            raise VecexploreError("A store needs a caller: a session id, or the command line.")
        view = Store(self.backend, self.hnsw_min_points, caller)
        view._lock = self._lock
        return view

    @property
    def where(self) -> str:
        kind = "embedded Qdrant Edge" if self.backend.kind == "edge" else "Qdrant server"
        return f"{kind} at {self.backend.where}"

    def close(self) -> None:
        self.backend.close()

    # --- who may do what: every method below goes through these ---

    def _meta(self, name: str) -> dict | None:
        return self.backend.meta(name) if self.backend.exists(name) else None

    def _readable(self, meta: dict | None) -> bool:
        return meta is not None and may_read(meta.get("owner", ""), meta.get("shared", True), self.caller)

    def names(self) -> list[str]:
        """The collections this caller may read."""
        return [n for n in self.backend.names() if self._readable(self._meta(n))]

    def exists(self, name: str) -> bool:
        """Whether a collection of that name exists, whoever may use it (a new collection cannot take it)."""
        return self.backend.exists(name)

    def hidden(self, name: str) -> bool:
        """Whether ``name`` exists but belongs to another session that keeps it private."""
        return self.backend.exists(name) and not self._readable(self._meta(name))

    def tag(self, name: str) -> CollectionTag:
        """The tag of a collection this caller may read; another session's private one is answered like a
        missing one."""
        meta = self._meta(name)
        if not self._readable(meta):
            existing = ", ".join(self.names()) or "none yet"
            raise VecexploreError(f"No collection {name!r} that you may use (yours and the shared ones: "
                                  f"{existing}). Index a corpus into it first.")
        return CollectionTag.from_metadata(meta, name)

    def _writable(self, name: str) -> CollectionTag:
        """The tag of a collection this caller may change; a shared collection of another session is refused."""
        return self._changeable(name, self.tag(name))

    def _changeable(self, name: str, tag: CollectionTag) -> CollectionTag:
        if not may_change(tag.owner, self.caller):
            raise VecexploreError(f"{name!r} was shared by {tag.created_by(self.caller)}: you may search it but "
                                  "not change, rename or delete it. Index into a collection of your own instead.")
        return tag

    def collections(self) -> list[dict]:
        """Every collection this caller may read, with its tag, point count, search mode, sharing and creator."""
        rows = []
        for name in self.backend.names():
            meta = self._meta(name)
            if not self._readable(meta):
                continue
            state = self.backend.state(name)
            owner = meta.get("owner", "")
            rows.append({"name": name, "model_id": meta.get("model_id", "?"),
                         "model_version": meta.get("model_version", "?"), "dims": meta.get("dims"),
                         "distance": meta.get("distance"), "transform": meta.get("transform"),
                         "points": state.points, "search": self._mode(state, meta.get("hnsw_recall")),
                         "shared": meta.get("shared", True), "created_by": created_by(owner, self.caller),
                         "yours": may_change(owner, self.caller), "created": meta.get("created", "")})
        return rows

    def n_hidden(self) -> int:
        """How many collections are private to other sessions (not listed for this caller)."""
        return sum(not self._readable(self._meta(n)) for n in self.backend.names())

    @staticmethod
    def _mode(state, recall: float | None) -> str:
        if state.building:
            return "exact (HNSW building…)"
        if state.indexed and recall is not None:
            return f"HNSW, recall@10 {recall:.3f}"
        if state.indexed:
            return "HNSW"
        return "exact"

    def check(self, name: str, model_id: str, model_version: str, transform: str = "none") -> CollectionTag:
        """The collection's tag; refuses a different model, version or transform, naming both."""
        return self._same_model(name, self.tag(name), model_id, model_version, transform)

    @staticmethod
    def _same_model(name: str, tag: CollectionTag, model_id: str, model_version: str,
                    transform: str) -> CollectionTag:
        mine = (model_id, model_version, transform)
        if mine != (tag.model_id, tag.model_version, tag.transform):
            want = f"{model_id} ({model_version}" + ("" if transform == "none" else f", transform {transform}") + ")"
            raise VecexploreError(f"Collection {name!r} holds vectors of {tag.describe()}; these come from "
                                  f"{want}. Vectors of different models or versions are not comparable: "
                                  "use the collection's model, or index into a new collection.")
        return tag

    def _check_set(self, name: str, tag: CollectionTag, eset: EmbeddingSet) -> CollectionTag:
        self._same_model(name, tag, eset.model_id, eset.model_version, eset.transform)
        if tag.dims != eset.dims:
            raise VecexploreError(f"Collection {name!r} holds {tag.dims}-d vectors; these are {eset.dims}-d.")
        return tag

    def _create(self, name: str, tag: CollectionTag) -> None:
        if tag.distance not in DISTANCES:
            raise VecexploreError(f"Unknown distance {tag.distance!r}; choose one of {', '.join(DISTANCES)}.")
        if not _NAME.fullmatch(name):
            raise VecexploreError(f"Collection names use letters, digits, '_', '-', '.' (got {name!r}).")
        if self.backend.exists(name):
            raise VecexploreError(f"A collection named {name!r} exists already in the {self.where}: choose "
                                  "another name.")
        self.backend.create(name, tag.dims, tag.distance, asdict(tag))

    # --- writing ---

    def index(self, name: str, eset: EmbeddingSet, *, distance: str = "cosine", source: str = "",
              columns: Sequence[dict] | None = None, batch: int = 1024,
              progress: Callable[[int, int], None] | None = None, shared: bool | None = None,
              build: str = "now") -> dict:
        """Upsert every text of ``eset`` (payload: text, label, source, model tag, user ``columns``, numbers
        typed), creating the collection on first use, owned by this caller and ``shared`` or private (default:
        shared when the command line makes it, private when a session does). Writing into an existing collection
        needs the caller to own it and ``eset`` to come from its model, version and transform. Each batch is
        written before the next starts. Past :data:`HNSW_MIN_POINTS` points the HNSW graph is built ``"now"``,
        in the ``"background"`` (the app), or ``"never"``."""
        start = time.perf_counter()
        if columns is not None and len(columns) != eset.n:
            raise VecexploreError(f"{len(columns)} payload rows for {eset.n} texts.")
        created = False
        names = sorted({k for row in columns or () for k in row if k not in RESERVED})
        with self._lock:
            if self.backend.exists(name):
                meta = self.backend.meta(name)  # read once: visibility, model and owner all come from it
                if not self._readable(meta):
                    raise VecexploreError(f"The name {name!r} is taken by another session's collection: choose "
                                          "another name.")
                tag = self._changeable(name, self._check_set(name, CollectionTag.from_metadata(meta, name), eset))
                stand_ins = {payload_key(c): c for c in names if payload_key(c) != c}
                if stand_ins.keys() - tag.columns.keys():
                    tag = replace(tag, columns={**tag.columns, **stand_ins})
                    self.backend.set_meta(name, {**(meta or {}), "columns": tag.columns})
            else:
                sample = [eset.texts[i] for i in seeded_sample(eset.n, 2000, 0)]
                avg = float(np.mean([bm25.token_count(t) for t in sample])) if sample else 10.0
                tag = CollectionTag(eset.model_id, eset.model_version, eset.dims, distance, eset.transform,
                                    bm25.Bm25Settings(avg_len=round(max(avg, 1.0), 2)).to_dict(), self.caller,
                                    self.caller == CLI_OWNER if shared is None else shared,
                                    datetime.now(UTC).isoformat(timespec="seconds"),
                                    columns={payload_key(c): c for c in names if payload_key(c) != c})
                self._create(name, tag)
                created = True
        settings = tag.bm25_settings
        extra = typed_columns(columns) if columns is not None else None
        ids = [point_id(t) for t in eset.texts]
        vectors = np.asarray(eset.vectors, dtype=np.float32)
        for s in range(0, eset.n, batch):
            part = range(s, min(s + batch, eset.n))
            rows = vectors[part.start:part.stop].tolist()  # one conversion per batch, not per point
            records = []
            for i in part:
                more = {payload_key(k): v for k, v in (extra[i] if extra is not None else {}).items()
                        if k not in RESERVED}
                payload = {**more, "text": eset.texts[i], "label": None if eset.labels is None else eset.labels[i],
                           "source": source, "model_id": tag.model_id, "model_version": tag.model_version,
                           "transform": tag.transform}
                records.append(Record(ids[i], rows[i - s], bm25.document(eset.texts[i], settings), payload))
            self.backend.upsert(name, records)
            if progress:
                progress(part.stop, eset.n)
        points = self.backend.count(name)
        indexing = "exact"
        if points >= self.hnsw_min_points and build != "never":
            self.build_index(name, background=build == "background")
            indexing = "building in the background" if build == "background" else "hnsw"
        return {"collection": name, "created": created, "n": eset.n, "unique_texts": len(set(ids)),
                "points": points, "seconds": time.perf_counter() - start, "search": indexing, "tag": asdict(tag)}

    def build_index(self, name: str, background: bool = False) -> bool:
        """Build the HNSW graph of ``name`` (here, or in the background) and record its recall@10 when done."""
        self._writable(name)
        return self.backend.build_index(name, background=background, on_done=lambda: self._measure_recall(name))

    def _measure_recall(self, name: str, n_queries: int = RECALL_QUERIES, k: int = 10) -> float | None:
        """recall@``k`` of HNSW search against exact search, with stored vectors (the first ``n_queries`` ids in
        the store's order: ids are hashes of the texts, so an arbitrary sample) as queries; recorded in the tag."""
        state = self.backend.state(name)
        if not state.indexed:
            return None
        records, _ = self.backend.scroll(name, None, n_queries, vectors=True)
        overlap = []
        for r in records:
            approx = {p.id for p in self.backend.query(name, r.dense, None, k, [], {}, exact=False)}
            exact = {p.id for p in self.backend.query(name, r.dense, None, k, [], {}, exact=True)}
            overlap.append(len(approx & exact) / max(len(exact), 1))
        recall = round(float(np.mean(overlap)), 4) if overlap else None
        with self._lock:
            self.backend.set_meta(name, {**(self.backend.meta(name) or {}), "hnsw_recall": recall})
        return recall

    def share(self, name: str, shared: bool = True) -> None:
        """Mark a collection of this caller's shared (read-only for the other sessions) or private again."""
        self._writable(name)
        with self._lock:
            self.backend.set_meta(name, {**(self.backend.meta(name) or {}), "shared": bool(shared)})

    def delete(self, name: str) -> None:
        """Drop ``name`` (this caller's own collection)."""
        self._writable(name)
        self.backend.drop(name)

    def rename(self, old: str, new: str) -> None:
        """Copy every point of this caller's collection ``old`` into ``new`` (same tag, vectors and sharing), then
        drop ``old``."""
        tag = self._writable(old)
        self.copy(old, self, new, tag=tag)
        self.backend.drop(old)

    def copy(self, name: str, target: Store, new_name: str | None = None, *, tag: CollectionTag | None = None,
             progress: Callable[[int, int], None] | None = None) -> dict:
        """Copy collection ``name`` (vectors dense and sparse, payload, tag) into ``target`` as ``new_name``. The
        copy belongs to ``target``'s caller (a session's copy is private to it; the command line keeps the tag
        as it is)."""
        new_name = new_name or name
        tag = tag or self.tag(name)
        if target.caller != CLI_OWNER:
            tag = replace(tag, owner=target.caller, shared=tag.shared and tag.owner == target.caller)
        with target._lock:
            target._create(new_name, tag)
        total, done, offset = self.backend.count(name), 0, None
        while True:
            records, offset = self.backend.scroll(name, offset, 512, vectors=True)
            if records:
                target.backend.upsert(new_name, records)
                done += len(records)
                if progress:
                    progress(done, total)
            if offset is None:
                break
        if done >= target.hnsw_min_points:
            target.build_index(new_name)
        return {"collection": new_name, "points": target.backend.count(new_name), "to": target.where}

    # --- reading ---

    def fields(self, name: str, sample: int = 200) -> dict[str, str]:
        """The payload fields of ``name`` (from its first ``sample`` points), by the user's column names, and
        their types."""
        tag = self.tag(name)
        records, _ = self.backend.scroll(name, None, sample, vectors=False)
        kinds: dict[str, str] = {}
        for r in records:
            for key, value in r.payload.items():
                kind = kind_of(value)
                if kind and key not in {"model_id", "model_version", "transform"}:
                    kinds.setdefault(tag.column(key), kind)
        return dict(sorted(kinds.items()))

    def values(self, name: str, field: str, scan: int = 5000, limit: int = 200) -> list:
        """The distinct values of payload field ``field`` among the first ``scan`` points (at most ``limit``)."""
        key = self.tag(name).key(field)
        found, offset, seen = set(), None, 0
        while seen < scan:
            records, offset = self.backend.scroll(name, offset, 1024, vectors=False)
            seen += len(records)
            found.update(r.payload[key] for r in records if isinstance(r.payload.get(key), (str, int, float)))
            if offset is None or len(found) > limit:
                break
        return sorted(found, key=lambda v: (isinstance(v, str), v))[:limit]

    def _prepare_filters(self, name: str, tag: CollectionTag,
                         filters: Sequence[FieldFilter]) -> tuple[list[FieldFilter], dict[str, str]]:
        """The filters on their payload keys, checked against the collection's fields, with the payload indexes
        they need created; and the keys' types."""
        if not filters:
            return [], {}
        kinds = self.fields(name)
        for f in filters:
            if f.field not in kinds:
                raise VecexploreError(f"No field {f.field!r} in collection {name!r}; fields: "
                                      + ", ".join(repr(k) for k in kinds) + ".")
            if f.is_range and kinds[f.field] not in ("integer", "float"):
                raise VecexploreError(f"Field {f.field!r} holds {kinds[f.field]} values: a range needs numbers.")
        keyed = [replace(f, field=tag.key(f.field)) for f in filters]
        key_kinds = {tag.key(c): kind for c, kind in kinds.items()}
        indexed = self.backend.indexed_fields(name)
        for f in keyed:
            if f.field not in indexed:
                self.backend.index_field(name, f.field, key_kinds[f.field])
        return keyed, key_kinds

    def search(self, name: str, queries: EmbeddingSet, *, k: int = 10,
               filters: Sequence[FieldFilter] | Mapping[str, str] | None = None, hybrid: bool = False,
               exact: bool = False) -> list[list[Hit]]:
        """Top-``k`` points for each query of ``queries`` (refused unless they come from the collection's model,
        version and transform): dense, or hybrid (dense + BM25 on the query's text fused by RRF); HNSW when
        built, or ``exact``; payload fields by the user's column names."""
        validation.check("search_k", k, "k")
        tag = self._check_set(name, self.tag(name), queries)
        if isinstance(filters, Mapping):
            filters = [FieldFilter(k_, values=(v,)) for k_, v in filters.items()]
        keyed, kinds = self._prepare_filters(name, tag, list(filters or []))
        results = []
        for text, vector in zip(queries.texts, queries.vectors, strict=True):
            sparse = None
            if hybrid:
                sparse = bm25.query(text, tag.bm25_settings)
                if not sparse[0]:
                    raise VecexploreError("Hybrid search needs query words for its keyword (BM25) half (stop words "
                                          "such as 'the' or 'of' do not count).")
            found = self.backend.query(name, vector.tolist(), sparse, k, keyed, kinds, exact)
            results.append([Hit(p.id, p.score, str(p.payload.get("text", "")),
                                {tag.column(key): v for key, v in p.payload.items()} if tag.columns else p.payload)
                            for p in found])
        return results

    def ids(self, name: str, field: str | None = None) -> set[str]:
        """Every point's id in ``name``: its payload's ``field`` when it has one, else the point id."""
        key = self.tag(name).key(field) if field else None
        found, offset = set(), None
        while True:
            records, offset = self.backend.scroll(name, offset, 1024, vectors=False)
            found.update(str(r.payload.get(key, r.id)) if key else r.id for r in records)
            if offset is None:
                return found

