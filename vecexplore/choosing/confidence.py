"""A seeded, paired percentile bootstrap: an interval for every score, and for every pair of models the difference
with an interval widened for the number of pairs compared (Bonferroni), plus Holm-adjusted bootstrap p-values.

Every model is scored on the same resampled items (the same index matrix), so a difference between two models is
measured on the same queries, texts or pairs and the items' shared difficulty cancels out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Protocol

import numpy as np

from vecexplore.errors import VecexploreError


class Score(Protocol):
    def value(self) -> float: ...

    def on(self, index: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def to_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high}


def percentile_interval(value: float, resampled: np.ndarray, confidence: float = 0.95) -> Interval:
    """``value`` with the percentile interval of its resampled values (NaN resamples left out)."""
    tail = 100 * (1 - confidence) / 2
    kept = resampled[np.isfinite(resampled)]
    if not len(kept):
        return Interval(value, float("nan"), float("nan"))
    low, high = np.percentile(kept, [tail, 100 - tail])
    return Interval(float(value), float(low), float(high))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p))))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(scaled, 1.0)
    return adjusted


def bootstrap_p(differences: np.ndarray) -> float:
    """Two-sided bootstrap p-value of a difference being 0: twice the smaller share of resampled differences on
    either side of 0, each counted as (count + 1) / (B + 1), capped at 1."""
    d = differences[np.isfinite(differences)]
    if not len(d):
        return 1.0
    below, above = (np.sum(d <= 0) + 1) / (len(d) + 1), (np.sum(d >= 0) + 1) / (len(d) + 1)
    return float(min(1.0, 2 * min(below, above)))


class PairedBootstrap:
    """Resample ``n`` items ``n_boot`` times with a generator seeded with ``seed``; every score given to
    :meth:`interval` or :meth:`differences` is computed on the same resamples."""

    def __init__(self, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0, block: int = 100) -> None:
        self.n_boot = n_boot
        self.confidence = confidence
        self.seed = seed
        self.block = block

    def fit(self, n: int) -> PairedBootstrap:
        if n < 2:
            raise VecexploreError(f"A bootstrap needs at least 2 items (got {n}).")
        if not 1 <= self.n_boot <= 100_000:
            raise VecexploreError(f"Bootstrap resamples must be between 1 and 100000 (got {self.n_boot}).")
        self.n_ = n
        self.starts_ = list(range(0, self.n_boot, self.block))
        return self

    def indices(self, start: int) -> np.ndarray:
        """The resamples ``start`` to ``start + block`` (rows of item indices), drawn from a generator seeded with
        ``(seed, start)``: the same rows every time they are asked for, so they are never all held in memory."""
        rows = min(self.block, self.n_boot - start)
        return np.random.default_rng((self.seed, start)).integers(0, self.n_, size=(rows, self.n_), dtype=np.int32)

    def resampled(self, score: Score) -> np.ndarray:
        """``score`` on each resample."""
        return np.concatenate([np.asarray(score.on(self.indices(s)), dtype=float) for s in self.starts_])

    def interval(self, score: Score) -> tuple[Interval, np.ndarray]:
        """The score with its percentile interval, and its resampled values (for :meth:`differences`)."""
        values = self.resampled(score)
        return percentile_interval(score.value(), values, self.confidence), values

    def differences(self, values: Mapping[str, float], resampled: Mapping[str, np.ndarray]) -> list[dict]:
        """For each pair of models (in the given order), ``a − b`` with its interval at ``1 − α / m`` (α = 1 −
        confidence, m = the number of pairs: Bonferroni) and its Holm-adjusted bootstrap p-value."""
        pairs = list(combinations(values, 2))
        if not pairs:
            return []
        level = 1 - (1 - self.confidence) / len(pairs)
        rows = []
        for a, b in pairs:
            d = resampled[a] - resampled[b]
            interval = percentile_interval(values[a] - values[b], d, level)
            rows.append({"a": a, "b": b, **interval.to_dict(), "p": bootstrap_p(d)})
        for row, adjusted in zip(rows, holm(np.array([r["p"] for r in rows])), strict=True):
            row["p_holm"] = float(adjusted)
            row["detectable"] = bool(row["low"] > 0 or row["high"] < 0)
        return rows

    @property
    def method(self) -> str:
        return (f"Paired percentile bootstrap: {self.n_boot} resamples of the items (seed {self.seed}), the same "
                f"resamples for every model; {100 * self.confidence:g}% intervals for each score. Each difference "
                f"between two models has a Bonferroni-widened interval (level 1 − {1 - self.confidence:g} / the number "
                "of model pairs, per metric) and a Holm–Bonferroni adjusted bootstrap p-value; a difference is called "
                "detectable when its widened interval excludes 0.")
