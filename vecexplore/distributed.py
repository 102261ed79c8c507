"""Embedding past one machine with Ray Data (the optional extra ``vecexplore[ray]``).

:func:`ray_embed` is what ``vecexplore embed --ray`` and ``vecexplore index --ray`` run: the driver reads the
corpus with the same rules as a local run, Ray Data cuts it into blocks, each worker loads the model once through
:func:`~vecexplore.encoders.load_encoder` (the same model version as the driver's: a worker that builds another one
refuses to run) and embeds its blocks on the CPU Ray gives it (Ray sets ``OMP_NUM_THREADS``, which the ONNX Runtime
sessions follow), and the workers write Parquet shards ``(row, text, vector)`` into one folder.
The driver reads the shards back, in row order, as an :class:`~vecexplore.embedding_set.EmbeddingSet` tagged like a
local run's; what comes next (``-o``, the store's upsert) runs on the driver as it does locally.

``local`` starts a Ray instance in this process; ``auto`` and ``ray://host:port`` join a running cluster. Ray is
imported only here and only when asked for, so everything else works without the extra. The embedding cache is
neither read nor written on this path: the shards are its output.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from vecexplore.cache import EmbedStats
from vecexplore.config import home
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import MODELS, Encoder, load_encoder
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus
from vecexplore.validation import check

LOCAL_CPUS = 2  # the CPUs, and so the workers, of ``local`` unless --ray-workers says otherwise
CONNECT_TIMEOUT_S = 10.0  # how long a ``ray://host:port`` that does not answer is waited for
BLOCK_ROWS = 2048  # texts per block: a worker's unit of work and one Parquet shard
INSTALL = "pip install 'vecexplore[ray]' (or: .venv/bin/pip install 'ray[data]>=2.40')"
_RAY_URL = re.compile(r"ray://(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})")
# what a cluster's workers take from the driver's environment (their VECEXPLORE_HOME is their own node's)
_PASSED_ON = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM")


@dataclass(frozen=True)
class RayRun:
    """How a Ray run went: where it ran, on how many workers, in how many blocks, where its shards are, how long
    it took in all (``seconds``: Ray's start, the workers' model loads, the embedding, reading the shards back) and
    how fast one worker embeds while it does (``worker_texts_per_s``: texts over the blocks' summed encode time)."""

    address: str
    workers: int
    blocks: int
    shards: str
    files: int
    seconds: float
    worker_texts_per_s: float

    def to_dict(self) -> dict:
        return asdict(self)


def ray_module() -> ModuleType:
    """``ray`` with Ray Data, or a VecexploreError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is a separate part of the extra)
    except ImportError as exc:
        raise VecexploreError(f"--ray needs Ray Data, which is not installed ({exc}): {INSTALL}; or leave out "
                              "--ray to run on this machine.") from exc
    return ray


def check_address(address: str) -> str:
    """``address`` if Ray can be asked to run there: ``local``, ``auto``, or a ``ray://host:port`` that answers
    within :data:`CONNECT_TIMEOUT_S` (Ray's client would retry for half a minute before saying it does not)."""
    address = (address or "").strip()
    if address in ("local", "auto"):
        return address
    found = _RAY_URL.fullmatch(address)
    if found is None or not 0 < int(found["port"]) < 65536:
        raise VecexploreError(f"--ray {address!r}: give local (a Ray instance in this process), auto (the cluster "
                              "this machine belongs to) or ray://HOST:PORT (a cluster's client port, usually 10001).")
    host, port = found["host"].strip("[]"), int(found["port"])
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:  # (a port that answers but is no Ray's: Ray's client gives up after ~30 s)
        raise VecexploreError(f"Nothing answers at {address} ({exc or 'timed out'} within {CONNECT_TIMEOUT_S:g} "
                              "s): start the cluster (`ray start --head` on its head node), check the host and the "
                              "client port, or use --ray local.") from exc
    return address


@contextmanager
def connected(address: str, cpus: int | None = None) -> Iterator[ModuleType]:
    """Ray, started in this process (``local``, ``cpus`` CPUs, default :data:`LOCAL_CPUS`) or joined to a running
    cluster (``auto``, ``ray://host:port``), and shut down afterwards when this call started it. A Ray already
    running in this process (a notebook's, a test's) is used as it is."""
    address = check_address(address)
    ray = ray_module()
    if ray.is_initialized():
        yield ray
        return
    try:
        if address == "local":  # its workers are this process' children: they inherit its environment
            ray.init(num_cpus=cpus or LOCAL_CPUS, include_dashboard=False, logging_level="error",
                     log_to_driver=False)
        else:
            ray.init(address=address, logging_level="error", log_to_driver=False,
                     runtime_env={"env_vars": {k: os.environ[k] for k in _PASSED_ON if k in os.environ}})
    except ConnectionError as exc:
        raise VecexploreError(f"Cannot join the Ray cluster at {address!r} ({str(exc).rstrip('.')}): start one "
                              "with `ray start --head`, give its address, or use --ray local.") from exc
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # the output is JSON: no progress lines on stderr
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


class _Embed:
    """A Ray Data worker: loads the model once, then embeds each block ``(row, text)`` it is given and writes it as
    one Parquet shard ``(row, text, vector)`` named by its first row. A worker whose model is another version than
    the driver's refuses to run (its vectors would be another space's)."""

    def __init__(self, model_id: str, backend: str, version: str, folder: str) -> None:
        self.encoder = load_encoder(model_id, backend=backend)
        self.folder = folder
        if self.encoder.version != version:
            raise VecexploreError(f"A Ray worker built {model_id} version {self.encoder.version}, the driver "
                                  f"{version}: install the same model (and vecexplore) on every node.")

    def __call__(self, block: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows, texts = block["row"].astype(np.int64), block["text"].tolist()
        start = time.perf_counter()
        vectors = np.asarray(self.encoder.encode(texts, batch_size=64), dtype=np.float32)
        seconds = time.perf_counter() - start
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        shard = f"{self.folder}/rows-{int(rows.min()):012d}.parquet"
        pq.write_table(pa.table({"row": rows, "text": pa.array(texts, pa.string()),
                                 "vector": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])}), shard)
        return {"shard": np.array([shard]), "rows": np.array([len(rows)]), "seconds": np.array([seconds])}


def shards_folder(corpus: Corpus, encoder: Encoder) -> Path:
    """Where a run's shards go by default: under ``<VECEXPLORE_HOME>/shards``, one folder per corpus and model
    version (rewritten by the next run of the same pair)."""
    digest = hashlib.sha256(f"{corpus.fingerprint}\x1f{encoder.id}\x1f{encoder.version}".encode()).hexdigest()
    slug = re.sub(r"[^a-z0-9_]+", "-", encoder.id.lower()).strip("-")[:32] or "model"
    return home() / "shards" / f"{slug}-{digest[:16]}"


def _fresh(folder: Path, ours: bool) -> str:
    """``folder`` made ready for new shards: ours (the default folder) is emptied; a folder the user named must be
    new or empty (nothing of theirs is deleted)."""
    if folder.exists():
        if ours:
            shutil.rmtree(folder)
        elif not folder.is_dir() or any(folder.iterdir()):
            raise VecexploreError(f"--ray-shards {folder} is not an empty folder: name a new one (shards of another "
                                  "run would be mixed in).")
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder.resolve())


