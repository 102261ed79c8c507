"""Comparing models: ``compare``, ``translate``."""

from __future__ import annotations

import argparse

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import LABEL_COL, TEXT_COL


@command("compare", "compare models on the same texts: CKA, RSA, k-NN Jaccard, probe accuracy", Arg("file"),
         Arg("--models", required=True, help="comma-separated model ids (two or more)"),
         limited("--k", "neighbours", note="for k-NN Jaccard"), TEXT_COL, LABEL_COL, backend=True)
def compare(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.files.corpus import load_file
    from vecexplore.models.compare import embed_models
    from vecexplore.models.report import comparison_report

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
