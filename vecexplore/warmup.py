"""Pay a fresh process's one-off costs ahead of the user: numba compiling UMAP and datashader, exporting MiniLM to
ONNX, loading the model, embedding the demo corpora.

Where the first picture's time went (Projection opened at once on a freshly started server, demo corpus; measured
in ``docs/benchmarks.md``, "First picture"): umap-learn asks numba to cache 2 of its ~120 functions, so every new
process compiled UMAP again (about 20 s for a 300-text fit and 10 s for the first ``transform`` on 2 cores, even
after the set-up's warm-up), and it did so in the app's warm-up thread, holding the GIL, before loading the model:
the page's embedding and PCA preview waited behind it. With a new ``VECEXPLORE_HOME`` the page also waited for the
first-use ONNX export (torch traced in Python, tens of seconds).

So: :func:`vecexplore.jit.cache_umap` turns numba's disk cache on for all of umap-learn and pynndescent, and the
set-up (``vecexplore warmup``, which ``make app`` runs: :func:`warm_up`) fills it, exports the models and embeds the
demo corpora into the embedding cache. A server (:func:`start_background`, from app.py) runs a worker process
(``python -m vecexplore.warmup``) that compiles UMAP or loads it from numba's cache, then makes any missing ONNX
export, off the server's GIL; meanwhile its warm-up thread loads the models for the first page
(:func:`encoder`). A page's UMAP waits for the worker's compile (:func:`wait_for_umap`) instead of compiling
it a second time, and the ``auto`` backend takes torch at once while the worker exports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from vecexplore.encoders import MINILM_ID, Encoder
from vecexplore.errors import VecexploreError

UMAP_WAIT_S = 600.0  # the longest a page's UMAP waits for the worker's compile (then it compiles by itself)

_started: threading.Thread | None = None
_lock = threading.Lock()
_encoders: dict[str, Future] = {}  # model id → the encoder the warm-up thread loads for the first page
_exporting: set[str] = set()  # models whose ONNX export the worker is making
_umap_ready = threading.Event()


def warm_umap(small: bool = True, large: bool = True) -> float:
    """Compile UMAP's fit and transform (cosine metric, float32) on both neighbour paths: exact for a small corpus
    (``small``: 300 points, the demo corpora's size), NN-descent beyond 4,096 points (``large``); with numba's disk
    cache on (:func:`vecexplore.jit.cache_umap`), so a later process loads the code. Returns the seconds spent."""
    from vecexplore.jit import cache_umap

    start = time.perf_counter()
    cache_umap()
    import umap

    rng = np.random.default_rng(0)
    sizes = ([300] if small else []) + ([4200] if large else [])
    for n in sizes:
        X = rng.normal(size=(n, 8)).astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = umap.UMAP(n_neighbors=15, metric="cosine", random_state=0, n_jobs=1, n_epochs=5).fit(X)
            model.transform(X[:5])
    return time.perf_counter() - start


def warm_density(n: int = 1000) -> float:
    """Compile the density image's aggregation, by count and by group; returns the seconds spent."""
    from vecexplore.maps.density import density_image

    start = time.perf_counter()
    coords = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    density_image(coords, width=64, height=40).png()
    density_image(coords, width=64, height=40, groups=np.arange(n) % 2, colours=["#000000", "#ffffff"]).png()
    return time.perf_counter() - start


def embed_demos(model_id: str = MINILM_ID) -> float:
    """Embed every shipped demo corpus with ``model_id`` (``auto`` backend) into the embedding cache; returns the
    seconds spent."""
    from vecexplore.cache import EmbeddingCache
    from vecexplore.encoders import load_encoder
    from vecexplore.files.corpus import DEMOS, load_demo
    from vecexplore.pipeline import embed_corpus

    start = time.perf_counter()
    encoder, cache = load_encoder(model_id), EmbeddingCache()
    for key in DEMOS:
        embed_corpus(load_demo(key), encoder, cache=cache)
    return time.perf_counter() - start


def warm_up(models: tuple[str, ...] = (MINILM_ID,)) -> dict:
    """The set-up's warm-up (``vecexplore warmup``): compile UMAP into numba's disk cache, export ``models`` to
    ONNX (``auto`` backend) and embed the demo corpora with the first of them, compile datashader; returns the
    seconds of each step."""
    from vecexplore.encoders import load_encoder

    timings = {"umap_compile_s": warm_umap()}
    for model_id in models:
        start = time.perf_counter()
        load_encoder(model_id)
        timings[f"load_{model_id}_s"] = time.perf_counter() - start
    if models:
        timings["embed_demos_s"] = embed_demos(models[0])
    timings["density_compile_s"] = warm_density()
    return timings


def encoder(model_id: str, backend: str = "auto", corpus: Sequence[str] | None = None) -> Encoder:
    """A model for the app's pages: the copy the warm-up thread loaded (waiting while it loads; handed over once),
    else, while the warm-up worker makes its ONNX export, ``auto`` on torch at once (said in ``backend_note``),
    else :func:`vecexplore.encoders.load_encoder`."""
    with _lock:
        loading = _encoders.pop(model_id, None) if backend == "auto" and corpus is None else None
    if loading is not None:
        with contextlib.suppress(Exception):  # a failure: loaded again below, which shows the error
            return loading.result()
    return _load(model_id, backend, corpus)


def _load(model_id: str, backend: str = "auto", corpus: Sequence[str] | None = None) -> Encoder:
    from vecexplore.encoders import load_encoder

    if backend == "auto" and model_id in _exporting:
        torch = load_encoder(model_id, corpus, backend="torch")
        torch.backend_note = ("torch while the ONNX Runtime export is made in the background (used from the "
                              "next start on).")
        return torch
    return load_encoder(model_id, corpus, backend=backend)


def wait_for_umap(timeout: float = UMAP_WAIT_S) -> None:
    """Wait until the warm-up worker has compiled UMAP (or loaded it from numba's cache), when one is running."""
    if _started is not None:
        _umap_ready.wait(timeout)


def _needs_export(model_id: str) -> bool:
    """Whether ``model_id`` runs on ONNX under ``auto`` and its export is not on disk yet."""
    from vecexplore.encoders import MODELS, onnx_runtime, trainable_folder

    if model_id not in MODELS or not MODELS[model_id].backends or not MODELS[model_id].available():
        return False
    return not onnx_runtime.exported(trainable_folder(model_id)[0])


def _worker(models: tuple[str, ...]) -> subprocess.Popen:
    """Start the warm-up worker (a child process that dies with this one)."""
    return subprocess.Popen([sys.executable, "-m", "vecexplore.warmup", "--parent", str(os.getpid()), *models],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _follow(worker: subprocess.Popen) -> None:
    """Read the worker's progress as it comes: UMAP ready, each export made."""
    for line in worker.stdout:
        done = json.loads(line)
        if done.get("step") == "umap":
            _umap_ready.set()
        _exporting.discard(done.get("exported"))


def _background(models: tuple[str, ...], loads: dict[str, Future]) -> None:
    """The app's warm-up thread: the worker compiles UMAP and makes the missing ONNX exports while this thread loads
    the models for the first page; then UMAP's compiled code is loaded here too. Whatever fails, no page is left
    waiting: a model not loaded here is loaded by the page itself, and UMAP is never waited for past the worker."""
    missing: tuple[str, ...] = ()
    worker = None
    try:
        missing = tuple(m for m in models if _needs_export(m))
        _exporting.update(missing)
        worker = _worker(missing)
        follower = threading.Thread(target=_follow, args=(worker,), name="vecexplore-warm-up-worker", daemon=True)
        follower.start()  # UMAP's readiness is not held up by the model loads below
        for model_id, loading in loads.items():
            try:
                loading.set_result(_load(model_id))
            except Exception as exc:  # noqa: BLE001 (handed to the page, which loads the model itself)
                loading.set_exception(exc)
        follower.join()
    finally:
        for loading in loads.values():
            if not loading.done():
                loading.set_exception(VecexploreError("The warm-up stopped before it loaded the model."))
        if worker is not None:
            worker.wait()
        _umap_ready.set()
        _exporting.difference_update(missing)
    warm_umap()  # numba's cache is filled now: loading the code takes a second or two
    warm_density()


def start_background(models: tuple[str, ...] = (MINILM_ID,)) -> threading.Thread:
    """Start the app's warm-up once per process, in a daemon thread (later calls return the same thread)."""
    global _started
    with _lock:
        if _started is None:
            loads = {model_id: Future() for model_id in models}
            _encoders.update(loads)  # before any page asks for one
            _started = threading.Thread(target=_background, args=(models, loads), name="vecexplore-warm-up",
                                        daemon=True)
            _started.start()
        return _started


def _die_with(parent: int) -> None:
    """Be killed when ``parent`` ends (Linux), and end now if it already has."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    """The warm-up worker: UMAP compiled (or loaded from numba's cache), then each model's ONNX export made; one
    JSON line per step on stdout."""
    parser = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("models", nargs="*")
    args = parser.parse_args(argv)
    _die_with(args.parent)
    print(json.dumps({"step": "umap", "s": round(warm_umap(large=False), 2)}), flush=True)
    for model_id in args.models:
        from vecexplore.encoders import load_encoder

        start = time.perf_counter()
        try:
            load_encoder(model_id)
        finally:
            print(json.dumps({"exported": model_id, "s": round(time.perf_counter() - start, 2)}), flush=True)
    print(json.dumps({"step": "umap-large", "s": round(warm_umap(small=False), 2)}), flush=True)


if __name__ == "__main__":
    main()
