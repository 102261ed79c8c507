"""What a fresh Python process measures, as a new user's app process would meet it: the first map (cold start),
the install's UMAP warm-up, and 100,000 texts end to end. ``bench/speed.py`` runs each stage in its own process
and reads the JSON line it prints last:

    python bench/fresh.py cold X.npy MODE PROJECTIONS   # MODE: fresh, plain, warm-thread or cache-hit
    python bench/fresh.py warm-umap
    python bench/fresh.py scale TEXTS.csv RUN           # RUN: cold or warm
"""

import argparse
import json
import time

T0 = time.perf_counter()  # the cold start is timed from here: before numpy and vecexplore are imported


def cold(vectors: str, mode: str, projections: str) -> dict:
    """Map the vectors in ``vectors`` (a .npy file): PCA first, then UMAP, timed from the process start.
    ``warm-thread``: the app's warm-up thread runs to its end first; ``fresh``: the UMAP map is then stored in
    the projection cache ``projections``, which ``cache-hit`` reads back instead of mapping."""
    import numpy as np

    from vecexplore.maps.projection import ProjectionCache, Projector

    X = np.load(vectors)
    out = {}
    if mode == "cache-hit":
        proj = ProjectionCache(projections).get(X, Projector("umap"))
        assert proj is not None
        out["umap_ready_s"] = time.perf_counter() - T0
        return out
    if mode == "warm-thread":
        from vecexplore.warmup import start_background

        start_background(models=()).join()
        out["warm_up_s"] = time.perf_counter() - T0
    Projector("pca").fit(X)
    out["pca_ready_s"] = time.perf_counter() - T0
    start = time.perf_counter()
    proj = Projector("umap").fit(X)
    out["umap_s"] = time.perf_counter() - start
    out["umap_ready_s"] = time.perf_counter() - T0
    if mode == "fresh":
        ProjectionCache(projections).put(X, proj)
    return out


def warm_umap() -> dict:
    """The install's warm-up of UMAP (numba compiles into its disk cache)."""
    from vecexplore.warmup import warm_umap

    warm_umap()
    return {"s": time.perf_counter() - T0}


def scale(table: str, run: str) -> dict:
    """Every stage of 100,000 texts end to end, as the app runs them, each timed with the peak memory after it:
    read the CSV → embed → UMAP → quality → cluster names → density draw and a zoomed re-draw → Qdrant (indexed
    on the ``cold`` run only) → search → compare. The warm-up thread starts first, as app.py starts it."""
    from vecexplore.warmup import start_background

    start_background(models=())  # as app.py does at start: numba compiles while the corpus is embedded

    from common import peak_gib

    stages = {}

    def stage(name, fn):
        start = time.perf_counter()
        value = fn()
        stages[name] = {"s": time.perf_counter() - start, "peak_gib": peak_gib()}
        return value

    import numpy as np

    from vecexplore.cache import EmbeddingCache
    from vecexplore.encoders import load_encoder
    from vecexplore.files.corpus import load_file
    from vecexplore.maps.projection import ProjectionCache, Projector, map_quality
    from vecexplore.pipeline import embed_corpus

    corpus = stage("read the CSV", lambda: load_file(table, "text", "label"))
    encoder = stage("load the model (default backend)", lambda: load_encoder("all-MiniLM-L6-v2"))
    eset = stage("embed (progress + cache per chunk)",
                 lambda: embed_corpus(corpus, encoder, cache=EmbeddingCache())[0])
    X = eset.vectors
    proj = stage("UMAP 2-D (fit 20k sample + transform the rest)",
                 lambda: ProjectionCache().fit(X, Projector("umap"))[0])
    quality = stage("trustworthiness + k-NN kept (3,000-point sample)",
                    lambda: map_quality(X, proj.embedding_, 10, max_points=3000))
    from vecexplore.maps.report import cluster_report

    clusters = stage("cluster names (k-means, k by silhouette, c-TF-IDF)", lambda: cluster_report(eset))
    from vecexplore.maps.density import full_window, in_window
    from vecexplore.maps.drawing import density_map, name_marks

    coords = proj.embedding_

    def draw(window):  # what the page draws above 50,000 texts in 2-D: the density view by label, cluster names
        names = name_marks(coords, clusters.labels, clusters.labeler.names_)
        return len(density_map(coords, window, eset.texts, eset.labels, names=names).figure.to_json())

    whole = full_window(coords)
    first_bytes = stage("first draw: density image of every text by label + 10,000-point layer + figure JSON",
                        lambda: draw(whole))
    (x0, x1), (y0, y1) = whole
    cx, cy = np.median(coords, axis=0)
    zoom = ((cx - (x1 - x0) / 8, cx + (x1 - x0) / 8), (cy - (y1 - y0) / 8, cy + (y1 - y0) / 8))
    zoom_bytes = stage("zoomed re-draw (a box of 1/16 of the map's area)", lambda: draw(zoom))
    in_zoom = int(in_window(coords, *zoom).sum())
    from vecexplore.search.opening import open_store

    store = open_store()
    if run == "cold":
        stage("index into Qdrant Edge (embedded) + HNSW build", lambda: store.index("big", eset))
    from vecexplore.pipeline import query_set

    asked = ["oil prices rise after the storm", "the team won the final", "new phone chip"] * 7
    queries = [query_set([q], encoder) for q in asked]

    def search_all():
        times = []
        for q in queries:
            start = time.perf_counter()
            store.search("big", q, k=10)
            times.append(time.perf_counter() - start)
        return times

    times = stage("21 searches, k = 10", search_all)
    from vecexplore.embedder import Embedder
    from vecexplore.models.compare import embed_models
    from vecexplore.models.report import comparison_report

    sample = corpus.sample(10_000)

    def compare():
        cache = EmbeddingCache()
        sets, _, _ = embed_models(sample, [Embedder(m, cache=cache) for m in ("all-MiniLM-L6-v2", "glove-6B-50d")])
        return comparison_report(sets)

    stage("compare MiniLM vs GloVe (10k sample)", compare)
    return {"stages": stages, "n": len(X), "trust": quality.trustworthiness, "knn_kept": quality.knn_kept,
            "method": proj.method_, "notes": proj.notes_, "figure_bytes": [first_bytes, zoom_bytes],
            "in_zoom": in_zoom, "clusters": clusters.labeler.n_clusters_,
            "search_p50_ms": 1000 * float(np.median(times)), "peak_gib": peak_gib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    stages = parser.add_subparsers(dest="stage", required=True)
    c = stages.add_parser("cold", help=cold.__doc__.split("\n")[0])
    c.add_argument("vectors")
    c.add_argument("mode", choices=("fresh", "plain", "warm-thread", "cache-hit"))
    c.add_argument("projections")
    stages.add_parser("warm-umap", help=warm_umap.__doc__)
    s = stages.add_parser("scale", help=scale.__doc__.split("\n")[0])
    s.add_argument("table")
    s.add_argument("run", choices=("cold", "warm"))
    args = parser.parse_args()
    if args.stage == "cold":
        out = cold(args.vectors, args.mode, args.projections)
    elif args.stage == "warm-umap":
        out = warm_umap()
    else:
        out = scale(args.table, args.run)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
