"""Comparing models: ``compare``, ``translate``."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, OneOf, command, limited
from vecexplore.cli.inputs import LABEL_COL, TEXT_COL
from vecexplore.errors import VecexploreError


@command("compare", "compare models on the same texts: CKA, RSA, k-NN Jaccard, probe accuracy", Arg("file"),
         OneOf(Arg("--models", help="comma-separated model ids (two or more)"),
               Arg("--vectors-cols", help="your own vectors: two or more comma-separated vector columns of FILE "
                                          "(the same rows in each), compared in place of models")),
         limited("--k", "neighbours", note="for k-NN Jaccard"), TEXT_COL, LABEL_COL, backend=True)
def compare(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.files.corpus import load_file
    from vecexplore.models.compare import column_sets, embed_models
    from vecexplore.models.report import comparison_report

    if args.vectors_cols:
        path = Path(args.file)
        if not path.exists():
            raise VecexploreError(f"{path} does not exist: give the table holding the vector columns.")
        columns = [c.strip() for c in args.vectors_cols.split(",") if c.strip()]
        return comparison_report(column_sets(path.name, path, columns, args.text_col, args.label_col),
                                 k=args.k).to_dict()
    if not args.models:
        raise VecexploreError("Name the models to compare with --models (or your vector columns with --vectors-cols).")
    corpus = load_file(args.file, args.text_col, args.label_col)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    cache = EmbeddingCache()
    sets, info, notes = embed_models(corpus, [Embedder(m, args.backend, cache, corpus.texts) for m in models])
    out = comparison_report(sets, k=args.k, info=info).to_dict()
    return {**out, "notes": corpus.notes + notes + out["notes"]}


@command("translate", "fit a linear map between two models' spaces and test it on held-out texts", Arg("file"),
         Arg("--from", dest="source", required=True), Arg("--to", dest="target", required=True),
         Arg("--method", choices=["lstsq", "ridge", "procrustes"], default="lstsq"), TEXT_COL, backend=True)
def translate(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.files.corpus import load_file
    from vecexplore.models.compare import embed_models
    from vecexplore.models.report import translation_report

    corpus = load_file(args.file, args.text_col, None)
    cache = EmbeddingCache()
    sets, _, notes = embed_models(corpus, [Embedder(m, args.backend, cache, corpus.texts)
                                           for m in (args.source, args.target)], throughput_sample=0)
    report = translation_report(sets[args.source], sets[args.target], args.method)
    return {"from": args.source, "to": args.target, **report.to_dict(), "notes": notes}
