"""Semantic search on a Qdrant collection whose vectors are tagged with the model that made them.

Every collection records, in its metadata and in every point's payload, the model id, model version, dims,
distance and transform. Indexing or querying with another model, version or transform is refused.
Point ids are derived from the text, so indexing the same texts again adds nothing. Hybrid search fuses dense
vectors with BM25-style sparse vectors (computed here; Qdrant applies the IDF) by reciprocal rank fusion.

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
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import numpy as np
from qdrant_client import QdrantClient, models

from vecexplore import validation
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError

DENSE, SPARSE = "dense", "bm25"
DISTANCES = {"cosine": models.Distance.COSINE, "dot": models.Distance.DOT, "euclid": models.Distance.EUCLID,
             "manhattan": models.Distance.MANHATTAN}
_NAMESPACE = uuid.UUID("6f1d3b0e-6c2e-4c65-9a55-0e8f3f9c2a11")
_TOKEN = re.compile(r"\w+")
RESERVED = {"text", "label", "source", "model_id", "model_version", "transform"}
CLI_OWNER = "cli"
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def default_name(corpus_name: str, model_id: str, fingerprint: str) -> str:
    """The collection name a corpus gets unless the user types one: its name, the model and the corpus
    fingerprint, so two sessions share a default name only when they hold the very same corpus."""

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")[:32] or "corpus"

    return f"{slug(corpus_name)}-{slug(model_id)}-{fingerprint[:10]}"


def created_by(owner: str, viewer: str | None) -> str:
    """Who made a collection, as session ``viewer`` should read it."""
    if not owner:
        return "unknown (an older store)"
    if owner == CLI_OWNER:
        return "the command line"
    return "you" if owner == viewer else "another session"


def point_id(text: str) -> str:
    """The id of a text: the same text always gets the same id, so re-indexing is idempotent."""
    return str(uuid.uuid5(_NAMESPACE, text))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _term(token: str) -> int:
    return zlib.crc32(token.encode()) & 0x7FFFFFFF


def bm25_document(text: str, avg_len: float, k1: float = 1.2, b: float = 0.75) -> models.SparseVector:
    """BM25's term-frequency part for one document; Qdrant multiplies in the IDF (``Modifier.IDF``)."""
    counts = Counter(_term(t) for t in tokens(text))
    n = sum(counts.values())
    norm = k1 * (1 - b + b * n / max(avg_len, 1e-9))
    return models.SparseVector(indices=list(counts), values=[c * (k1 + 1) / (c + norm) for c in counts.values()])


def bm25_query(text: str) -> models.SparseVector:
    terms = sorted({_term(t) for t in tokens(text)})
    return models.SparseVector(indices=terms, values=[1.0] * len(terms))


