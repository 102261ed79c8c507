"""Pay a fresh process's one-off costs ahead of the user: numba compiling datashader and UMAP, exporting MiniLM
to ONNX.

A new process compiles umap-learn's and pynndescent's numba code on its first UMAP (tens of seconds on a
2-core machine; numba's disk cache keeps only part of it). ``warm_up`` runs a tiny UMAP fit and transform on
random vectors, on the same code paths as a real corpus (NN-descent needs more than 4,096 points), so the
first real map costs what any later one does. Datashader's aggregation (the density view of large maps) is
compiled first: it takes about a second, and numba compiles one function at a time, so a density map asked for
while UMAP compiles would otherwise wait for it. The app runs it in a background thread at start; ``make app``
runs it once at install (``vecexplore warmup``).
"""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np

_started: threading.Thread | None = None
_lock = threading.Lock()


def warm_umap(n: int = 4200, dims: int = 8) -> float:
    """Compile UMAP's fit and transform (cosine metric, float32, NN-descent path); returns the seconds spent."""
    import umap

    start = time.perf_counter()
    X = np.random.default_rng(0).normal(size=(n, dims)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = umap.UMAP(n_neighbors=15, metric="cosine", random_state=0, n_jobs=1, n_epochs=5).fit(X)
        model.transform(X[:50])
    return time.perf_counter() - start


def warm_density(n: int = 1000) -> float:
    """Compile the density image's aggregation, by count and by group; returns the seconds spent."""
    from vecexplore.maps.density import density_image

    start = time.perf_counter()
    coords = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    density_image(coords, width=64, height=40).png()
    density_image(coords, width=64, height=40, groups=np.arange(n) % 2, colours=["#000000", "#ffffff"]).png()
    return time.perf_counter() - start


def warm_up(models: tuple[str, ...] = ("all-MiniLM-L6-v2",)) -> dict:
    """Compile datashader and UMAP, and export ``models`` to ONNX (``auto`` backend); returns the seconds of
    each step."""
    from vecexplore.encoders import load_encoder

    timings = {"density_compile_s": warm_density(), "umap_compile_s": warm_umap()}
    for model_id in models:
        start = time.perf_counter()
        load_encoder(model_id)
        timings[f"load_{model_id}_s"] = time.perf_counter() - start
    return timings


def start_background(models: tuple[str, ...] = ("all-MiniLM-L6-v2",)) -> threading.Thread:
    """Run :func:`warm_up` once per process in a daemon thread (later calls return the same thread)."""
    global _started
    with _lock:
        if _started is None:
            _started = threading.Thread(target=warm_up, args=(models,), name="vecexplore-warm-up", daemon=True)
            _started.start()
        return _started
