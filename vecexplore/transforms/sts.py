"""Sentence-pair tasks: read STS-style ``s1,s2,score`` files and measure how a transform changes Spearman."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.files.pairs import SCORED, read_pairs
from vecexplore.transforms.isotropy import make_transform, pair_correlation


@dataclass(frozen=True)
class PairFile:
    """Sentence pairs with a human similarity score, notes on how the file was read (repeated rows are kept and
    counted there), and how many pairs were left out for a score outside the scale."""

    s1: list[str]
    s2: list[str]
    scores: np.ndarray
    n_out_of_range: int
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.s1)


def sts_pairs(data: bytes | str, name: str = "pairs.csv", score_range: tuple[float, float] = (0.0, 5.0)) -> PairFile:
    """An STS pairs file (``sentence1,sentence2,score``, read by :func:`vecexplore.files.pairs.read_pairs`: bad lines
    are refused with their line). Scores outside ``score_range`` (STS: 0–5) are left out and counted."""
    pairs = read_pairs(data, name, SCORED)
    keep = (pairs.scores >= score_range[0]) & (pairs.scores <= score_range[1])
    out = int((~keep).sum())
    if keep.sum() < 3:
        raise VecexploreError(f"{name}: only {int(keep.sum())} usable pairs ({out} scores outside "
                              f"{score_range[0]:g}–{score_range[1]:g}); Spearman needs at least 3.")
    index = np.flatnonzero(keep)
    return PairFile([pairs.anchors[i] for i in index], [pairs.positives[i] for i in index],
                    pairs.scores[index], out, pairs.notes)


def shipped_pairs() -> PairFile:
    return sts_pairs(resources.files("vecexplore.data").joinpath("demo_sts.csv").read_bytes(), "demo_sts.csv")


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
