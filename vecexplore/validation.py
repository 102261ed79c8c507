"""The one place where the allowed range of every numeric setting lives.

The CLI parses its options with :func:`option`, the core checks its parameters with :func:`check`, and the pages
take their widgets' bounds from :data:`LIMITS`, so a value refused in one place is refused everywhere, with the
same message.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from vecexplore.errors import VecexploreError


@dataclass(frozen=True)
class Limit:
    """An inclusive range ``[lo, hi]`` for one setting, and what the setting means (for the message)."""

    lo: float
    hi: float
    what: str
    hint: str = ""

    def problem(self, value: float) -> str | None:
        """What is wrong with ``value`` (a sentence without its subject), or None."""
        if self.lo <= value <= self.hi:
            return None
        hint = f" {self.hint}" if self.hint else ""
        return f"must be between {self.lo:g} and {self.hi:g} ({self.what}); got {value:g}.{hint}"


MIN_PERMUTATIONS = 100  # p-values resolve to 1/(N + 1): with 100 a p below 0.01 can be reported

LIMITS: dict[str, Limit] = {
    "top": Limit(1, 1000, "how many answers to list"),
    "neighbours": Limit(1, 100, "how many nearest neighbours each text is compared by"),
    "search_k": Limit(1, 1000, "how many hits to return"),
    "n_neighbors": Limit(2, 200, "UMAP's neighbourhood size"),
    "min_dist": Limit(0.0, 1.0, "UMAP's minimum distance between points on the map"),
    "max_points": Limit(100, 1_000_000, "how many texts the quality scores are measured on"),
    "clusters": Limit(2, 100, "how many k-means clusters to find"),
    "min_cluster_size": Limit(2, 100_000, "the fewest similar texts HDBSCAN calls a cluster"),
    "cluster_words": Limit(1, 50, "how many words describe each cluster"),
    "permutations": Limit(MIN_PERMUTATIONS, 10_000, "permutations of the MMD test",
                          "A permutation test with N permutations cannot report a p-value below 1/(N + 1)."),
    "seed": Limit(0, 2**31 - 1, "the random seed"),
    "compress_queries": Limit(20, 2000, "stored vectors used as queries in the compression lab"),
    "restrict_vocab": Limit(1_000, 400_000, "the N most frequent GloVe words answers come from"),
    "whiten_k": Limit(1, 4096, "dimensions whitening keeps"),
    "abtt_d": Limit(1, 100, "principal directions all-but-the-top removes"),
    "epochs": Limit(1, 20, "passes over the training pairs"),
    "batch_size": Limit(2, 512, "pairs per training step (each anchor's in-batch negatives are the others')"),
    "learning_rate": Limit(1e-7, 1e-3, "the optimiser's step size", "Fine-tuning usually takes 1e-5 to 1e-4."),
    "test_share": Limit(0.05, 0.5, "the share of pairs held out for the before/after evaluation"),
    "threads": Limit(1, 256, "CPU threads torch trains with"),
}


def check(name: str, value: float, label: str | None = None) -> float:
    """``value`` if it lies within ``LIMITS[name]``, else a :class:`VecexploreError` naming ``label`` (default the
    setting's name) and the allowed range."""
    problem = LIMITS[name].problem(value)
    if problem:
        raise VecexploreError(f"{label or name} {problem}")
    return value


def option(name: str, kind: type = int) -> Callable[[str], float]:
    """An ``argparse`` type: parses ``kind`` and checks ``LIMITS[name]`` (argparse then names the
    option in its message)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes {'a whole number' if kind is int else 'a number'}; got "
                                             f"{text!r}.") from None
        problem = LIMITS[name].problem(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    parse.__name__ = kind.__name__  # what argparse calls the type in its own messages
    return parse


def p_value_resolution(permutations: int) -> float:
    """The smallest p-value a permutation test with ``permutations`` permutations can report."""
    return 1.0 / (permutations + 1)
