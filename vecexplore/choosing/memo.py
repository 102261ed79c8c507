"""What the report card keeps between runs in one process, so that a re-run with the same inputs takes seconds:
each model's measured costs and each model's per-item scores on a task (keyed by what they were computed from:
the model's version and backend, the texts, the vectors' fingerprint, the seed)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np

T = TypeVar("T")


class Memo:
    """A small least-recently-used map shared by the sessions of one process (thread-safe)."""

    def __init__(self, maxsize: int = 64) -> None:
        self.maxsize = maxsize
        self._kept: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def get(self, key: Hashable, compute: Callable[[], T]) -> tuple[T, bool]:
        """The value kept under ``key`` (and True), else ``compute()`` kept and returned (and False)."""
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key], True  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._kept[key] = value
            while len(self._kept) > self.maxsize:
                self._kept.popitem(last=False)
        return value, False


def digest(*parts: object) -> str:
    """A digest of texts, labels, numbers and arrays (arrays by their bytes, not their abbreviated repr)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, list | tuple):
            h.update("\x1e".join(map(repr, part)).encode())
        else:
            h.update(repr(part).encode())
        h.update(b"\x1d")
    return h.hexdigest()[:24]


COSTS = Memo()
SCORES = Memo(256)
