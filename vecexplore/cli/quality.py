"""What may be wrong with my data: ``quality``."""

from __future__ import annotations

import argparse

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import CORPUS, SEED, jsonable, load_set


def _sampled(eset, max_texts: int | None, seed: int, notes: list[str]):
    from vecexplore.numeric import seeded_sample

    if max_texts is None or eset.n <= max_texts:
        return eset
    notes.append(f"A seeded sample (seed {seed}) of {max_texts:,} of the {eset.n:,} rows: row numbers are "
                 "positions in that sample.")
    return eset.subset(seeded_sample(eset.n, max_texts, seed))


@command("quality", "near-duplicates, outliers, likely label errors and leakage, found in the embedding space",
         *CORPUS, Arg("--against", help="a second file (e.g. the test set) to look for copies of FILE's rows in"),
         limited("--threshold", "dup_threshold", float, note="cosine of a near-duplicate"),
         limited("--k", "neighbours", note="for the outlier scores"), limited("--max-texts", "max_texts"), SEED,
         Arg("--top", type=int, default=None, help="list at most this many of each finding (default: all)"),
         backend=True)
def quality(args: argparse.Namespace) -> dict:
    from vecexplore.quality.report import quality_report

    notes: list[str] = []
    eset, _, info = load_set(args)
    notes += info.get("notes", [])
    eset = _sampled(eset, args.max_texts, args.seed, notes)
    other = None
    if args.against:
        other, _, other_info = load_set(argparse.Namespace(**{**vars(args), "file": args.against,
                                                               "label_col": None}))
        notes += other_info.get("notes", [])
        other = _sampled(other, args.max_texts, args.seed, notes)
    report = quality_report(eset, other, threshold=args.threshold, k=args.k, seed=args.seed)
    out = report.to_dict(top=args.top)
    return {"model": eset.model_id, "rows_read": eset.n, **jsonable(out), "notes": [*notes, *out["notes"]]}
