"""Content-addressed, on-disk embedding cache, and the one ``embed`` call that uses it.

A vector is stored under ``sha256(model id, model version, text)``, so the same text embedded by the same
model version is computed once, across restarts, and a new model version never reads stale vectors.

A large corpus (``block_min`` texts or more) is also kept whole: its vectors as one contiguous ``.npy`` block under
``sha256(model id, model version, every text in order)``, read back memory-mapped in one go (a million vectors in
about a second instead of a million SQLite lookups) and written once, instead of a million SQLite rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vecexplore.config import home
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import Encoder, Progress

_SQL_CHUNK = 900  # below SQLite's limit on host parameters
BLOCK_MIN = 10_000  # a corpus this large is kept as one block (below, the per-text rows are as fast)
BLOCK_BYTES = 8 * 2**30  # the blocks kept together, the least recently used dropped beyond


def cache_key(model_id: str, model_version: str, text: str) -> bytes:
    return hashlib.sha256(f"{model_id}\x1f{model_version}\x1f{text}".encode()).digest()


def corpus_key(model_id: str, model_version: str, texts: Sequence[str]) -> str:
    """The block key of ``texts`` (in order) embedded by a model version: as :func:`cache_key`, over every text.
    The texts' lengths are hashed too, so no two lists that join to the same string share it."""
    digest = hashlib.sha256(f"{model_id}\x1f{model_version}\x1f{len(texts)}\x1f".encode())
    digest.update(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)).tobytes())
    digest.update("\x1e".join(texts).encode())
    return digest.hexdigest()[:40]


def _crc(vectors: np.ndarray) -> str:
    return f"{zlib.crc32(memoryview(np.ascontiguousarray(vectors)).cast('B')):08x}"


