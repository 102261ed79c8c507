"""Semantic search on Qdrant collections whose vectors are tagged with the model that made them.

Every collection records, in its tag and in every point's payload, the model id, model version, dims, distance
and transform. Indexing or querying with another model, version or transform is refused. Point ids are derived
from the text, so indexing the same texts again adds nothing. Hybrid search fuses dense vectors with Qdrant's own
BM25 (:mod:`vecexplore.qdrant.bm25`) by Qdrant's reciprocal rank fusion.

The collections live in a backend (:mod:`vecexplore.qdrant`): Qdrant Edge in this process by default, or a Qdrant
server. Small collections are searched exactly; past :data:`HNSW_MIN_POINTS` an HNSW graph is built and its
recall@10 against exact search is measured on sampled stored vectors and recorded in the tag.

One store often serves many app sessions (a class on one server). A collection records who created it and
whether it is shared: a collection under the default name (:func:`default_name`, derived from the corpus
fingerprint and the model) is private to the session that made it; a name a user types makes it shared.
:func:`visible` says which collections a session may see, and renaming or deleting another session's collection
needs ``confirmed=True``.
"""

from __future__ import annotations

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
from vecexplore.owners import CLI_OWNER, created_by, may_see, needs_confirmation
from vecexplore.qdrant import bm25
from vecexplore.qdrant.backend import DISTANCES, Backend, Record
from vecexplore.qdrant.filters import FieldFilter

_NAMESPACE = uuid.UUID("6f1d3b0e-6c2e-4c65-9a55-0e8f3f9c2a11")
RESERVED = {"text", "label", "source", "model_id", "model_version", "transform"}
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
HNSW_MIN_POINTS = 20_000  # below this a collection is scanned exactly (a few ms); above, an HNSW graph is built
RECALL_QUERIES = 100  # stored vectors used as queries to measure HNSW recall@10 against exact search


