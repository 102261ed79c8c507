"""Opening an existing Qdrant collection, read-only, as a corpus to explore (issue 28).

:func:`read_collection` reads up to ``limit`` points (a seeded sample of a larger collection) with their vectors and
payload from a Qdrant server, a qdrant-client local-mode folder, or vecexplore's own store folder (Qdrant Edge), and
returns them as a :class:`CollectionCorpus`: texts from a payload field, optional labels, the other payload fields
as ``columns``, and the vectors. Nothing is written to the collection. :func:`collection_set` turns it into the
embedding set every analysis takes: tagged with the collection's model when vecexplore indexed it, else as
imported vectors named ``qdrant:<name>``.

The command line opens any folder or URL (it runs as the local owner). The app opens only what
:func:`allowed_source` allows: folders under ``config.data_dirs()`` and servers on ``config.qdrant_allow()``, never
its own store folder; and a session reads another session's private vecexplore collection no more than the
store lets it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from vecexplore import config, paths, validation
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus, from_table, guess_text_column
from vecexplore.numeric import seeded_sample
from vecexplore.owners import CLI_OWNER, may_read
from vecexplore.search.qdrant.backend import DENSE
from vecexplore.search.store import RESERVED, CollectionTag

PREFIX = "qdrant:"  # a plain collection's vectors are imported as "qdrant:<name>"
TIMEOUT = 5.0  # seconds a server has to answer
BATCH = 256  # points per request
TAG_FIELDS = RESERVED - {"text", "label"}  # what vecexplore writes into every point beside the user's columns
ID_TEXT = "point id"  # the texts when no payload field holds words


@dataclass(frozen=True)
class Origin:
    """Where a corpus was read from: the collection, its place, the vector and payload fields used, how many points
    it holds, and vecexplore's tag when it carries one."""

    collection: str
    where: str
    vector: str | None
    points: int
    fields: tuple[str, ...]
    text_field: str | None
    label_field: str | None
    tag: CollectionTag | None

    def to_dict(self) -> dict:
        tag = None if self.tag is None else {k: getattr(self.tag, k) for k in (
            "model_id", "model_version", "dims", "distance", "transform")}
        return {"collection": self.collection, "where": self.where, "vector": self.vector, "points": self.points,
                "fields": list(self.fields), "text_field": self.text_field, "label_field": self.label_field,
                "tag": tag}


@dataclass
class CollectionCorpus(Corpus):
    """A corpus read from a Qdrant collection, with where it came from."""

    origin: Origin | None = None


def collection_set(corpus: Corpus) -> EmbeddingSet:
    """The corpus' vectors as an embedding set: tagged with the collection's model, version and transform when
    vecexplore indexed it (so queries must come from that model), else as imported vectors."""
    from vecexplore.pipeline import imported_set

    tag = getattr(getattr(corpus, "origin", None), "tag", None)
    if tag is None:
        return imported_set(corpus)
    info = {} if tag.transform == "none" else {"transform": tag.transform}
    return EmbeddingSet(corpus.texts, corpus.vectors, tag.model_id, tag.model_version, corpus.labels, info)


# --- what the app may open ---

def allowed_source(url: str | None = None, path: str | None = None) -> tuple[str | None, Path | None]:
    """The server URL or the folder (symlinks resolved) that a browser session asked for, if the app may open it;
    else a ``VecexploreError`` saying what it may open. A folder must be given as a full path (no ``~``, no
    ``..``) under ``config.data_dirs()`` and outside the app's own store folder; a URL must start with one of
    ``config.qdrant_allow()``. The answer never tells whether a refused folder exists."""
    from vecexplore.search.opening import store_folder

    url, path = (url or "").strip(), (path or "").strip()
    if bool(url) == bool(path):
        raise VecexploreError("Give a Qdrant server URL or the full path of a folder (one of them).")
    if url:
        prefixes = config.qdrant_allow()
        if not prefixes:
            raise VecexploreError("This server opens collections of no Qdrant server: whoever runs it can list the "
                                  f"servers it may open in {config.QDRANT_ALLOW_ENV} (comma-separated URL prefixes, "
                                  "e.g. http://qdrant:6333), or set VECEXPLORE_QDRANT_URL.")
        if not any(_url_under(url, p) for p in prefixes):
            raise VecexploreError(f"{_said(url)} is not a Qdrant server this app may open. It opens "
                                  f"{' or '.join(prefixes)} (more: {config.QDRANT_ALLOW_ENV} on the server).")
        return url, None
    roots = paths.resolved_dirs(config.data_dirs())
    if not roots:
        raise VecexploreError("This server opens collections from no folder: whoever runs it can list the folders it "
                              f"may open in {config.DATA_DIRS_ENV} (absolute paths separated by "
                              f"{os.pathsep!r}).")
    allowed = (f"The app opens Qdrant folders given by their full path under {' or '.join(map(str, roots))} (more: "
               f"{config.DATA_DIRS_ENV} on the server), never its own store folder.")
    real = paths.contained(path, roots)
    store = paths.resolved(store_folder())
    if real is None or store is None or real.is_relative_to(store) or store.is_relative_to(real):
        raise VecexploreError(f"{_said(path)} is not a folder this app may open. {allowed}")
    return None, real


