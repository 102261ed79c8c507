"""Filtering a map and summarising a selection of its texts (what the map's filter and lasso show)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.maps.clusters import ClassTfidf
from vecexplore.numeric import seeded_sample
from vecexplore.patterns import MAX_PATTERN, compile_user_pattern

WORDS_SAMPLE = 20_000  # texts per side (selected, the rest) whose words are compared; a seeded sample beyond


def text_mask(texts: Sequence[str], pattern: str, regex: bool = False) -> np.ndarray:
    """Which texts contain ``pattern``: a case-insensitive substring, or a regular expression (``regex``) run by
    RE2 in time linear in each text (:func:`vecexplore.patterns.compile_user_pattern`)."""
    if len(pattern) > MAX_PATTERN:
        raise VecexploreError(f"The text filter is {len(pattern):,} characters long; keep it under {MAX_PATTERN}.")
    if not pattern:
        return np.ones(len(texts), dtype=bool)
    if regex:
        compiled = compile_user_pattern(pattern)
        return np.fromiter((compiled.search(t) is not None for t in texts), dtype=bool, count=len(texts))
    needle = pattern.casefold()
    return np.fromiter((needle in t.casefold() for t in texts), dtype=bool, count=len(texts))


def filter_mask(eset: EmbeddingSet, labels: Sequence[str] = (), clusters: Sequence[str] = (),
                cluster_names: Sequence[str] | None = None, pattern: str = "", regex: bool = False) -> np.ndarray:
    """The texts kept by a map filter: any of ``labels`` (if given), in any of ``clusters`` (names, matched
    against ``cluster_names``, one per text), and matching ``pattern``."""
    keep = text_mask(eset.texts, pattern, regex)
    if labels:
        if eset.labels is None:
            raise VecexploreError("This corpus has no labels to filter on.")
        keep &= np.isin(np.asarray(eset.labels, dtype=object), list(labels))
    if clusters:
        if cluster_names is None or len(cluster_names) != eset.n:
            raise VecexploreError("Find clusters before filtering by them.")
        keep &= np.isin(np.asarray(cluster_names, dtype=object), list(clusters))
    return keep


@dataclass(frozen=True)
class SelectionSummary:
    """Texts picked on a map: a table (index, text, label, cluster) and the words most distinctive of them
    against the rest of the corpus (c-TF-IDF with two classes: selected, not)."""

    table: pd.DataFrame
    top_words: list[str]

    def to_dict(self) -> dict:
        return {"n": len(self.table), "top_words": self.top_words, "rows": self.table.to_dict("records")}


def summarise_selection(eset: EmbeddingSet, index: Sequence[int], cluster_names: Sequence[str] | None = None,
                        n_words: int = 10) -> SelectionSummary:
    """The table and top words of the texts at ``index`` (rows of ``eset``); the words compare at most
    :data:`WORDS_SAMPLE` selected texts with as many of the others (seeded samples)."""
    idx = np.asarray(list(dict.fromkeys(int(i) for i in index)), dtype=int)
    if len(idx) and (idx.min() < 0 or idx.max() >= eset.n):
        raise VecexploreError(f"Selected rows must lie between 0 and {eset.n - 1}.")
    table = pd.DataFrame({"#": idx, "text": [eset.texts[i] for i in idx]})
    if eset.labels is not None:
        table["label"] = [eset.labels[i] for i in idx]
    if cluster_names is not None:
        table["cluster"] = [cluster_names[i] for i in idx]
    words: list[str] = []
    if len(idx):
        chosen = np.zeros(eset.n, dtype=bool)
        chosen[idx] = True
        rest = np.flatnonzero(~chosen)
        rows = np.concatenate([part[seeded_sample(len(part), WORDS_SAMPLE)] for part in (idx, rest)])
        words = ClassTfidf().fit([eset.texts[i] for i in rows], chosen[rows]).top_words(n_words).get(True, [])
    return SelectionSummary(table, words)
