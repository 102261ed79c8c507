"""Models and embedding: ``models``, ``embed``, ``warmup``."""

from __future__ import annotations

import argparse

from vecexplore.cli import Arg, command
from vecexplore.cli.inputs import CORPUS, RAY, jsonable, load_set


@command("models", "list the built-in models")
def models(args: argparse.Namespace) -> dict:
    from vecexplore.encoders import model_catalogue

    return {"models": model_catalogue()}


@command("embed", "embed a corpus and write vectors to Parquet", *CORPUS,
         Arg("-o", "--output", help="output .parquet (texts, labels, vectors, model tag)"), *RAY, backend=True)
def embed(args: argparse.Namespace) -> dict:
    eset, stats, diag = load_set(args)
    if args.output:
        eset.to_parquet(args.output)
    return {"n": eset.n, "dims": eset.dims, "model": eset.model_id, "version": eset.model_version,
            "seconds": round(stats.seconds, 3), "cache_hits": stats.cache_hits, "encoded": stats.encoded,
            "output": args.output, **jsonable(diag)}


@command("warmup", "compile UMAP (numba's disk cache), export MiniLM to ONNX and embed the demo corpora once, ahead "
         "of first use",
         Arg("--model", action="append", help="model to prepare (repeatable; default all-MiniLM-L6-v2)"))
def warmup(args: argparse.Namespace) -> dict:
    from vecexplore.warmup import warm_up

    return warm_up(tuple(args.model or ["all-MiniLM-L6-v2"]))