def _said(text: str) -> str:
    return repr(text if len(text) <= 200 else text[:200] + "…")


def _url_under(url: str, prefix: str) -> bool:
    """Whether ``url`` is ``prefix`` or below it: the same scheme, host and port, and a path under its path."""
    def parts(u: str) -> tuple[str, str, int | None, str] | None:
        try:
            s = urlsplit(u)
            port = s.port or {"http": 80, "https": 443}.get(s.scheme.lower())
        except ValueError:
            return None
        if s.scheme.lower() not in {"http", "https"} or not s.hostname or s.username or s.password:
            return None
        return s.scheme.lower(), s.hostname.lower(), port, s.path.rstrip("/") + "/"

    mine, theirs = parts(url), parts(prefix)
    return mine is not None and theirs is not None and mine[:3] == theirs[:3] and mine[3].startswith(theirs[3])


# --- where the points come from ---

class _Source:
    """What both places answer through the store's backend: the collections, their tags and sizes."""

    where: str
    backend: object

    def names(self) -> list[str]:
        return self.backend.names()

    def meta(self, name: str) -> dict | None:
        return self.backend.meta(name)

    def count(self, name: str) -> int:
        return self.backend.count(name)


class _ClientSource(_Source):
    """A Qdrant server, or a qdrant-client local-mode folder, through qdrant-client."""

    def __init__(self, url: str | None, path: Path | None, timeout: float) -> None:
        from qdrant_client import QdrantClient

        from vecexplore.search.opening import QDRANT_KEY_ENV
        from vecexplore.search.qdrant.server import ServerBackend

        self.where = url or str(path)
        try:
            if url:
                client = QdrantClient(url=url, api_key=os.environ.get(QDRANT_KEY_ENV) or None, timeout=timeout,
                                      check_compatibility=False)
            else:
                client = QdrantClient(path=str(path))
        except RuntimeError as exc:  # local mode: another client holds the folder
            raise VecexploreError(f"The Qdrant folder {path} is open in another process or session; close it and "
                                  "retry.") from exc
        except Exception as exc:
            raise VecexploreError(f"Cannot open {_said(self.where)} with qdrant-client ({type(exc).__name__}: "
                                  f"{exc}).") from exc
        self.backend = ServerBackend(client, self.where)
        if url:
            try:
                client.get_collections()
            except Exception as exc:
                client.close()
                raise VecexploreError(f"The Qdrant server at {url} does not answer ({type(exc).__name__}: {exc}). "
                                      "Check the URL and that the server is running.") from exc

    def vectors(self, name: str) -> dict[str | None, int]:
        """The collection's dense vectors: name → dims (``None``: its one unnamed vector)."""
        params = self.backend._call(self.backend.client.get_collection, name).config.params.vectors
        if params is None:
            return {}
        if not isinstance(params, dict):
            params = {None: params}
        multi = [str(k) for k, v in params.items() if getattr(v, "multivector_config", None) is not None]
        if multi:
            raise VecexploreError(f"Collection {name!r} holds several vectors per point ({', '.join(multi)}: "
                                  "multivectors); vecexplore explores one vector per point.")
        return {k: v.size for k, v in params.items()}

    def ids(self, name: str) -> list:
        found, offset = [], None
        while True:
            points, offset = self.backend._call(self.backend.client.scroll, name, limit=4 * BATCH, offset=offset,
                                                with_payload=False, with_vectors=False)
            found += [p.id for p in points]
            if offset is None:
                return found

    def read(self, name: str, vector: str | None, ids: Sequence | None) -> Iterator[tuple]:
        """(id, vector or None, payload) of every point, or of ``ids``."""
        client, wanted = self.backend.client, [vector] if vector is not None else True
        if ids is not None:
            for s in range(0, len(ids), BATCH):
                got = {str(p.id): p for p in self.backend._call(client.retrieve, name, ids=list(ids[s:s + BATCH]),
                                                                with_payload=True, with_vectors=wanted)}
                yield from (_row(got[str(i)], vector) for i in ids[s:s + BATCH] if str(i) in got)
            return
        offset = None
        while True:
            points, offset = self.backend._call(client.scroll, name, limit=BATCH, offset=offset, with_payload=True,
                                                with_vectors=wanted)
            yield from (_row(p, vector) for p in points)
            if offset is None:
                return

    def close(self) -> None:
        self.backend.close()


