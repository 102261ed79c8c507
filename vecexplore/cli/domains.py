"""Domain shift: ``shift``."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import SEED, TEXT_COL, VECTORS_COL, vectors_set
from vecexplore.errors import VecexploreError


@command("shift", "how far corpus B sits from corpus A: MMD², C2ST AUC, centroid distance, mixing",
         Arg("file_a"), Arg("file_b"),
         Arg("--model", action="append", help="model id (repeat for several; default all-MiniLM-L6-v2)"),
         limited("--permutations", "permutations", note="p-values resolve to 1/(N + 1)"), SEED, TEXT_COL,
         VECTORS_COL, backend=True)
def shift(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.domains.report import shift_report
    from vecexplore.embedder import Embedder
    from vecexplore.files.corpus import load_file
    from vecexplore.files.vectors import holds_vectors

    if any(holds_vectors(Path(f), args.vectors_col, embed=bool(args.model)) for f in (args.file_a, args.file_b)):
        return shift_of_vectors(args)
    a = load_file(args.file_a, args.text_col)
    b = load_file(args.file_b, args.text_col)
    union = [*a.texts, *b.texts]
    cache = EmbeddingCache()
    embedders = [Embedder(m, args.backend, cache, union) for m in args.model or ["all-MiniLM-L6-v2"]]
    report = shift_report(a.texts, b.texts, embedders, permutations=args.permutations, seed=args.seed)
    return {"a": args.file_a, "b": args.file_b, "models": report.to_dict()["models"], "notes": a.notes + b.notes}


def shift_of_vectors(args: argparse.Namespace) -> dict:
    """``shift`` on two files of a user's own vectors, from one model: the sets as they are."""
    from vecexplore.domains.report import shift_sets
    from vecexplore.files.vectors import holds_vectors

    paths = [Path(args.file_a), Path(args.file_b)]
    if not all(holds_vectors(p, args.vectors_col, embed=bool(args.model)) for p in paths):
        raise VecexploreError("Give two files of vectors (from one model), or two corpora to embed with --model: "
                              "one of each cannot be compared.")
    if args.model:
        raise VecexploreError("Your vectors need no model: leave out --model.")
    (set_a, diag_a), (set_b, diag_b) = (vectors_set(p, args.vectors_col, args.text_col) for p in paths)
    report = shift_sets(set_a, set_b, permutations=args.permutations, seed=args.seed)
    return {"a": args.file_a, "b": args.file_b, "models": report.to_dict()["models"],
            "notes": diag_a["notes"] + diag_b["notes"]}