@dataclass(frozen=True)
class CollectionTag:
    """What every vector in a collection is: which model, version, transform, size and distance."""

    model_id: str
    model_version: str
    dims: int
    distance: str = "cosine"
    transform: str = "none"
    avg_len: float = 10.0  # mean token count, for BM25
    owner: str = ""  # the app session (or "cli") that created it; "" for collections older than owners
    shared: bool = True  # False: private to its owner (created under its default name)
    created: str = ""  # ISO 8601, UTC

    @classmethod
    def from_metadata(cls, meta: dict | None, name: str) -> CollectionTag:
        required = ("model_id", "model_version", "dims")
        if not isinstance(meta, dict) or any(k not in meta for k in required):
            raise VecexploreError(f"Collection {name!r} was not made by vecexplore (its vectors carry no model "
                                  "tag), so it cannot be searched safely.")
        return cls(**{k: meta[k] for k in cls.__dataclass_fields__ if k in meta})

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
    """Collections of tagged vectors in one Qdrant client (embedded on disk or a server)."""

    def __init__(self, client: QdrantClient) -> None:
        self.client = client
        self._lock = threading.RLock()  # embedded Qdrant is not thread-safe; app sessions run in threads

    def _call(self, fn: Callable, *args, **kwargs):
        try:
            with self._lock:
                return fn(*args, **kwargs)
        except VecexploreError:
            raise
        except ValueError as exc:
            raise VecexploreError(f"Qdrant refused the request: {exc}") from exc
        except Exception as exc:  # network errors from a server: say so instead of a traceback
            name = type(exc).__name__
            if "Connect" in name or "Timeout" in name or "ResponseHandling" in name:
                raise VecexploreError(f"Cannot reach the Qdrant server ({name}: {exc}). Check the URL, or clear "
                                      "it to use the embedded store.") from exc
            raise

    def names(self) -> list[str]:
        return sorted(c.name for c in self._call(self.client.get_collections).collections)

    def tag(self, name: str) -> CollectionTag:
        if not self._call(self.client.collection_exists, name):
            existing = ", ".join(self.names()) or "none yet"
            raise VecexploreError(f"No collection {name!r} (existing: {existing}). Index a corpus into it first.")
        return CollectionTag.from_metadata(self._call(self.client.get_collection, name).config.metadata, name)

    def collections(self, viewer: str | None = None) -> list[dict]:
        """Every collection with its tag, point count, sharing and creator (as ``viewer`` reads it)."""
        rows = []
        for name in self.names():
            meta = self._call(self.client.get_collection, name).config.metadata or {}
            shared, owner = meta.get("shared", True), meta.get("owner", "")
            rows.append({"name": name, "model_id": meta.get("model_id", "?"),
                         "model_version": meta.get("model_version", "?"), "dims": meta.get("dims"),
                         "distance": meta.get("distance"), "transform": meta.get("transform"),
                         "points": self._call(self.client.count, name).count,
                         "shared": shared, "created_by": created_by(owner, viewer), "owner": owner,
                         "created": meta.get("created", "")})
        return rows

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
        self._call(self.client.create_collection, name,
                   vectors_config={DENSE: models.VectorParams(size=tag.dims, distance=DISTANCES[tag.distance])},
                   sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                   metadata=asdict(tag))

    def index(self, name: str, eset: EmbeddingSet, *, transform: str = "none", distance: str = "cosine",
              source: str = "", columns: Sequence[dict] | None = None, batch: int = 512,
              progress: Callable[[int, int], None] | None = None, owner: str = CLI_OWNER,
              shared: bool = True) -> dict:
        """Upsert every text of ``eset`` (payload: text, label, source, model tag, user ``columns``), creating
        the collection on first use (recording ``owner`` and whether it is ``shared``). Each batch is written
        before the next starts."""
        start = time.perf_counter()
        if columns is not None and len(columns) != eset.n:
            raise VecexploreError(f"{len(columns)} payload rows for {eset.n} texts.")
        created = False
        with self._lock:  # check-then-create must not interleave with another session's
            if self._call(self.client.collection_exists, name):
                tag = self.check(name, eset.model_id, eset.model_version, transform)
                if tag.dims != eset.dims:
                    raise VecexploreError(f"Collection {name!r} holds {tag.dims}-d vectors; these are "
                                          f"{eset.dims}-d.")
            else:
                lengths = [len(tokens(t)) for t in eset.texts]
                tag = CollectionTag(eset.model_id, eset.model_version, eset.dims, distance, transform,
                                    float(np.mean(lengths)) if lengths else 10.0, owner, shared,
                                    datetime.now(UTC).isoformat(timespec="seconds"))
                self.create(name, tag)
                created = True
        ids = [point_id(t) for t in eset.texts]
        for s in range(0, eset.n, batch):
            part = range(s, min(s + batch, eset.n))
            payloads = []
            for i in part:
                extra = {k: v for k, v in (columns[i] if columns is not None else {}).items() if k not in RESERVED}
                payloads.append({**extra, "text": eset.texts[i], "label": None if eset.labels is None
                                 else eset.labels[i], "source": source, "model_id": tag.model_id,
                                 "model_version": tag.model_version, "transform": tag.transform})
            vectors = {DENSE: eset.vectors[s : part.stop].tolist(),
                       SPARSE: [bm25_document(eset.texts[i], tag.avg_len) for i in part]}
            self._call(self.client.upsert, name, points=models.Batch(ids=ids[s : part.stop], vectors=vectors,
                                                                     payloads=payloads), wait=True)
            if progress:
                progress(part.stop, eset.n)
        return {"collection": name, "created": created, "n": eset.n, "unique_texts": len(set(ids)),
                "points": self._call(self.client.count, name).count, "seconds": time.perf_counter() - start,
                "tag": asdict(tag)}

    def _filter(self, name: str, filters: dict[str, str] | None) -> models.Filter | None:
        if not filters:
            return None
        sample = self._call(self.client.scroll, name, limit=20, with_payload=True)[0]
        fields = sorted({k for p in sample for k in (p.payload or {})})
        missing = [f for f in filters if f not in fields]
        if missing:
            raise VecexploreError(f"No field {', '.join(map(repr, missing))} in collection {name!r}; fields: "
                                  + ", ".join(fields) + ".")
        return models.Filter(must=[models.FieldCondition(key=k, match=models.MatchValue(value=v))
                                   for k, v in filters.items()])

    def search(self, name: str, vector: np.ndarray, *, query_text: str = "", k: int = 10,
               filters: dict[str, str] | None = None, hybrid: bool = False) -> list[Hit]:
        """Top-``k`` points for a query vector (already checked to come from the collection's model)."""
        validation.check("search_k", k, "k")
        tag = self.tag(name)
        vector = np.asarray(vector, dtype=np.float32).ravel()
        if vector.shape[0] != tag.dims:
            raise VecexploreError(f"The query vector has {vector.shape[0]} dims; collection {name!r} holds "
                                  f"{tag.dims}-d vectors of {tag.model_id}.")
        query_filter = self._filter(name, filters)
        if hybrid:
            if not tokens(query_text):
                raise VecexploreError("Hybrid search needs query words for its keyword (BM25) half.")
            depth = max(k * 5, 50)
            result = self._call(self.client.query_points, name, prefetch=[
                models.Prefetch(query=vector.tolist(), using=DENSE, limit=depth, filter=query_filter),
                models.Prefetch(query=bm25_query(query_text), using=SPARSE, limit=depth, filter=query_filter),
            ], query=models.FusionQuery(fusion=models.Fusion.RRF), limit=k, with_payload=True)
        else:
            result = self._call(self.client.query_points, name, query=vector.tolist(), using=DENSE, limit=k,
                                query_filter=query_filter, with_payload=True)
        return [Hit(str(p.id), float(p.score), (p.payload or {}).get("text", ""), p.payload or {})
                for p in result.points]

    def ids(self, name: str, field: str | None = None) -> set[str]:
        """Every point's id in ``name``: its payload's ``field`` when it has one, else the point id."""
        self.tag(name)
        found, offset = set(), None
        while True:
            points, offset = self._call(self.client.scroll, name, limit=1024, offset=offset, with_payload=True)
            found.update(str((p.payload or {}).get(field, p.id)) if field else str(p.id) for p in points)
            if offset is None:
                return found

    def _check_owner(self, name: str, tag: CollectionTag, viewer: str | None, confirmed: bool) -> None:
        """Refuse to change a collection another session created unless the change was confirmed."""
        if viewer is not None and tag.owner != viewer and not confirmed:
            raise VecexploreError(f"{name!r} was created by {tag.created_by(viewer)}: renaming or deleting it "
                                  "changes it for everyone who uses it. Confirm that you mean this collection first.")

    def delete(self, name: str, viewer: str | None = None, confirmed: bool = False) -> None:
        """Drop ``name``; ``viewer`` (a session) must confirm to drop another session's collection."""
        self._check_owner(name, self.tag(name), viewer, confirmed)
        self._call(self.client.delete_collection, name)

    def rename(self, old: str, new: str, viewer: str | None = None, confirmed: bool = False) -> None:
        """Copy every point into ``new`` (same tag and vectors; a typed name, so now shared), then drop ``old``."""
        tag = self.tag(old)
        self._check_owner(old, tag, viewer, confirmed)
        if self._call(self.client.collection_exists, new):
            raise VecexploreError(f"A collection {new!r} exists already.")
        self.create(new, replace(tag, shared=True))
        offset = None
        while True:
            points, offset = self._call(self.client.scroll, old, limit=512, offset=offset, with_payload=True,
                                        with_vectors=True)
            if points:
                self._call(self.client.upsert, new, points=[
                    models.PointStruct(id=p.id, vector=p.vector, payload=p.payload) for p in points], wait=True)
            if offset is None:
                break
        self._call(self.client.delete_collection, old)


def visible(rows: list[dict], viewer: str, also: Sequence[str] = ()) -> tuple[list[dict], int]:
    """The collections session ``viewer`` may see — shared ones, its own, and ``also`` (its current default
    name: a collection of the very corpus it holds) — and how many others are hidden."""
    shown = [r for r in rows if r["shared"] or r["owner"] == viewer or r["name"] in also]
    return shown, len(rows) - len(shown)
