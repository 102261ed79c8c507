"""The data-quality workflow (the page and ``vecexplore quality`` call it): one embedding set (and optionally a
second one, for leakage) in → the rows a user should look at, each list ranked worst first."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vecexplore.embedding_set import EmbeddingSet, same_space
from vecexplore.errors import VecexploreError
from vecexplore.quality import finders as F
from vecexplore.validation import check

SENTENCES = {
    "duplicates": "Near-duplicates: texts whose vectors point almost the same way (cosine at least the threshold), "
                  "or that are the same text once case and spacing are ignored; each group should usually keep one.",
    "outliers": "Outliers: texts far from their nearest neighbours compared with how close those neighbours are to "
                "theirs (local outlier factor); junk, another language or a rare topic shows up here.",
    "label_issues": "Likely label errors: a simple classifier trained on the other texts is confident the label is "
                    "something else; read each one before changing it.",
    "leakage": "Leakage: texts of the second set that repeat, or nearly repeat, a text of the first; a test set "
               "with copies of training texts makes a model look better than it is.",
}


DUPLICATE_K = 10  # neighbours per row the near-duplicate groups are built from, above the exact size


@dataclass
class QualityReport:
    n: int
    threshold: float
    k: int
    duplicates: list[list[int]]  # groups of row indices, largest first
    exact_duplicates: int  # rows that repeat an earlier row's text exactly (normalised)
    nearest: np.ndarray  # each row's highest cosine to another row
    outliers: list[dict]  # {index, score}, worst first
    outlier_scores: np.ndarray
    label_issues: list[dict] = field(default_factory=list)  # {index, given, suggested, score}, worst first
    mixed_classes: list[dict] = field(default_factory=list)
    label_quality: np.ndarray | None = None
    leakage: dict | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self, top: int | None = None, rows: np.ndarray | None = None,
                other_rows: np.ndarray | None = None) -> dict:
        """Each list worst first, at most ``top`` long; ``rows`` (``other_rows``) the number to print for each row of
        the set (the second set): a sample's positions among the rows read, say."""
        cut = slice(None, top)
        a = (lambda i: int(i)) if rows is None else (lambda i: int(rows[i]))
        b = (lambda i: int(i)) if other_rows is None else (lambda i: int(other_rows[i]))
        leakage = None if self.leakage is None else {
            **self.leakage, "pairs": [[a(i), b(j)] for i, j in self.leakage["pairs"]]}
        return {"n": self.n, "threshold": self.threshold, "k": self.k,
                "duplicates": [[a(i) for i in g] for g in self.duplicates[cut]],
                "n_duplicate_groups": len(self.duplicates), "n_exact_duplicates": self.exact_duplicates,
                "outliers": [{**o, "index": a(o["index"])} for o in self.outliers[cut]],
                "label_issues": [{**d, "index": a(d["index"])} for d in self.label_issues[cut]],
                "n_label_issues": len(self.label_issues), "mixed_classes": self.mixed_classes, "leakage": leakage,
                "notes": self.notes, "explained": SENTENCES}

    def rows(self, eset: EmbeddingSet) -> pd.DataFrame:
        """One row per text with every score (what the page filters on and downloads)."""
        group = np.full(self.n, -1)
        for g, members in enumerate(self.duplicates):
            group[members] = g
        frame = pd.DataFrame({"row": np.arange(self.n), "text": eset.texts, "nearest_cosine": self.nearest,
                              "duplicate_group": group, "outlier_score": self.outlier_scores})
        if eset.labels is not None:
            frame["label"] = eset.labels
        if self.label_quality is not None:
            frame["label_quality"] = self.label_quality
            suggested = {d["index"]: d["suggested"] for d in self.label_issues}
            frame["suggested_label"] = [suggested.get(i, "") for i in range(self.n)]
        return frame


def quality_report(eset: EmbeddingSet, against: EmbeddingSet | None = None, *, threshold: float = 0.95,
                   k: int = 10, folds: int = 5, seed: int = 0) -> QualityReport:
    """Near-duplicates, outliers and (with labels) likely label errors in ``eset``; with ``against``, the share of
    ``against``'s rows that repeat or nearly repeat a row of ``eset`` (leakage)."""
    check("dup_threshold", threshold, "threshold")
    check("neighbours", k, "k")
    if len({F.text_key(t) for t in eset.texts}) < 2:
        raise VecexploreError(f"All {eset.n} texts are the same text: there is nothing to compare them with.")
    exact = F.exact_pairs(eset.texts)
    graph = F.neighbours(eset.vectors, max(k, DUPLICATE_K), threshold)
    all_pairs = np.concatenate([exact, graph.pairs]) if len(exact) else graph.pairs
    scores = F.outlier_scores(graph, min(k, eset.n - 1))
    order = np.argsort(-scores, kind="stable")
    report = QualityReport(eset.n, threshold, k, F.groups(eset.n, all_pairs), len(exact), graph.nearest,
                           [{"index": int(i), "score": float(scores[i])} for i in order], scores)
    if not graph.exact:
        report.notes.append(f"{eset.n:,} rows: neighbours found through Qdrant's HNSW graph (above "
                            f"{F.EXACT_MAX:,} rows), near-duplicates among each row's {graph.index.shape[1]} "
                            "nearest.")
    if eset.labels is not None:
        issues = F.label_issues(eset.vectors, eset.labels, folds, seed)
        report.label_issues = [{"index": int(i), "given": str(eset.labels[i]), "suggested": str(issues.suggested(i)),
                                "score": float(1 - issues.quality[i])} for i in issues.ranked]
        report.mixed_classes = F.mixed_classes(eset.labels, issues)
        report.label_quality = issues.quality
    else:
        report.notes.append("No labels: label errors are looked for only when a label column is chosen.")
    if against is not None:
        same_space(eset, against, "The two sets")
        pairs = F.cross_pairs(eset.vectors, against.vectors, eset.texts, against.texts, threshold)
        report.leakage = {"share": len(pairs) / against.n, "n_other": against.n,
                          "pairs": [[int(a), int(b)] for a, b in pairs]}
    return report
