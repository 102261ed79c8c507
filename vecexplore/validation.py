"""The one place where the allowed range, the meaning and the default of every numeric setting live.

The CLI parses its options with :func:`option` (and takes their help and default from :data:`LIMITS`), the core
checks its parameters with :func:`check`, and the pages take their widgets' bounds and defaults from :data:`LIMITS`,
so a value refused in one place is refused everywhere, with the same message.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from vecexplore.errors import VecexploreError


@dataclass(frozen=True)
class Limit:
    """One setting: the inclusive range ``[lo, hi]`` it must lie in, what it means (the messages' words and the
    CLI's help), what ``hint`` to add to a refusal, its ``default`` (None: chosen by the analysis, or unset) and,
    where a widget is better with a narrower range than everything allowed, ``widget_lo``/``widget_hi``; a page's
    widget also takes its ``step`` and its ``help`` (the tooltip) from here."""

    lo: float
    hi: float
    what: str
    hint: str = ""
    default: float | None = None
    widget_lo: float | None = None
    widget_hi: float | None = None
    step: float | None = None
    help: str = ""

    @property
    def widget(self) -> tuple[float, float]:
        """The range a page's widget offers: ``widget_lo``/``widget_hi`` where set, else ``lo``/``hi``."""
        return (self.lo if self.widget_lo is None else self.widget_lo,
                self.hi if self.widget_hi is None else self.widget_hi)

    def problem(self, value: float) -> str | None:
        """What is wrong with ``value`` (a sentence without its subject), or None."""
        if self.lo <= value <= self.hi:
            return None
        hint = f" {self.hint}" if self.hint else ""
        return f"must be between {self.lo:g} and {self.hi:g} ({self.what}); got {value:g}.{hint}"


MIN_PERMUTATIONS = 100  # p-values resolve to 1/(N + 1): with 100 a p below 0.01 can be reported

LIMITS: dict[str, Limit] = {
    "top": Limit(1, 1000, "how many answers to list", default=5),
    "neighbours": Limit(1, 100, "how many nearest neighbours each text is compared by", default=10),
    "search_k": Limit(1, 1000, "how many hits to return", default=10),
    "n_neighbors": Limit(2, 200, "UMAP's neighbourhood size", default=15, widget_hi=100),
    "min_dist": Limit(0.0, 1.0, "UMAP's minimum distance between points on the map", default=0.1,
                      step=0.05),
    "umap_sample": Limit(100, 1_000_000, "how many texts UMAP is fitted on; past it, a seeded sample is fitted and "
                         "the other texts placed from their nearest fitted texts", default=20_000, step=1_000,
                         widget_lo=5_000, widget_hi=200_000,
                         help="A larger sample keeps more of the map's detail and takes longer."),
    "max_points": Limit(100, 1_000_000, "how many texts the quality scores are measured on", default=5000),
    "clusters": Limit(2, 100, "how many k-means clusters to find"),  # default: chosen by silhouette
    "min_cluster_size": Limit(2, 100_000, "the fewest similar texts HDBSCAN calls a cluster"),  # default: n/100
    "cluster_words": Limit(1, 50, "how many words describe each cluster", default=10),
    "permutations": Limit(MIN_PERMUTATIONS, 10_000, "permutations of the MMD test",
                          "A permutation test with N permutations cannot report a p-value below 1/(N + 1).",
                          default=200, step=50, help="p-values resolve to 1/(N + 1): with N = 200, to 0.005."),
    "seed": Limit(0, 2**31 - 1, "the random seed", default=0, widget_hi=10_000),
    "compress_queries": Limit(20, 2000, "stored vectors used as queries in the compression lab", default=200),
    "collection_points": Limit(100, 1_000_000, "the most points read from an existing Qdrant collection (a seeded "
                               "sample of a larger one)", default=20_000, step=1_000, widget_hi=100_000),
    "restrict_vocab": Limit(1_000, 400_000, "the N most frequent GloVe words answers come from", default=100_000,
                            step=10_000,
                            help="Answers come only from these words; questions using others are skipped."),
    "whiten_k": Limit(1, 4096, "dimensions whitening keeps", default=256),  # a widget stops at the set's dims
    "abtt_d": Limit(1, 100, "principal directions all-but-the-top removes", default=3, widget_hi=20),
    "epochs": Limit(1, 20, "passes over the training pairs", default=1),
    "batch_size": Limit(2, 512, "pairs per training step (each anchor's in-batch negatives are the others')",
                        default=32),
    "learning_rate": Limit(1e-7, 1e-3, "the optimiser's step size", "Fine-tuning usually takes 1e-5 to 1e-4.",
                           default=5e-5),
    "test_share": Limit(0.05, 0.5, "the share of pairs held out for the before/after evaluation", default=0.2,
                        step=0.05),
    "threads": Limit(1, 256, "CPU threads torch trains with"),  # default: the idle cores
    "max_texts": Limit(10, 1_000_000, "the most texts to read: a seeded sample above it"),  # default: all of them
    "dup_threshold": Limit(0.0, 1.0, "the least cosine at which two texts count as near-duplicates", default=0.95,
                           step=0.01, help="Look at the histogram of nearest-neighbour cosines to choose it."),
    "resamples": Limit(100, 100_000, "bootstrap resamples behind each interval", default=1000, widget_hi=5000,
                       step=100, help="More resamples give steadier interval ends; 1,000 is the usual choice."),
    "max_ms_per_text": Limit(0.001, 1e6, "the most milliseconds per text a model may take", step=0.5,
                             help="The report card names the best model within this speed budget."),
    "max_bytes_per_vector": Limit(1, 1e9, "the most bytes a stored vector may take", step=64,
                                  help="float32: 4 bytes a dimension; the card also shows int8 and binary."),
    "ray_workers": Limit(1, 10_000, "how many Ray workers embed at once, one model copy each"),  # default: 1 a CPU
}

# Page widgets that offer a setting of the core over a range of their own (the core still allows LIMITS' range).
LIMITS |= {
    "map_k": replace(LIMITS["neighbours"], widget_lo=3, widget_hi=30,
                     help="For the neighbour list, the faithfulness colour and both quality scores."),
    "compare_k": replace(LIMITS["neighbours"], widget_lo=2, widget_hi=50),
    "map_clusters": replace(LIMITS["clusters"], widget_lo=0, default=0),  # the widget's 0: chosen by silhouette
    "threshold": Limit(-math.inf, math.inf, "the least score of a positive in a scored pairs file", default=4.0,
                       step=0.5),
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
