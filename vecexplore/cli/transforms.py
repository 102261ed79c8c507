"""Anisotropy and post-processing: ``isotropy``, ``sts``."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import CORPUS, load_set, read_text

TRANSFORM = (Arg("--transform", choices=["none", "center", "abtt", "whiten", "zca"], default="none"),
             limited("--k", "whiten_k", note="whitening"),
             limited("--d", "abtt_d", note="all-but-the-top"))


@command("isotropy", "anisotropy metrics, before/after a transform fitted on the corpus", *CORPUS, *TRANSFORM,
         Arg("--save-transform", help="save the fitted transform (.npz) for reuse"), backend=True)
def isotropy(args: argparse.Namespace) -> dict:
    from vecexplore.transforms.report import isotropy_report

    eset, _, _ = load_set(args)
    report = isotropy_report(eset, args.transform, k=args.k, d=args.d)
    if args.save_transform and report.applied:
        report.transform.save(args.save_transform)
    return report.to_dict()


@command("sts", "Spearman/Pearson of cosine vs human scores on sentence pairs",
         Arg("pairs", help="CSV rows sentence1,sentence2,score (STS-B format)"),
         Arg("--model", required=True), *TRANSFORM,
         Arg("--fit-on", help="corpus file to fit the transform on (default: the pairs' sentences)"), backend=True)
def sts(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.files.corpus import load_file
    from vecexplore.transforms.report import sts_effect
    from vecexplore.transforms.sts import sts_pairs

    pairs = sts_pairs(read_text(args.pairs), Path(args.pairs).name)
    fit_texts = load_file(args.fit_on).texts if args.fit_on else None
    embedder = Embedder(args.model, args.backend, EmbeddingCache(),
                        [*pairs.s1, *pairs.s2] if fit_texts is None else fit_texts)
    params = {"whiten": {"k": args.k}, "abtt": {"d": args.d}}.get(args.transform, {})
    effect = sts_effect(pairs, embedder, [(args.transform, params)], fit_texts)
    encoder = embedder.encoder()
    row = effect.row(args.transform, "the corpus" if fit_texts is not None else "the pairs")
    return {"model": encoder.id, "version": encoder.version, "transform": row["spec"],
            "fitted_on": args.fit_on or ("the pairs" if args.transform != "none" else None),
            "spearman": row["spearman"], "pearson": row["pearson"], "n": row["n"],
            "n_bad_rows": 0,  # kept for scripts that read it: a bad line is now refused with its line number
            "n_out_of_range": pairs.n_out_of_range, "notes": list(pairs.notes)}