class EmbeddingCache:
    """float32 vectors in one SQLite file under ``<VECEXPLORE_HOME>/embeddings.sqlite``, and whole corpora of
    ``block_min`` texts or more as ``.npy`` blocks in the folder ``embeddings-blocks`` beside it (at most
    ``block_bytes`` together, the least recently used dropped first).

    A block's file name holds its key and the CRC-32 of its vectors: a block that does not read back whole (a
    truncated or damaged file) is deleted and counts as a miss. Keys are digests of the content, like the
    per-text rows: a session finds only the blocks of texts it has itself."""

    def __init__(self, path: str | Path | None = None, block_min: int = BLOCK_MIN,
                 block_bytes: int = BLOCK_BYTES) -> None:
        self.path = Path(path) if path is not None else home() / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.blocks = self.path.parent / f"{self.path.stem}-blocks"
        self.block_min = block_min
        self.block_bytes = block_bytes
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: never corrupt, and no sync on every write
        return con

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._connect() as con:
            for i in range(0, len(keys), _SQL_CHUNK):
                part = list(keys[i : i + _SQL_CHUNK])
                rows = con.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                )
                found.update((key, np.frombuffer(vec, dtype=np.float32)) for key, vec in rows)
        return found

    def put(self, items: dict[bytes, np.ndarray]) -> None:
        with self._connect() as con:
            con.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                ((key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items.items()),
            )

    def __len__(self) -> int:
        with self._connect() as con:
            return int(con.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def get_block(self, key: str, n: int) -> np.ndarray | None:
        """The ``n`` vectors kept under block ``key``, memory-mapped (copy-on-write: a write never reaches the
        file), or None. A file that does not read back whole is deleted."""
        for path in self.blocks.glob(f"{key}-*.npy"):
            try:
                vectors = np.load(path, mmap_mode="c")
                ok = (vectors.dtype == np.float32 and vectors.ndim == 2 and len(vectors) == n
                      and vectors.flags.c_contiguous and path.stem.endswith("-" + _crc(vectors)))
            except (OSError, ValueError, EOFError):
                ok = False
            if not ok:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            with contextlib.suppress(FileNotFoundError):  # evicted meanwhile: it is mapped all the same
                os.utime(path)  # recently used: evicted last
            return np.asarray(vectors)
        return None

    def put_block(self, key: str, vectors: np.ndarray) -> None:
        """Keep ``vectors`` as block ``key`` (written to a temporary file, then renamed: a reader never sees half
        a block), then drop the least recently used blocks beyond ``block_bytes``."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.blocks.mkdir(parents=True, exist_ok=True)
        tmp = self.blocks / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                np.save(fh, vectors)
            tmp.replace(self.blocks / f"{key}-{_crc(vectors)}.npy")
        finally:
            tmp.unlink(missing_ok=True)
        self._evict()

    def _evict(self) -> None:
        """Another process may be evicting at the same moment: a file already gone is skipped, never an error."""
        blocks = []
        for path in self.blocks.glob("*.npy"):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                blocks.append((stat.st_mtime, stat.st_size, path))
        kept = 0
        for newest, (_, size, path) in enumerate(sorted(blocks, reverse=True)):
            kept += size
            if newest and kept > self.block_bytes:  # the newest block is always kept
                path.unlink(missing_ok=True)


@dataclass(frozen=True)
class EmbedStats:
    """What one ``embed`` call did (``block``: every vector came from the corpus' block)."""

    n: int
    cache_hits: int
    encoded: int
    seconds: float
    block: bool = False


def embed(
    texts: Sequence[str],
    encoder: Encoder,
    *,
    labels: Sequence[str] | None = None,
    cache: EmbeddingCache | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
    chunk_size: int = 4096,
) -> tuple[EmbeddingSet, EmbedStats]:
    """Embed ``texts`` with ``encoder``, reading and filling ``cache``; ``progress(done, total)`` is called
    as the texts not found in the cache are encoded (duplicates are encoded once).

    A corpus of ``cache.block_min`` texts or more is first looked up whole (its block); on a miss the texts found
    in the per-text cache are read from it, the others encoded, and the whole corpus written as one block.

    Texts are encoded ``chunk_size`` at a time. Below ``block_min`` each chunk is cached at once, by a writer
    thread while the next chunk is encoded; above, the chunks finished are written to the per-text cache only if
    the run is interrupted (a cancel button, a closed tab). Either way the next run starts where it stopped."""
    start = time.perf_counter()
    texts = list(texts)
    n = len(texts)

    def done(vectors: np.ndarray, hits: int, encoded: int, block: bool = False) -> tuple[EmbeddingSet, EmbedStats]:
        eset = EmbeddingSet(texts, vectors, encoder.id, encoder.version, None if labels is None else list(labels))
        return eset, EmbedStats(n, hits, encoded, time.perf_counter() - start, block)

    whole = cache is not None and n >= cache.block_min
    if whole:
        key = corpus_key(encoder.id, encoder.version, texts)
        kept = cache.get_block(key, n)
        if kept is not None:
            if progress:
                progress(n, n)
            return done(kept, n, 0, block=True)
    row_of: dict[bytes, int] = {}  # each distinct text's row in ``unique``
    inverse = np.fromiter((row_of.setdefault(cache_key(encoder.id, encoder.version, t), len(row_of)) for t in texts),
                          dtype=np.int64, count=n)
    found = cache.get(list(row_of)) if cache is not None else {}
    keys = list(row_of)
    first = np.unique(inverse, return_index=True)[1]  # each distinct text's first row in ``texts``
    todo = [u for u, key in enumerate(keys) if key not in found]
    unique: np.ndarray | None = None

    def fill(rows: Sequence[int], vectors: np.ndarray) -> None:
        nonlocal unique
        if unique is None:
            unique = np.empty((len(keys), vectors.shape[1]), dtype=np.float32)
        unique[rows] = vectors

    if found:
        hit = [u for u, key in enumerate(keys) if key in found]
        fill(hit, np.stack([found[keys[u]] for u in hit]))
    del found
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vecexplore-cache")
    writes: list[Future] = []
    finished = 0  # rows of ``todo`` encoded so far
    try:
        for first_todo in range(0, len(todo), chunk_size):
            part = todo[first_todo : first_todo + chunk_size]

            def report(done: int, total: int, first_todo: int = first_todo) -> None:
                if progress:
                    progress(first_todo + done, len(todo))

            fresh = np.asarray(encoder.encode([texts[first[u]] for u in part], batch_size=batch_size,
                                              progress=report), dtype=np.float32)
            fill(part, fresh)
            finished = first_todo + len(part)
            if cache is not None and not whole:
                writes.append(writer.submit(cache.put, dict(zip((keys[u] for u in part), fresh, strict=True))))
    except BaseException:
        if whole and finished:  # keep what was done for the next run
            cache.put({keys[u]: unique[u] for u in todo[:finished]})
        raise
    finally:
        writer.shutdown(wait=True)  # an interrupted run still keeps every chunk it finished
    for write in writes:
        write.result()  # a failed write is raised here
    if not todo and progress:
        progress(n, n)
    if unique is None:
        vectors = np.zeros((0, encoder.dims), np.float32)
    else:
        vectors = unique if len(keys) == n else unique[inverse]  # no repeated text: rows already in order
    if whole:
        cache.put_block(key, vectors)
    encoded = np.zeros(len(keys), dtype=bool)
    encoded[todo] = True
    return done(vectors, n - int(encoded[inverse].sum()), len(todo))