def _row(point, vector: str | None) -> tuple:
    v = point.vector.get(vector) if isinstance(point.vector, dict) else point.vector
    return point.id, v, point.payload or {}


class _EdgeSource(_Source):
    """vecexplore's own store folder (Qdrant Edge), through the store's backend: one handle per folder and
    process, kept open as :func:`~vecexplore.search.opening.open_store` keeps it."""

    def __init__(self, folder: Path) -> None:
        from vecexplore.search.qdrant.edge import EdgeBackend

        self.where = str(folder)
        try:
            self.backend = EdgeBackend.open(folder)
        except OSError as exc:  # a folder this process may not write its lock file into
            raise VecexploreError(f"Cannot open the store folder {folder} ({exc.strerror or exc}): Qdrant Edge needs "
                                  "to write its lock file there.") from exc

    def vectors(self, name: str) -> dict[str | None, int]:
        return {DENSE: int((self.meta(name) or {}).get("dims", 0))}

    def _scroll(self, name: str, vectors: bool) -> Iterator:
        offset = None
        while True:
            records, offset = self.backend.scroll(name, offset, 2 * BATCH, vectors=vectors)
            yield from records
            if offset is None:
                return

    def ids(self, name: str) -> list:
        return [r.id for r in self._scroll(name, vectors=False)]

    def read(self, name: str, vector: str | None, ids: Sequence | None) -> Iterator[tuple]:
        wanted = None if ids is None else {str(i): k for k, i in enumerate(ids)}
        rows = [(r.id, r.dense or None, r.payload) for r in self._scroll(name, vectors=True)
                if wanted is None or r.id in wanted]
        return iter(rows if wanted is None else sorted(rows, key=lambda row: wanted[row[0]]))

    def close(self) -> None:
        """Nothing: the folder stays open in this process (see the class)."""


def _source(url: str | None, path: str | Path | None, timeout: float):
    if bool(url) == bool(path):
        raise VecexploreError("Give a Qdrant server URL or a folder (one of them).")
    if url:
        return _ClientSource(url, None, timeout)
    folder = Path(path).expanduser()
    if (folder / "meta.json").is_file():
        return _ClientSource(None, folder, timeout)
    if (folder / "edge").is_dir():
        return _EdgeSource(folder)
    raise VecexploreError(f"{folder} is not a Qdrant folder: it holds neither meta.json (a qdrant-client local-mode "
                          "folder) nor edge/ (a vecexplore store folder).")


# --- reading ---

def read_collection(name: str, *, url: str | None = None, path: str | Path | None = None, vector: str | None = None,
                    limit: int = 20_000, seed: int = 0, text_field: str | None = None, label_field: str | None = None,
                    caller: str = CLI_OWNER, timeout: float = TIMEOUT) -> CollectionCorpus:
    """Up to ``limit`` points of collection ``name`` (at the server ``url``, or in the folder ``path``) with their
    vectors (``vector``: which named vector, needed when the collection has several) and payload, read-only. A
    larger collection is sampled reproducibly (``seed``), with a note. Texts come from ``text_field`` (default: a
    guessed payload field holding words; the point ids when none does), labels from ``label_field`` (default:
    ``label`` when the payload has one). ``caller`` (a session id; the command line by default) sees another
    session's private vecexplore collection as missing. Refused with a message: a missing collection (the
    available ones listed), several named vectors and none chosen, no stored vectors, NaN vectors, a server that
    does not answer."""
    validation.check("collection_points", limit, "limit")
    validation.check("seed", seed, "seed")
    source = _source(url, path, timeout)
    try:
        return _read(source, name, vector or None, limit, seed, text_field or None, label_field or None, caller)
    finally:
        source.close()


def _visible(meta: dict | None, caller: str) -> bool:
    """Whether ``caller`` may read a collection: any collection vecexplore did not make (it has no owner), and
    vecexplore's as the store rules (:func:`vecexplore.owners.may_read`)."""
    if not isinstance(meta, dict) or "model_id" not in meta:
        return True
    return may_read(str(meta.get("owner", "")), bool(meta.get("shared", True)), caller)


