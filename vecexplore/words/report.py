"""Word arithmetic workflows: one analogy (with its picture), free-form expressions, directions, and how often
analogies or word similarities work on a whole file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vecexplore.embedder import Embedder
from vecexplore.encoders import Progress
from vecexplore.errors import VecexploreError
from vecexplore.words.analogy import (
    ADD,
    DEFAULT_RESTRICT,
    AnalogyFile,
    AnalogyLayout,
    AnalogyReport,
    SimilarityReport,
    WordSpace,
    analogy_layout,
    evaluate_analogies,
    has_vocabulary,
    parse_expression,
    parse_pairs,
    word_similarity,
    word_space,
)


@dataclass(frozen=True)
class AnalogyAnswer:
    """``a : b :: c : ?`` answered from ``space`` (input words excluded), with the PCA picture when asked for."""

    query: str
    model: str
    method: str
    vocabulary: str
    results: list[tuple[str, float]]
    layout: AnalogyLayout | None = None

    def to_dict(self) -> dict:
        return {"query": self.query, "model": self.model, "method": self.method, "vocabulary": self.vocabulary,
                "results": [{"word": w, "score": s} for w, s in self.results]}


def analogy_answer(space: WordSpace, a: str, b: str, c: str, method: str = ADD, k: int = 5,
                   picture: bool = False) -> AnalogyAnswer:
    """The ``k`` best answers to ``a : b :: c : ?``; ``picture`` adds the parallelogram's PCA layout."""
    results = space.analogy(a, b, c, method=method, k=k)
    layout = None
    if picture:
        layout = analogy_layout(space, *(w.strip().lower() for w in (a, b, c)), results[0][0])
    return AnalogyAnswer(f"{a} : {b} :: {c} : ?", space.model_id, method, space.note, results, layout)


def expression_answer(space: WordSpace, expression: str, method: str = ADD, k: int = 10) -> list[tuple[str, float]]:
    """``paris - france + italy`` → the nearest words (input words excluded); a lone word → its neighbours."""
    positive, negative = parse_expression(expression)
    if negative or len(positive) > 1:
        return space.combine(positive, negative, method=method, k=k)
    return space.neighbors(positive[0], k)


@dataclass(frozen=True)
class DirectionReport:
    """Words placed along the direction defined by word pairs: each word's cosine with it (``scores``, in the
    order of ``words``), and the words left off because the vocabulary lacks them."""

    pairs: list[tuple[str, str]]
    words: list[str]
    scores: np.ndarray
    unknown: list[str]

    @property
    def axis(self) -> str:
        first = f"{self.pairs[0][0]} → {self.pairs[0][1]}"
        return first + (" (mean of pairs)" if len(self.pairs) > 1 else "")


def direction_report(space: WordSpace, pairs_text: str, words: Sequence[str]) -> DirectionReport:
    """The direction of ``pairs_text`` (``from to`` per line) and where each known word of ``words`` lies on it."""
    pairs = parse_pairs(pairs_text)
    direction = space.direction(pairs)
    placed, unknown = space.split_known(words)
    if not placed:
        raise VecexploreError("None of the words to place is in the vocabulary; type words it knows.")
    return DirectionReport(pairs, placed, space.project(placed, direction), unknown)


@dataclass(frozen=True)
class VocabularyResult:
    """A result over a file of words — analogy accuracy or word similarity — and the vocabulary behind it."""

    model: str
    vocabulary: str
    report: AnalogyReport | SimilarityReport

    def to_dict(self) -> dict:
        return {"model": self.model, "vocabulary": self.vocabulary, **self.report.to_dict()}


def analogy_evaluation(embedder: Embedder, data: AnalogyFile, method: str = ADD, words: Sequence[str] | None = None,
                       restrict_vocab: int | None = DEFAULT_RESTRICT, space: WordSpace | None = None,
                       progress: Progress | None = None) -> VocabularyResult:
    """How often ``b - a + c`` lands on the expected word, over every question whose words the vocabulary has.

    GloVe answers from its own vocabulary (``space`` if already built). A sentence model's vocabulary is
    ``words`` (or ``space``'s words, or the shipped list) plus every word of the file, each embedded as a text,
    so that no question is skipped for an unknown word."""
    encoder = embedder.encoder()
    if space is None or not has_vocabulary(encoder):
        base = space.words if space is not None else words
        space = word_space(encoder, base, restrict_vocab, extra_words=data.words)
    report = evaluate_analogies(space, data, method=method, progress=progress)
    return VocabularyResult(space.model_id, space.note, report)


def word_similarity_report(embedder: Embedder, pairs: list[tuple[str, str, float]], words: Sequence[str] | None = None,
                           restrict_vocab: int | None = DEFAULT_RESTRICT) -> VocabularyResult:
    """Spearman and Pearson between cosine and human scores (SimLex-999 style), over pairs with both words known;
    a sentence model embeds the pairs' words."""
    space = word_space(embedder.encoder(), words, restrict_vocab,
                       extra_words=[w for a, b, _ in pairs for w in (a, b)])
    return VocabularyResult(space.model_id, space.note, word_similarity(space, pairs))
