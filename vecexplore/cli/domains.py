"""Domain shift: ``shift``."""

from __future__ import annotations

import argparse

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import SEED, TEXT_COL


@command("shift", "how far corpus B sits from corpus A: MMD², C2ST AUC, centroid distance, mixing",
         Arg("file_a"), Arg("file_b"),
         Arg("--model", action="append", help="model id (repeat for several; default all-MiniLM-L6-v2)"),
         limited("--permutations", "permutations", note="p-values resolve to 1/(N + 1)"), SEED, TEXT_COL,
         backend=True)
def shift(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.domains.report import shift_report
    from vecexplore.embedder import Embedder
    from vecexplore.files.corpus import load_file

    a = load_file(args.file_a, args.text_col)
    b = load_file(args.file_b, args.text_col)
    union = [*a.texts, *b.texts]
    cache = EmbeddingCache()
    embedders = [Embedder(m, args.backend, cache, union) for m in args.model or ["all-MiniLM-L6-v2"]]
    report = shift_report(a.texts, b.texts, embedders, permutations=args.permutations, seed=args.seed)
    return {"a": args.file_a, "b": args.file_b, "models": report.to_dict()["models"], "notes": a.notes + b.notes}