def _read(source, name: str, vector: str | None, limit: int, seed: int, text_field: str | None,
          label_field: str | None, caller: str) -> CollectionCorpus:
    names = source.names()
    meta = source.meta(name) if name in names else None
    if name not in names or not _visible(meta, caller):
        listed = [n for n in names if _visible(source.meta(n), caller)]
        raise VecexploreError(f"No collection {name!r} at {source.where}; the collections there: "
                              f"{', '.join(listed) or 'none'}.")
    tag = None
    if isinstance(meta, dict) and {"model_id", "model_version", "dims"} <= meta.keys():
        tag = CollectionTag.from_metadata(meta, name)
    vector = _choose_vector(name, source.vectors(name), vector)
    total = source.count(name)
    if total == 0:
        raise VecexploreError(f"Collection {name!r} holds no points: there is nothing to explore.")
    notes = []
    if total <= limit:
        rows = list(source.read(name, vector, None))
    else:
        ids = source.ids(name)
        picked = [ids[i] for i in seeded_sample(len(ids), limit, seed)]
        rows = list(source.read(name, vector, picked))
        notes.append(f"{len(picked):,} of {len(ids):,} points, sampled with seed {seed}.")
        total = len(ids)
    with_vector = [r for r in rows if r[1] is not None and len(r[1])]
    which = "its vector" if vector is None else f"vector {vector!r}"
    if not with_vector:
        raise VecexploreError(f"No point of collection {name!r} has {which} stored: there are no vectors to explore.")
    if len(with_vector) < len(rows):
        notes.append(f"Left out {len(rows) - len(with_vector):,} points without {which}.")
    vectors = np.asarray([r[1] for r in with_vector], dtype=np.float32)
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        first = with_vector[int(np.flatnonzero(bad)[0])][0]
        raise VecexploreError(f"{int(bad.sum()):,} vectors of collection {name!r} hold NaN or infinite values (first: "
                              f"point {first}); fix or delete those points before exploring it.")
    corpus, vectors, fields, text_field, label_field = _corpus(name, with_vector, vectors, tag, text_field,
                                                               label_field)
    return CollectionCorpus(corpus.texts, corpus.labels, corpus.name, [*notes, *corpus.notes], vectors=vectors,
                            columns=corpus.columns, vector_info={"text_column": None if text_field == ID_TEXT else
                                                                 text_field},
                            origin=Origin(name, source.where, vector, total, fields,
                                                                  text_field, label_field, tag))


def _choose_vector(name: str, dense: dict[str | None, int], vector: str | None) -> str | None:
    if not dense:
        raise VecexploreError(f"Collection {name!r} stores no dense vectors (only payload, or sparse vectors): there "
                              "is nothing to map.")
    if None in dense:
        if vector:
            raise VecexploreError(f"Collection {name!r} has one unnamed vector, not {vector!r}: leave the vector name "
                                  "empty.")
        return None
    if vector is None and len(dense) == 1:
        return next(iter(dense))
    if vector not in dense:
        listed = ", ".join(f"{k} ({d}-d)" for k, d in dense.items())
        what = "has several named vectors" if not vector else f"has no vector {vector!r}"
        raise VecexploreError(f"Collection {name!r} {what}; choose one of: {listed}.")
    return vector


def _corpus(name: str, rows: list[tuple], vectors: np.ndarray, tag: CollectionTag | None, text_field: str | None,
            label_field: str | None) -> tuple[Corpus, np.ndarray, tuple[str, ...], str, str | None]:
    """The corpus of ``rows`` (id, vector, payload) without its vectors (texts, labels, the other payload fields as
    columns, notes), the vectors of the points it kept, the payload fields, and the text and label fields."""
    payloads = [dict(r[2]) for r in rows]
    if tag is not None:  # vecexplore's own points: its bookkeeping dropped, stand-in keys back to column names
        payloads = [{tag.column(k): v for k, v in p.items() if k not in TAG_FIELDS} for p in payloads]
    frame = pd.DataFrame.from_records(payloads, index=range(len(rows)))
    fields = tuple(str(c) for c in frame.columns)
    for given, what in ((text_field, "text"), (label_field, "label")):
        if given is not None and given not in frame.columns:
            raise VecexploreError(f"Collection {name!r} has no payload field {given!r} for the {what}; its fields: "
                                  f"{', '.join(fields) or 'none'}.")
    if label_field is None and "label" in frame.columns and frame["label"].notna().any():
        label_field = "label"
    words = frame[[c for c in frame.columns if c != label_field and frame[c].map(_scalar).all()]]
    text_field = text_field or guess_text_column(words)
    notes = []
    if text_field is None:
        text_field = ID_TEXT
        frame[text_field] = [f"point {r[0]}" for r in rows]
        notes.append("No payload field holds words: each point is shown by its id (name the text field to use "
                     "another).")
    text = frame[text_field].astype("string").str.strip()
    keep = (text.notna() & (text != "")).to_numpy()
    if not keep.all():
        notes.append(f"Left out {int((~keep).sum()):,} points with no text in {text_field!r}.")
        frame, vectors = frame[keep], vectors[keep]
    if not len(frame):
        raise VecexploreError(f"No point of collection {name!r} has a text in {text_field!r}: name the text field.")
    corpus = from_table(frame, text_field, label_field, name=f"{PREFIX}{name}")
    corpus.notes[:0] = notes
    return corpus, vectors, fields, text_field, label_field


def _scalar(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
