"""numba's disk cache for umap-learn and pynndescent, which ask for it on a few functions only.

umap-learn declares 2 of its ~120 numba functions with ``cache=True``, so every new process compiled the rest on
its first UMAP: 21 s for a 300-text fit and 10 s more for the first ``transform`` on a 2-core machine, even after
the set-up's warm-up. :func:`cache_umap` turns numba's on-disk cache on for every numba function of the two
libraries (``Dispatcher.enable_caching``, numba's own switch) before the first compile, so the set-up's warm-up
(``vecexplore warmup``) leaves compiled code on disk for each of them and a fresh process loads it: the same fit
then took 0.8 s. numba keys its cache by the function's source file and its modification time, the argument types
and the CPU, so an upgraded library or another machine compiles afresh.
"""

from __future__ import annotations

import sys
import threading

LIBRARIES = ("umap", "pynndescent")
_done = False
_lock = threading.Lock()


def cache_umap() -> None:
    """Import umap-learn and turn numba's disk cache on for every numba function of umap and pynndescent (once per
    process, before any of them is compiled for new argument types)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        import umap  # noqa: F401  (imports pynndescent too)
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher

        for name, module in list(sys.modules.items()):
            if module is None or name.split(".")[0] not in LIBRARIES:
                continue
            for value in list(vars(module).values()):
                if isinstance(value, CPUDispatcher) and isinstance(value._cache, NullCache):
                    value.enable_caching()
        _done = True