def default_name(corpus_name: str, model_id: str, fingerprint: str) -> str:
    """The collection name a corpus gets unless the user types one: its name, the model and the corpus
    fingerprint, so two sessions share a default name only when they hold the very same corpus."""

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")[:32] or "corpus"

    return f"{slug(corpus_name)}-{slug(model_id)}-{fingerprint[:10]}"


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
    """Tagged collections in one backend: Qdrant Edge on disk, or a Qdrant server."""

    def __init__(self, backend: Backend, hnsw_min_points: int = HNSW_MIN_POINTS) -> None:
        self.backend = backend
        self.hnsw_min_points = hnsw_min_points
        self._lock = threading.RLock()  # check-then-create must not interleave between sessions

    @property
    def where(self) -> str:
        kind = "embedded Qdrant Edge" if self.backend.kind == "edge" else "Qdrant server"
        return f"{kind} at {self.backend.where}"

    def names(self) -> list[str]:
        return self.backend.names()

    def close(self) -> None:
        self.backend.close()

    def tag(self, name: str) -> CollectionTag:
        if not self.backend.exists(name):
            existing = ", ".join(self.names()) or "none yet"
            raise VecexploreError(f"No collection {name!r} (existing: {existing}). Index a corpus into it first.")
        return CollectionTag.from_metadata(self.backend.meta(name), name)

    def collections(self, viewer: str | None = None) -> list[dict]:
        """Every collection with its tag, point count, search mode, sharing and creator (as ``viewer`` reads it)."""
        rows = []
        for name in self.names():
            meta = self.backend.meta(name) or {}
            state = self.backend.state(name)
            rows.append({"name": name, "model_id": meta.get("model_id", "?"),
                         "model_version": meta.get("model_version", "?"), "dims": meta.get("dims"),
                         "distance": meta.get("distance"), "transform": meta.get("transform"),
                         "points": state.points, "search": self._mode(state, meta.get("hnsw_recall")),
                         "shared": meta.get("shared", True), "created_by": created_by(meta.get("owner", ""), viewer),
                         "owner": meta.get("owner", ""), "created": meta.get("created", "")})
        return rows

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
        tag = self.tag(name)
        mine = (model_id, model_version, transform)
        if mine != (tag.model_id, tag.model_version, tag.transform):
            want = f"{model_id} ({model_version}" + ("" if transform == "none" else f", transform {transform}") + ")"
            raise VecexploreError(f"Collection {name!r} holds vectors of {tag.describe()}; these come from "
                                  f"{want}. Vectors of different models or versions are not comparable: "
                                  "use the collection's model, or index into a new collection.")
        return tag

    def create(self, name: str, tag: CollectionTag) -> None:
        if tag.distance not in DISTANCES:
            raise VecexploreError(f"Unknown distance {tag.distance!r}; choose one of {', '.join(DISTANCES)}.")
        if not _NAME.fullmatch(name):
            raise VecexploreError(f"Collection names use letters, digits, '_', '-', '.' (got {name!r}).")
        self.backend.create(name, tag.dims, tag.distance, asdict(tag))

    def index(self, name: str, eset: EmbeddingSet, *, transform: str = "none", distance: str = "cosine",
              source: str = "", columns: Sequence[dict] | None = None, batch: int = 1024,
              progress: Callable[[int, int], None] | None = None, owner: str = CLI_OWNER,
              shared: bool = True, build: str = "now") -> dict:
        """Upsert every text of ``eset`` (payload: text, label, source, model tag, user ``columns``, numbers
        typed), creating the collection on first use (recording ``owner`` and whether it is ``shared``). Each batch
        is written before the next starts. Past :data:`HNSW_MIN_POINTS` points the HNSW graph is built ``"now"``,
        in the ``"background"`` (the app), or ``"never"``."""
        start = time.perf_counter()
        if columns is not None and len(columns) != eset.n:
            raise VecexploreError(f"{len(columns)} payload rows for {eset.n} texts.")
        created = False
        with self._lock:
            if self.backend.exists(name):
                tag = self.check(name, eset.model_id, eset.model_version, transform)
                if tag.dims != eset.dims:
                    raise VecexploreError(f"Collection {name!r} holds {tag.dims}-d vectors; these are "
                                          f"{eset.dims}-d.")
            else:
                sample = [eset.texts[i] for i in seeded_sample(eset.n, 2000, 0)]
                avg = float(np.mean([bm25.token_count(t) for t in sample])) if sample else 10.0
                tag = CollectionTag(eset.model_id, eset.model_version, eset.dims, distance, transform,
                                    bm25.Bm25Settings(avg_len=round(max(avg, 1.0), 2)).to_dict(), owner, shared,
                                    datetime.now(UTC).isoformat(timespec="seconds"))
                self.create(name, tag)
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
                more = {k: v for k, v in (extra[i] if extra is not None else {}).items() if k not in RESERVED}
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
        return self.backend.build_index(name, background=background, on_done=lambda: self.measure_recall(name))

    def measure_recall(self, name: str, n_queries: int = RECALL_QUERIES, k: int = 10) -> float | None:
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

    def fields(self, name: str, sample: int = 200) -> dict[str, str]:
        """The payload fields of ``name`` (from its first ``sample`` points) and their types."""
        records, _ = self.backend.scroll(name, None, sample, vectors=False)
        kinds: dict[str, str] = {}
        for r in records:
            for key, value in r.payload.items():
                kind = kind_of(value)
                if kind and key not in {"model_id", "model_version", "transform"}:
                    kinds.setdefault(key, kind)
        return dict(sorted(kinds.items()))

    def values(self, name: str, field: str, scan: int = 5000, limit: int = 200) -> list:
        """The distinct values of payload ``field`` among the first ``scan`` points (at most ``limit``)."""
        found, offset, seen = set(), None, 0
        while seen < scan:
            records, offset = self.backend.scroll(name, offset, 1024, vectors=False)
            seen += len(records)
            found.update(r.payload[field] for r in records if isinstance(r.payload.get(field), (str, int, float)))
            if offset is None or len(found) > limit:
                break
        return sorted(found, key=lambda v: (isinstance(v, str), v))[:limit]

    def _prepare_filters(self, name: str, filters: Sequence[FieldFilter]) -> dict[str, str]:
        """Check each filter against the collection's fields and create the payload indexes it needs."""
        if not filters:
            return {}
        kinds = self.fields(name)
        for f in filters:
            if f.field not in kinds:
                raise VecexploreError(f"No field {f.field!r} in collection {name!r}; fields: "
                                      + ", ".join(kinds) + ".")
            if f.is_range and kinds[f.field] not in ("integer", "float"):
                raise VecexploreError(f"Field {f.field!r} holds {kinds[f.field]} values: a range needs numbers.")
        indexed = self.backend.indexed_fields(name)
        for f in filters:
            if f.field not in indexed:
                self.backend.index_field(name, f.field, kinds[f.field])
        return kinds

    def search(self, name: str, vector: np.ndarray, *, query_text: str = "", k: int = 10,
               filters: Sequence[FieldFilter] | Mapping[str, str] | None = None, hybrid: bool = False,
               exact: bool = False) -> list[Hit]:
        """Top-``k`` points for a query vector (already checked to come from the collection's model): dense, or
        hybrid (dense + BM25 on ``query_text`` fused by RRF); HNSW when built, or ``exact``."""
        validation.check("search_k", k, "k")
        tag = self.tag(name)
        vector = np.asarray(vector, dtype=np.float32).ravel()
        if vector.shape[0] != tag.dims:
            raise VecexploreError(f"The query vector has {vector.shape[0]} dims; collection {name!r} holds "
                                  f"{tag.dims}-d vectors of {tag.model_id}.")
        if isinstance(filters, Mapping):
            filters = [FieldFilter(k_, values=(v,)) for k_, v in filters.items()]
        filters = list(filters or [])
        kinds = self._prepare_filters(name, filters)
        sparse = None
        if hybrid:
            sparse = bm25.query(query_text, tag.bm25_settings)
            if not sparse[0]:
                raise VecexploreError("Hybrid search needs query words for its keyword (BM25) half (stop words "
                                      "such as 'the' or 'of' do not count).")
        found = self.backend.query(name, vector.tolist(), sparse, k, filters, kinds, exact)
        return [Hit(p.id, p.score, str(p.payload.get("text", "")), p.payload) for p in found]

    def ids(self, name: str, field: str | None = None) -> set[str]:
        """Every point's id in ``name``: its payload's ``field`` when it has one, else the point id."""
        self.tag(name)
        found, offset = set(), None
        while True:
            records, offset = self.backend.scroll(name, offset, 1024, vectors=False)
            found.update(str(r.payload.get(field, r.id)) if field else r.id for r in records)
            if offset is None:
                return found

    def _check_owner(self, name: str, tag: CollectionTag, viewer: str | None, confirmed: bool) -> None:
        """Refuse to change a collection another session created unless the change was confirmed."""
        if needs_confirmation(tag.owner, viewer, confirmed):
            raise VecexploreError(f"{name!r} was created by {tag.created_by(viewer)}: renaming or deleting it "
                                  "changes it for everyone who uses it. Confirm that you mean this collection first.")

    def delete(self, name: str, viewer: str | None = None, confirmed: bool = False) -> None:
        """Drop ``name``; ``viewer`` (a session) must confirm to drop another session's collection."""
        self._check_owner(name, self.tag(name), viewer, confirmed)
        self.backend.drop(name)

    def copy(self, name: str, target: Store, new_name: str | None = None, *, tag: CollectionTag | None = None,
             progress: Callable[[int, int], None] | None = None) -> dict:
        """Copy collection ``name`` (vectors dense and sparse, payload, tag) into ``target`` as ``new_name``."""
        new_name = new_name or name
        tag = tag or self.tag(name)
        with target._lock:
            if target.backend.exists(new_name):
                raise VecexploreError(f"A collection {new_name!r} exists already in the {target.where}.")
            target.create(new_name, tag)
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

    def rename(self, old: str, new: str, viewer: str | None = None, confirmed: bool = False) -> None:
        """Copy every point into ``new`` (same tag and vectors; a typed name, so now shared), then drop ``old``."""
        tag = self.tag(old)
        self._check_owner(old, tag, viewer, confirmed)
        self.copy(old, self, new, tag=replace(tag, shared=True))
        self.backend.drop(old)


def visible(rows: list[dict], viewer: str, also: Sequence[str] = ()) -> tuple[list[dict], int]:
    """The collections session ``viewer`` may see — shared ones, its own, and ``also`` (its current default
    name: a collection of the very corpus it holds) — and how many others are hidden."""
    shown = [r for r in rows if may_see(r["owner"], r["shared"], viewer) or r["name"] in also]
    return shown, len(rows) - len(shown)
