"""Sentence-pair tasks: read STS-style ``s1,s2,score`` files and measure how a transform changes Spearman."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.transforms.isotropy import make_transform, pair_correlation


@dataclass(frozen=True)
class PairFile:
    """Sentence pairs with a human similarity score; rows that could not be used are counted."""

    s1: list[str]
    s2: list[str]
    scores: np.ndarray
    n_bad: int
    n_out_of_range: int

    def __len__(self) -> int:
        return len(self.s1)


def read_pairs(text: str, score_range: tuple[float, float] = (0.0, 5.0)) -> PairFile:
    """Rows ``sentence1,sentence2,score`` (CSV, quoted where needed; a header row is skipped). Rows without two
    texts and a number are bad; scores outside ``score_range`` (STS: 0–5) are dropped and counted."""
    s1, s2, scores = [], [], []
    bad = out = 0
    for i, row in enumerate(csv.reader(io.StringIO(text))):
        if not row or all(not f.strip() for f in row):
            continue
        try:
            score = float(row[2]) if len(row) >= 3 else math.nan
        except ValueError:
            score = math.nan
        if len(row) < 3 or not row[0].strip() or not row[1].strip() or not math.isfinite(score):
            bad += i > 0  # a first row that is not a pair is a header
            continue
        if not score_range[0] <= score <= score_range[1]:
            out += 1
            continue
        s1.append(row[0].strip())
        s2.append(row[1].strip())
        scores.append(score)
    if len(scores) < 3:
        raise VecexploreError(f"Only {len(scores)} usable pairs ({bad} bad rows, {out} scores outside "
                              f"{score_range[0]:g}–{score_range[1]:g}); expected lines 'sentence1,sentence2,score'.")
    return PairFile(s1, s2, np.asarray(scores, dtype=float), bad, out)


def shipped_pairs() -> PairFile:
    return read_pairs(resources.files("vecexplore.data").joinpath("demo_sts.csv").read_text(encoding="utf-8"))


def transform_effect(pairs: PairFile, embed: Callable[[Sequence[str]], np.ndarray],
                     transforms: Sequence[tuple[str, dict]], fit_corpus: Sequence[str] | None = None) -> list[dict]:
    """Spearman/Pearson of cosine vs score with no transform and after each ``(name, params)`` transform,
    fitted on the pairs' own sentences (what the papers report) and, if given, on ``fit_corpus``. Rows are
    labelled with the parameters asked for (``spec``: the fitted transform's own, with its fit data hash);
    ``notes`` says where a fit had to cap them."""
    A, B = embed(pairs.s1), embed(pairs.s2)
    fits = {"the pairs": np.vstack([A, B])}
    if fit_corpus is not None:
        fits["the corpus"] = embed(list(fit_corpus))
    base = pair_correlation(A, B, pairs.scores)
    rows = [{"transform": "none", "fitted on": "—", "spearman": base.spearman, "pearson": base.pearson,
             "n": base.n, "notes": "", "spec": "none"}]
    for name, params in transforms:
        if name == "none":
            continue
        label = f"{name}({', '.join(f'{k}={v}' for k, v in params.items())})"
        for where, X in fits.items():
            t = make_transform(name, **params).fit(X)
            r = pair_correlation(t.transform(A), t.transform(B), pairs.scores)
            rows.append({"transform": label, "fitted on": where, "spearman": r.spearman, "pearson": r.pearson,
                         "n": r.n, "notes": " ".join(t.notes_), "spec": t.spec})
    return rows
