"""Maps and clusters: ``project``, ``clusters``."""

from __future__ import annotations

import argparse

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import CORPUS, SEED, load_set


@command("project", "2-D/3-D map of a corpus, with trustworthiness", *CORPUS,
         Arg("--method", choices=["pca", "umap", "tsne"], default="umap"),
         Arg("--dims", type=int, choices=[2, 3], default=2),
         limited("--n-neighbors", "n_neighbors"),
         limited("--k", "neighbours", note="for trustworthiness and k-NN kept; lowered below n/2 for small corpora"),
         limited("--max-points", "max_points"),
         SEED,
         Arg("-o", "--output", help="output .parquet of coordinates"),
         Arg("--faithfulness", action="store_true",
             help="per text, the share of its k nearest neighbours the map keeps (a knn_kept column in -o; mean, "
                  "share below 0.5 and the worst texts in the JSON); every text up to 50,000"),
         Arg("--html", metavar="OUT.html",
             help="also write the map as one self-contained HTML page that opens offline: coloured by label (else "
                  "by cluster), the k-means clusters named on it, a search box"),
         backend=True)
def project(args: argparse.Namespace) -> dict:
    from vecexplore.files.export import coordinates_frame
    from vecexplore.maps.html import map_page, write_page
    from vecexplore.maps.projection import Projector
    from vecexplore.maps.report import cluster_report, faithfulness, map_report

    eset, stats, diag = load_set(args)
    report = map_report(eset, Projector(args.method, n_components=args.dims, n_neighbors=args.n_neighbors,
                                        random_state=args.seed), args.k, args.max_points)
    faithful = faithfulness(eset, report.coords, args.k, seed=args.seed) if args.faithfulness else None
    if args.output:
        frame = coordinates_frame(eset, report.coords, report.method)
        if faithful is not None:
            frame["knn_kept"] = faithful.per_point()
        frame.to_parquet(args.output, index=False)
    out = report.to_dict()
    extra = {"faithfulness": faithful.to_dict()} if faithful is not None else {}
    if args.html:
        clustered = cluster_report(eset, random_state=args.seed) if eset.n > 2 else None
        extra |= {"html": args.html, "html_bytes": write_page(args.html, map_page(report, clustered))}
    return {**out, "embed_seconds": round(stats.seconds, 3), "cache_hits": stats.cache_hits,
            "notes": out["notes"] + diag.get("notes", []), "output": args.output, **extra}


@command("clusters", "clusters in the original space, named by their words, with label purity", *CORPUS,
         Arg("--method", choices=["kmeans", "hdbscan"], default="kmeans"),
         limited("--k", "clusters", note="default: chosen by silhouette"),
         limited("--min-cluster-size", "min_cluster_size",
                 note="HDBSCAN; default: 1/100 of the texts fitted, at least 5"),
         Arg("--granularity", choices=["coarse", "fine"], default="coarse",
             help="fine: 3x the k-means clusters, or HDBSCAN clusters a third of the size"),
         limited("--words", "cluster_words"),
         SEED,
         backend=True)
def clusters(args: argparse.Namespace) -> dict:
    from vecexplore.maps.report import cluster_report

    eset, stats, diag = load_set(args)
    out = cluster_report(eset, args.method, args.k, args.granularity, args.min_cluster_size, args.words,
                         random_state=args.seed).to_dict()
    return {**out, "embed_seconds": round(stats.seconds, 3), "cache_hits": stats.cache_hits,
            "notes": out["notes"] + diag.get("notes", [])}