def read_shards(folder: str | Path, n: int) -> np.ndarray:
    """The vectors of rows ``0..n-1`` from a run's Parquet shards, in row order; refused unless every row is there
    exactly once."""
    import pyarrow.parquet as pq

    table = pq.read_table(folder, columns=["row", "vector"])  # every shard of the folder
    rows = table.column("row").to_numpy()
    if len(rows) != n or not np.array_equal(np.sort(rows), np.arange(n)):
        raise VecexploreError(f"The shards in {folder} hold {len(rows)} rows for {n} texts: rerun the command.")
    vectors = table.column("vector").combine_chunks()
    dims = vectors.type.list_size
    flat = vectors.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    out = np.empty((n, dims), dtype=np.float32)
    out[rows] = flat.reshape(len(rows), dims)
    return out


def ray_embed(corpus: Corpus, model_id: str, *, backend: str = "auto", address: str = "local",
              workers: int | None = None, shards: str | Path | None = None,
              block_rows: int = BLOCK_ROWS) -> tuple[EmbeddingSet, EmbedStats, RayRun]:
    """Every text of ``corpus`` embedded by ``model_id`` on Ray workers (see the module): the set (tagged and
    diagnosed as :func:`~vecexplore.pipeline.embed_corpus` tags a local run's), what the embedding did, and how the
    run went. ``workers``: how many model copies run at once (default: one per CPU of the Ray instance)."""
    if model_id in MODELS and MODELS[model_id].fitted:
        raise VecexploreError(f"{model_id} is fitted on the whole corpus, so its blocks cannot be embedded apart: "
                              "leave out --ray, or choose a pretrained model.")
    if workers is not None:
        check("ray_workers", workers)
    if not corpus.texts:
        raise VecexploreError("The corpus has no texts to embed.")
    if check_address(address) == "local" and workers and workers > (os.cpu_count() or 1):
        raise VecexploreError(f"--ray-workers {workers}: this machine has {os.cpu_count()} CPUs, one per worker of "
                              "--ray local; join a cluster for more.")
    ray_module()  # all of this before the model is loaded: say at once what is wrong
    folder = _fresh(Path(shards), ours=False) if shards else None
    start = time.perf_counter()
    encoder = load_encoder(model_id, backend=backend)  # the version every worker must build, and the diagnosis
    folder = folder or _fresh(shards_folder(corpus, encoder), ours=True)
    with connected(address, cpus=workers) as ray:
        import pandas as pd

        n = len(corpus.texts)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if workers and workers > cpus:  # the workers would wait for CPUs that never come
            raise VecexploreError(f"--ray-workers {workers}: the Ray instance has {cpus} CPUs, one per worker.")
        workers = workers or max(1, cpus)
        size = math.ceil(n / max(workers, math.ceil(n / block_rows)))  # at least one block a worker
        starts = range(0, n, size)
        blocks = len(starts)
        data = ray.data.from_pandas([pd.DataFrame({"row": np.arange(s, min(s + size, n), dtype=np.int64),
                                                   "text": corpus.texts[s:s + size]}) for s in starts])
        written = data.map_batches(
            _Embed, fn_constructor_kwargs={"model_id": model_id, "backend": backend, "version": encoder.version,
                                           "folder": folder},
            batch_size=size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1).take_all()
    vectors = read_shards(folder, n)
    seconds = time.perf_counter() - start
    eset = EmbeddingSet(corpus.texts, vectors, encoder.id, encoder.version, corpus.labels).with_info(
        **encoder.diagnose(corpus.texts), backend=getattr(encoder, "backend", None),
        fidelity=getattr(encoder, "fidelity_", None), backend_note=getattr(encoder, "backend_note", None))
    encoding = sum(float(w["seconds"]) for w in written)
    run = RayRun(address, workers, blocks, folder, len({w["shard"] for w in written}), round(seconds, 3),
                 round(n / encoding, 1) if encoding > 0 else float("inf"))
    return eset, EmbedStats(n, 0, n, seconds), run
