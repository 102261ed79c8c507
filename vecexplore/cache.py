"""Content-addressed, on-disk embedding cache, and the one ``embed`` call that uses it.

A vector is stored under ``sha256(model id, model version, text)``, so the same text embedded by the same
model version is computed once, across restarts, and a new model version never reads stale vectors.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vecexplore.config import home
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import Encoder, Progress

_SQL_CHUNK = 900  # below SQLite's limit on host parameters


def cache_key(model_id: str, model_version: str, text: str) -> bytes:
    return hashlib.sha256(f"{model_id}\x1f{model_version}\x1f{text}".encode()).digest()


class EmbeddingCache:
    """float32 vectors in one SQLite file under ``<VECEXPLORE_HOME>/embeddings.sqlite``."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else home() / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
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


@dataclass(frozen=True)
class EmbedStats:
    """What one ``embed`` call did."""

    n: int
    cache_hits: int
    encoded: int
    seconds: float


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

    Texts are encoded ``chunk_size`` at a time and each chunk is cached at once, by a writer thread while the next
    chunk is encoded (a million m2v-minilm vectors take 40-60 s to write and about 2 minutes to encode here:
    docs/benchmarks-million.md), so an interrupted run (a cancel button, a closed tab) keeps what it did and the
    next run starts where it stopped."""
    start = time.perf_counter()
    texts = list(texts)
    keys = [cache_key(encoder.id, encoder.version, t) for t in texts]
    found = cache.get(sorted(set(keys))) if cache is not None else {}
    todo: dict[bytes, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in found:
            todo.setdefault(key, text)
    pending = list(todo.items())
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vecexplore-cache")
    writes: list[Future] = []
    try:
        for first in range(0, len(pending), chunk_size):
            part = pending[first : first + chunk_size]

            def report(done: int, total: int, first: int = first) -> None:
                if progress:
                    progress(first + done, len(pending))

            fresh = encoder.encode([text for _, text in part], batch_size=batch_size, progress=report)
            computed = dict(zip((key for key, _ in part), np.asarray(fresh, dtype=np.float32), strict=True))
            if cache is not None:
                writes.append(writer.submit(cache.put, computed))
            found.update(computed)
    finally:
        writer.shutdown(wait=True)  # an interrupted run still keeps every chunk it finished
    for write in writes:
        write.result()  # a failed write is raised here
    if not pending and progress:
        progress(len(texts), len(texts))
    vectors = np.stack([found[k] for k in keys]) if texts else np.zeros((0, encoder.dims), np.float32)
    stats = EmbedStats(len(texts), len(texts) - sum(k in todo for k in keys), len(todo),
                       time.perf_counter() - start)
    eset = EmbeddingSet(texts, vectors, encoder.id, encoder.version, None if labels is None else list(labels))
    return eset, stats
