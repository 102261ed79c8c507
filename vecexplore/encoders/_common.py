"""What the encoder modules share: the progress callback type, weight digests, truncation reports."""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from vecexplore.errors import VecexploreError

Progress = Callable[[int, int], None]


@runtime_checkable
class Encoder(Protocol):
    """What every model offers the rest of vecexplore."""

    id: str
    version: str
    dims: int

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """One float32 row per text."""
        ...

    def diagnose(self, texts: Sequence[str]) -> dict:
        """What the model could not see of these texts (truncation, unknown words...)."""
        ...


def file_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def folder_digest(folder: Path) -> str:
    """Digest of a model folder's weights and configs (memoised per folder and modification time)."""
    return _folder_digest(str(folder), folder.stat().st_mtime_ns)


@cache
def _folder_digest(folder: str, mtime_ns: int) -> str:
    root = Path(folder)
    weights = [p for p in root.rglob("*") if p.suffix in {".safetensors", ".bin", ".onnx"} and p.is_file()]
    configs = [p for p in root.glob("*.json") if p.is_file()]
    if not weights:
        raise VecexploreError(f"No model weights (*.safetensors or *.bin) found in {folder}.")
    return file_digest(weights + configs)


def cpu_threads() -> int:
    """The threads one ONNX Runtime model copy runs on: ``OMP_NUM_THREADS`` when it is set (what Ray gives each
    worker: its share of CPUs, so the copies on one node do not fight over its cores), else the machine's cores."""
    given = os.environ.get("OMP_NUM_THREADS", "")
    return int(given) if given.isdigit() and int(given) > 0 else os.cpu_count() or 1


def chunks(n: int, size: int) -> list[slice]:
    """``range(n)`` cut into slices of at most ``size``."""
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def truncation_report(counts: np.ndarray, max_seq_length: int) -> dict:
    """Which texts (by token count) are longer than the model reads."""
    truncated = counts > max_seq_length
    return {"max_seq_length": max_seq_length, "n_truncated": int(truncated.sum()),
            "truncated_share": float(truncated.mean()) if len(counts) else 0.0,
            "truncated_index": np.flatnonzero(truncated).tolist()}


def untruncated_counts(tokenizer, texts: Sequence[str]) -> np.ndarray:
    """Token count of each text before truncation, from a ``tokenizers.Tokenizer`` that truncates at
    the model's length; counted on a copy, so encoders shared between sessions never see truncation off."""
    counter = copy.deepcopy(tokenizer)
    counter.no_truncation()
    return np.array([sum(e.attention_mask) for e in counter.encode_batch(list(texts))], dtype=int)


