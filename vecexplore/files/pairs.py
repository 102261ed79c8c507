"""Pairs files: two texts per line, read by the one rule of :mod:`vecexplore.files.rows`.

Three kinds share it: STS scored pairs (``sentence1,sentence2,score``), fine-tuning pairs (``anchor,positive``,
``anchor,positive,negative`` or scored), and retrieval judgements as text (``query,relevant_text``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vecexplore.files.rows import Layout, read_table

_QUOTE = "quote texts that contain commas"
SCORED = Layout("an STS pairs file", ("anchor", "positive", "score"),
                f"an STS pairs file has 'sentence1,sentence2,score' on every line; {_QUOTE}",
                ("first sentence", "second sentence"), "each counts in the correlation as often as it is written")
TRAINING = Layout("a pairs file", ("anchor", "positive"),
                  "a pairs file has two texts per line, 'anchor,positive' (optionally ',negative'), or STS-style "
                  f"'sentence1,sentence2,score'; {_QUOTE}",
                  ("anchor", "positive"), "each is a pair of its own", optional=("negative", "score"),
                  scored_nouns=("first sentence", "second sentence"))
QUERIES = Layout("a query file", ("anchor", "positive"),
                 f"a query file has 'query,relevant_text' on every line; {_QUOTE}",
                 ("query", "relevant text"), "a judgement counts once")


@dataclass(frozen=True)
class TextPairs:
    """The rows of a pairs file: ``anchors[i]`` and ``positives[i]`` (``negatives[i]``, ``scores[i]`` when the
    file has them), each row's line in the file, and notes on how it was read."""

    name: str
    anchors: tuple[str, ...]
    positives: tuple[str, ...]
    negatives: tuple[str, ...] | None
    scores: np.ndarray | None
    lines: tuple[int, ...]
    notes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.anchors)


def read_pairs(data: bytes | str, name: str, layout: Layout = TRAINING) -> TextPairs:
    """A pairs file of ``layout``'s kind (:data:`SCORED`, :data:`TRAINING` or :data:`QUERIES`)."""
    table = read_table(data, name, layout)
    values = table.values
    return TextPairs(name, values["anchor"], values["positive"], values.get("negative"), values.get("score"),
                     table.lines, table.notes)
