"""2-D/3-D maps of an embedding set (PCA, UMAP, t-SNE) and how far to trust them."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors

from vecexplore.errors import VecexploreError
from vecexplore.jit import cache_umap
from vecexplore.numeric import l2_normalize, seeded_sample
from vecexplore.validation import LIMITS, check

METHODS = ("pca", "umap", "tsne")
PLACEMENTS = ("neighbours", "umap")  # how the texts UMAP was not fitted on are placed
SAMPLE_SEED = 1  # added to the seed of the fitted sample: drawn apart from the quality scores' sample (seed 0)
TSNE_LIMIT = 20_000  # Barnes-Hut t-SNE takes many minutes beyond this on a laptop-class CPU
EXACT_KEPT = 50_000  # per-point k-NN kept scores every text up to this many, a seeded sample beyond


class Projector:
    """Project vectors to ``n_components`` dims with PCA, UMAP or t-SNE (scikit-learn style).

    Vectors are compared by cosine: PCA runs on unit-length vectors, UMAP and t-SNE use the cosine metric.
    Small inputs are handled rather than refused: UMAP's ``n_neighbors`` is capped at ``n - 1``, and with
    too few points UMAP falls back to PCA. Large inputs: UMAP is fitted on a seeded sample of ``max_fit``
    points (``umap_sample`` in ``validation.LIMITS``; ``fit_index_`` holds the sample) and the others are placed
    on its map: ``placement="neighbours"`` (default) at the similarity-weighted mean of their 10 nearest fitted
    texts' positions (``maps/placing.py``: a million texts in tens of seconds), ``"umap"`` with UMAP's own
    ``transform`` (minutes). New points given to ``transform`` are placed the same way. What was changed is
    listed in ``notes_``.

    Attributes: ``embedding_`` (the fitted coordinates), ``method_`` (the method actually used), ``notes_``.
    """

    def __init__(self, method: str = "umap", n_components: int = 2, n_neighbors: int = 15,
                 min_dist: float = 0.1, perplexity: float = 30.0, random_state: int | None = 0,
                 max_fit: int | None = int(LIMITS["umap_sample"].default),
                 placement: str = "neighbours") -> None:
        self.method = method
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.perplexity = perplexity
        self.random_state = random_state
        self.max_fit = max_fit
        self.placement = placement

    def _check(self, X: np.ndarray) -> np.ndarray:
        if self.method not in METHODS:
            raise VecexploreError(f"Unknown projection method {self.method!r}; choose one of {', '.join(METHODS)}.")
        if self.n_components not in (2, 3):
            raise VecexploreError("A map has 2 or 3 dimensions.")
        check("n_neighbors", self.n_neighbors, "UMAP's n_neighbors")
        check("min_dist", self.min_dist, "UMAP's min_dist")
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[0] < 2:
            raise VecexploreError("A map needs at least 2 texts; add more texts to the corpus.")
        if self.method == "tsne" and len(X) > TSNE_LIMIT:
            raise VecexploreError(f"t-SNE on {len(X):,} texts would take many minutes (limit {TSNE_LIMIT:,}): "
                                  "use UMAP, which fits a sample and places the rest, or lower the number of texts.")
        if self.max_fit is not None:
            check("umap_sample", self.max_fit, "UMAP's sample")
        if self.placement not in PLACEMENTS:
            raise VecexploreError(f"Unknown placement {self.placement!r}; choose one of {', '.join(PLACEMENTS)}.")
        return X

    def fit(self, X: np.ndarray) -> Projector:
        X = self._check(X)
        n, dims = X.shape
        self.notes_: list[str] = []
        method = self.method
        if method in ("umap", "tsne") and n < self.n_components + 4:
            self.notes_.append(f"{method.upper()} needs at least {self.n_components + 4} texts; "
                               f"showing PCA for these {n}.")
            method = "pca"
        if method == "pca":
            from sklearn.decomposition import PCA

            k = min(self.n_components, n, dims)
            self.model_ = PCA(n_components=k, random_state=self.random_state)
            emb = self.model_.fit_transform(l2_normalize(X))
            self.explained_variance_ratio_ = self.model_.explained_variance_ratio_
        elif method == "umap":
            cache_umap()
            import umap

            n_neighbors = min(self.n_neighbors, n - 1)
            if n_neighbors < self.n_neighbors:
                self.notes_.append(f"UMAP's n_neighbors lowered from {self.n_neighbors} to {n_neighbors} "
                                   f"(only {n} texts).")
            self.model_ = umap.UMAP(n_components=self.n_components, n_neighbors=n_neighbors,
                                    min_dist=self.min_dist, metric="cosine", random_state=self.random_state,
                                    n_jobs=1 if self.random_state is not None else -1)
            self.fit_index_ = seeded_sample(n, self.max_fit, SAMPLE_SEED + (self.random_state or 0))
            if len(self.fit_index_) < n:
                how = ("at the similarity-weighted mean of the places of their 10 nearest fitted texts (cosine)"
                       if self.placement == "neighbours" else "with UMAP's transform")
                self.notes_.append(f"UMAP was fitted on a seeded sample of {len(self.fit_index_):,} of the {n:,} "
                                   f"texts; the others were placed on that map {how}.")
                emb = np.zeros((n, self.n_components), dtype=np.float32)
                emb[self.fit_index_] = self.model_.fit_transform(X[self.fit_index_])
                rest = np.setdiff1d(np.arange(n), self.fit_index_, assume_unique=True)
                emb[rest] = self._place(X[rest])
            else:
                emb = self.model_.fit_transform(X)
        else:
            from sklearn.manifold import TSNE

            perplexity = min(self.perplexity, (n - 1) / 3)
            if perplexity < self.perplexity:
                self.notes_.append(f"t-SNE perplexity lowered to {perplexity:.1f} (only {n} texts).")
            self.model_ = TSNE(n_components=self.n_components, perplexity=perplexity, metric="cosine",
                               init="pca", random_state=self.random_state)
            emb = self.model_.fit_transform(X)
        self.method_ = method
        self.embedding_ = _pad(np.asarray(emb, dtype=np.float32), self.n_components)
        return self

    def get_params(self) -> dict:
        """The constructor's parameters (what a fitted map depends on besides the vectors)."""
        return {k: getattr(self, k) for k in ("method", "n_components", "n_neighbors", "min_dist", "perplexity",
                                               "random_state", "max_fit", "placement")}

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).embedding_

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Place new vectors on the fitted map (PCA and UMAP; t-SNE cannot place new points)."""
        if not hasattr(self, "model_"):
            raise VecexploreError("Fit the projection before placing new points on it.")
        if self.method_ == "tsne":
            raise VecexploreError("t-SNE cannot place new points on an existing map; use PCA or UMAP.")
        if self.model_ is None:  # a map read back from a ProjectionCache: its model is loaded on first use
            try:
                with open(self.model_file_, "rb") as fh:
                    self.model_ = pickle.load(fh)
            except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as exc:
                raise VecexploreError("The saved map's model could not be read back; change a setting (or clear "
                                      f"the projections folder) to recompute it ({exc}).") from exc
        if self.method_ == "umap":
            cache_umap()
        X = np.atleast_2d(np.asarray(X, dtype=np.float32))
        if self.method_ == "pca":
            return _pad(np.asarray(self.model_.transform(l2_normalize(X)), dtype=np.float32), self.n_components)
        return self._place(X)

    def _place(self, X: np.ndarray) -> np.ndarray:
        """Positions of vectors UMAP was not fitted on (see ``placement``)."""
        if getattr(self, "placement", "umap") == "umap":  # maps saved before placements existed: "umap"
            return np.asarray(self.model_.transform(X), dtype=np.float32)
        placer = getattr(self, "placer_", None)
        if placer is None:  # built from the fitted texts UMAP keeps; not saved with the map (rebuilt in seconds)
            from vecexplore.maps.placing import Placer

            placer = Placer(random_state=self.random_state or 0).fit(self.model_._raw_data, self.model_.embedding_)
            self.placer_ = placer
        return placer.place(X)


class ProjectionCache:
    """Fitted projectors kept in memory (the last ``max_memory``) and on disk (the last ``max_disk``), keyed by
    the vectors' hash, every parameter of the projector and the library versions: changing a parameter or a
    vector recomputes; a restart, another session or the CLI reuses. Safe to share between threads.

    On disk the map (coordinates, notes) and the fitted model are two files: a map loads in milliseconds, and
    the model (UMAP's, with its neighbour index) only when a new point is placed on it."""

    def __init__(self, folder: str | Path | None = None, max_memory: int = 8, max_disk: int = 16) -> None:
        from vecexplore.config import home

        self.folder = Path(folder) if folder is not None else home() / "projections"
        self.max_memory = max_memory
        self.max_disk = max_disk
        self._memory: OrderedDict[str, Projector] = OrderedDict()
        self._lock = threading.RLock()

    @staticmethod
    def key(X: np.ndarray, projector: Projector) -> str:
        X = np.ascontiguousarray(X, dtype=np.float32)
        digest = hashlib.blake2b(memoryview(X).cast("B"), digest_size=16)  # no copy of the vectors
        versions = {p: metadata.version(p) for p in ("umap-learn", "scikit-learn", "numpy")}
        digest.update(repr((X.shape, sorted(projector.get_params().items()), sorted(versions.items()))).encode())
        return digest.hexdigest()

    def get(self, X: np.ndarray, projector: Projector) -> Projector | None:
        """The fitted projector for these vectors and parameters, or None."""
        return self._get(self.key(X, projector))

    def put(self, X: np.ndarray, fitted: Projector) -> None:
        self._put(self.key(X, fitted), fitted)

    def _get(self, key: str) -> Projector | None:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        path = self.folder / f"{key}.pkl"
        try:
            with open(path, "rb") as fh:
                fitted = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return None
        fitted.model_file_ = self.folder / f"{key}.model.pkl"
        with contextlib.suppress(FileNotFoundError):  # evicted meanwhile: it was read whole all the same
            os.utime(path)  # recently used: evicted last
        self._remember(key, fitted)
        return fitted

    def _put(self, key: str, fitted: Projector) -> None:
        self._remember(key, fitted)
        self.folder.mkdir(parents=True, exist_ok=True)
        light = copy.copy(fitted)
        light.model_ = None
        light.__dict__.pop("placer_", None)  # rebuilt from the model when a point is placed
        for name, obj in ((f"{key}.model.pkl", fitted.model_), (f"{key}.pkl", light)):  # the map last: complete
            tmp = self.folder / f".{name}.{threading.get_ident()}.tmp"
            with open(tmp, "wb") as fh:
                pickle.dump(obj, fh, protocol=5)
            tmp.replace(self.folder / name)
        self._evict()

    def _evict(self) -> None:
        """Drop the least recently used maps beyond ``max_disk``; another session or process may be evicting at
        the same moment, so a file that is already gone is skipped, never an error."""
        with self._lock:
            maps = []
            for path in self.folder.glob("*.pkl"):
                if not path.name.endswith(".model.pkl"):
                    with contextlib.suppress(FileNotFoundError):
                        maps.append((path.stat().st_mtime, path))
            for _, old in sorted(maps)[: -self.max_disk]:
                old.unlink(missing_ok=True)
                old.with_suffix(".model.pkl").unlink(missing_ok=True)

    def _remember(self, key: str, fitted: Projector) -> None:
        with self._lock:
            self._memory[key] = fitted
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_memory:
                self._memory.popitem(last=False)

    def fit(self, X: np.ndarray, projector: Projector) -> tuple[Projector, bool]:
        """``(fitted projector, True if it came from the cache)``; the vectors are hashed once."""
        key = self.key(X, projector)
        found = self._get(key)
        if found is not None:
            return found, True
        fitted = projector.fit(X)
        self._put(key, fitted)
        return fitted, False


def _pad(emb: np.ndarray, n_components: int) -> np.ndarray:
    """Zero columns for components PCA could not produce (fewer points than requested dims)."""
    if emb.shape[1] == n_components:
        return emb
    return np.hstack([emb, np.zeros((emb.shape[0], n_components - emb.shape[1]), dtype=emb.dtype)])


def quality_k(k: int, n: int) -> int | None:
    """The neighbourhood size the map-quality scores can use on ``n`` points: ``k`` lowered to below ``n / 2``
    (trustworthiness' own condition), or None when there are too few points (fewer than 5) for either score."""
    qk = min(k, (n - 1) // 2 - 1)
    return qk if n >= 5 and qk >= 1 else None


def trustworthiness(X: np.ndarray, X_embedded: np.ndarray, n_neighbors: int = 5, metric: str = "cosine",
                    max_points: int | None = None, seed: int = 0, chunk: int = 256) -> float:
    """Trustworthiness of a map, as ``sklearn.manifold.trustworthiness`` computes it, in bounded memory.

    1.0 means every point's ``n_neighbors`` nearest points on the map are also near it in the original
    space; it drops as the map brings in points that are really far away. ``max_points`` computes it on a
    seeded sample of points (the sample's own neighbourhoods), for large corpora.
    """
    idx = seeded_sample(len(X), max_points, seed)
    X = np.asarray(X)[idx]
    Y = np.asarray(X_embedded)[idx]
    n = len(X)
    if not 0 < n_neighbors < n / 2:
        raise VecexploreError(f"Trustworthiness needs n_neighbors < n/2 (n = {n}, n_neighbors = {n_neighbors}).")
    nn_y = NearestNeighbors(n_neighbors=n_neighbors).fit(Y).kneighbors(return_distance=False)
    total = 0
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        dist = pairwise_distances(X[rows], X, metric=metric)
        dist[np.arange(dist.shape[0]), np.arange(rows.start, rows.stop)] = np.inf
        order = np.argsort(dist, axis=1)
        inverted = np.empty_like(order)
        np.put_along_axis(inverted, order, np.arange(1, n + 1)[None, :].repeat(len(order), 0), axis=1)
        ranks = np.take_along_axis(inverted, nn_y[rows], axis=1) - n_neighbors
        total += int(ranks[ranks > 0].sum())
    return float(1.0 - total * (2.0 / (n * n_neighbors * (2.0 * n - 3.0 * n_neighbors - 1.0))))


class PointsKept(NamedTuple):
    """Per scored text: ``index`` (its row in the full set), ``kept`` (the share of its k true neighbours that are
    also among its k nearest on the map) and ``neighbours`` (its k cosine nearest neighbours in the original
    space, rows of the full set, nearest first)."""

    index: np.ndarray
    kept: np.ndarray
    neighbours: np.ndarray

    def worst(self, n: int = 10) -> np.ndarray:
        """Positions (into ``index``, ``kept``, ``neighbours``) of the ``n`` texts that kept the fewest
        neighbours, worst first (equal shares by row)."""
        return np.lexsort((self.index, self.kept))[:n]


def knn_kept_per_point(X: np.ndarray, X_embedded: np.ndarray, k: int = 10, max_points: int | None = EXACT_KEPT,
                       seed: int = 0) -> PointsKept:
    """Each text's share of its ``k`` cosine nearest neighbours (original space) that are also among its ``k``
    nearest on the map (euclidean), exactly (brute-force ``NearestNeighbors``).

    Up to ``max_points`` texts (None: no limit) every text is scored against all the others. Above, a seeded
    sample of ``max_points`` texts is scored and each text's neighbours are searched among the sample only (as
    :func:`trustworthiness` and :func:`knn_kept` do): the score and the neighbours then describe the sample."""
    idx = seeded_sample(len(X), max_points, seed)
    Xs = np.asarray(X)[idx]
    Ys = np.asarray(X_embedded)[idx]
    m = len(Xs)
    if not 0 < k < m:
        raise VecexploreError(f"k-NN kept needs 0 < k < n (n = {m}, k = {k}).")
    nn_x = NearestNeighbors(n_neighbors=k, metric="cosine").fit(Xs).kneighbors(return_distance=False)
    nn_y = NearestNeighbors(n_neighbors=k).fit(Ys).kneighbors(return_distance=False)
    offset = np.arange(m)[:, None] * m  # one key per (text, neighbour): a row's neighbours are found in its row
    found = np.isin(nn_x + offset, nn_y + offset, assume_unique=True)
    return PointsKept(idx, found.sum(axis=1) / k, idx[nn_x])


def knn_kept(X: np.ndarray, X_embedded: np.ndarray, k: int = 10, max_points: int | None = None,
             seed: int = 0) -> float:
    """Mean share of each point's ``k`` cosine nearest neighbours that are also among its ``k`` nearest on the map
    (the mean of :func:`knn_kept_per_point`)."""
    return float(knn_kept_per_point(X, X_embedded, k, max_points, seed).kept.mean())


@dataclass(frozen=True)
class MapQuality:
    """Trustworthiness and the share of k-NN kept, at the neighbourhood size ``k`` the data allow (None: fewer
    than 5 texts), measured on ``sample`` texts (a seeded sample above ``max_points``)."""

    k: int | None
    trustworthiness: float | None
    knn_kept: float | None
    sample: int

    def to_dict(self) -> dict:
        if self.k is None:
            return {}
        return {"trustworthiness": self.trustworthiness, "knn_kept": self.knn_kept, "quality_k": self.k}


def map_quality(vectors: np.ndarray, coords: np.ndarray, k: int = 10, max_points: int | None = 5000) -> MapQuality:
    """Both quality scores of a map at ``k`` lowered below n/2 (trustworthiness' own condition)."""
    sample = len(vectors) if max_points is None else min(len(vectors), max_points)
    qk = quality_k(k, sample)
    if qk is None:
        return MapQuality(None, None, None, sample)
    return MapQuality(qk, trustworthiness(vectors, coords, qk, max_points=max_points),
                      knn_kept(vectors, coords, qk, max_points=max_points), sample)
