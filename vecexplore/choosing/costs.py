"""What a candidate model costs, measured in the same run as its scores: speed on this machine (texts per second
with its spread, one query's latency, load time), memory, size on disk, dimensions, bytes per vector as float32 /
int8 / binary with the recall@10 each quantisation keeps (the compression lab's Qdrant numbers), and the time and
storage projected to the user's whole corpus."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vecexplore.embedder import Embedder
from vecexplore.search.compression import compression_report

SPEED_SECONDS = 1.0  # each timed run encodes about this long (no cache) ...
SPEED_TEXTS = (16, 512)  # ... but at least 16 and at most 512 texts
SPEED_RUNS = 3  # timed runs; the card shows their median and range
QUERY_RUNS = 15  # single-query encodes; the card shows their median
QUANTIZATIONS = {"int8": "scalar int8", "binary": "binary 1-bit"}  # the card's names → the compression lab's


def _rss_bytes() -> int:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096
    except (OSError, IndexError, ValueError):
        return 0


class _PeakMemory:
    """The most resident memory the process held while the block ran, above what it held before."""

    def __enter__(self) -> _PeakMemory:
        self.before = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def mib(self) -> float:
        return (self.peak - self.before) / 2**20


def size_on_disk(paths: Sequence[Path] | None) -> float | None:
    """MiB of the files (folders: every file under them) a model's weights come from; None when it has none."""
    if not paths:
        return None
    total = 0
    for path in map(Path, paths):
        files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
        total += sum(f.stat().st_size for f in files)
    return total / 2**20


def bytes_per_vector(dims: int) -> dict[str, int]:
    """A vector's nominal size: float32 4 bytes a dimension, int8 one, binary one bit (rounded up to bytes)."""
    return {"float32": 4 * dims, "int8": dims, "binary": -(-dims // 8)}


def quantization_recall(vectors: np.ndarray, seed: int = 0) -> dict[str, dict[str, float]]:
    """recall@10 against exact float32 search that int8 and binary codes keep in Qdrant, without and with
    rescoring (Qdrant Edge, no HNSW graph: the codes alone); {} when there are too few vectors."""
    if len(vectors) <= 11:
        return {}
    rows = compression_report(vectors, n_queries=100, dims=(), seed=seed,
                              methods=list(QUANTIZATIONS.values())).rows
    out: dict[str, dict[str, float]] = {}
    for name, method in QUANTIZATIONS.items():
        found = {r["rescoring"] == "none": r["recall"] for r in rows if r["method"] == method}
        out[name] = {"recall": found[True], "recall_rescored": found[False]}
    return out


def measure_cost(embedder: Embedder, texts: Sequence[str], corpus_size: int) -> dict:
    """Measure ``embedder`` on ``texts`` (the user's; encoded without the cache, about a second a run) and project
    to ``corpus_size`` texts."""
    with _PeakMemory() as memory:
        encoder = embedder.encoder()
        probe = list(texts[:SPEED_TEXTS[0]])
        encoder.encode(probe[:8])  # warm-up: first-call allocations and graph optimisation
        start = time.perf_counter()
        encoder.encode(probe)
        rate = len(probe) / max(time.perf_counter() - start, 1e-9)
        sample = list(texts[:int(min(max(rate * SPEED_SECONDS, SPEED_TEXTS[0]), SPEED_TEXTS[1]))])
        runs = []
        for _ in range(SPEED_RUNS):
            start = time.perf_counter()
            encoder.encode(sample)
            runs.append(len(sample) / max(time.perf_counter() - start, 1e-9))
    query = [min(sample, key=len)] if sample else ["query"]
    latencies = []
    for _ in range(QUERY_RUNS):
        start = time.perf_counter()
        encoder.encode(query)
        latencies.append(1000 * (time.perf_counter() - start))
    speed = statistics.median(runs)
    dims = int(encoder.dims)
    sizes = bytes_per_vector(dims)
    return {
        "backend": getattr(encoder, "backend", None) or "—",
        "texts_per_s": speed, "texts_per_s_low": min(runs), "texts_per_s_high": max(runs),
        "texts_per_s_runs": runs, "sample": len(sample), "ms_per_text": 1000 / speed,
        "query_ms": statistics.median(latencies), "load_s": embedder.load_seconds_,
        "peak_mib": memory.mib, "model_mb": size_on_disk(getattr(encoder, "files_", None)),
        "max_seq_length": getattr(encoder, "max_seq_length", None), "dims": dims,
        "bytes_per_vector": sizes["float32"], "bytes": sizes,
        "projected": {"texts": corpus_size, "seconds": corpus_size / speed,
                      "storage_mb": {form: corpus_size * b / 2**20 for form, b in sizes.items()}},
    }
