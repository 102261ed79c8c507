"""What may be wrong with my data: ``quality``."""

from __future__ import annotations

import argparse

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import CORPUS, SEED, jsonable, load_set


def _read(args: argparse.Namespace, prefix: str, notes: list[str]):
    """The set from ``args.file``, sampled to ``--max-texts`` (seeded), with the positions of its rows among the
    rows the reader kept (None when all are kept) and what the reader read."""
    from vecexplore.numeric import seeded_sample

    eset, _, info = load_set(args)
    notes += info.get("notes", [])
    skipped = int(info.get("rows_skipped", 0))
    counts = {f"{prefix}rows_read": eset.n + skipped, f"{prefix}rows_skipped": skipped, f"{prefix}rows_kept": eset.n}
    if args.max_texts is None or eset.n <= args.max_texts:
        return eset, None, counts
    rows = seeded_sample(eset.n, args.max_texts, args.seed)
    notes.append(f"A seeded sample (seed {args.seed}) of {args.max_texts:,} of the {eset.n:,} rows of "
                 f"{args.file}: row numbers are still positions among the rows kept.")
    return eset.subset(rows), rows, counts


@command("quality", "near-duplicates, outliers, likely label errors and leakage, found in the embedding space",
         *CORPUS, Arg("--against", help="a second file (e.g. the test set) to look for copies of FILE's rows in"),
         limited("--threshold", "dup_threshold", float, note="cosine of a near-duplicate"),
         limited("--k", "neighbours", note="for the outlier scores"), limited("--max-texts", "max_texts"), SEED,
         Arg("--top", type=int, default=None, help="list at most this many of each finding (default: all)"),
         backend=True)
def quality(args: argparse.Namespace) -> dict:
    """Rows are 0-based positions among the rows the reader kept (blank or missing texts are skipped: counted in
    rows_skipped)."""
    from vecexplore.quality.report import quality_report

    notes: list[str] = []
    eset, rows, counts = _read(args, "", notes)
    other = other_rows = None
    if args.against:
        other, other_rows, other_counts = _read(argparse.Namespace(**{**vars(args), "file": args.against,
                                                                      "label_col": None}), "against_", notes)
        counts |= other_counts
    report = quality_report(eset, other, threshold=args.threshold, k=args.k, seed=args.seed)
    out = report.to_dict(top=args.top, rows=rows, other_rows=other_rows)
    return {"model": eset.model_id, **counts, **jsonable(out), "notes": [*notes, *out["notes"]]}
