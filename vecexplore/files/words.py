"""Word test files: Google-format analogy files and word pairs with human scores (SimLex-999, WordSim-353).

Word pairs are a table and are read by the one rule of :mod:`vecexplore.files.rows` (UTF-8, delimiter, header,
bad lines refused with the line to fix, repeated rows kept and noted). An analogy file is not a table (``: section``
lines, then ``a b c d``): it is read line by line, and a line that is not four words is counted and reported
(``n_malformed``), as gensim's ``evaluate_word_analogies`` skips it, so accuracies stay comparable with gensim's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vecexplore.errors import VecexploreError
from vecexplore.files.rows import Layout, decode_text, read_table

WORD_PAIRS = Layout("a word-pairs file", ("anchor", "positive", "score"),
                    "a word-pairs file has 'word1,word2,score' on every line (tab or comma; SimLex-999's "
                    "',word1,word2,similarity' header and row numbers are understood)",
                    ("first word", "second word"), "each counts in the correlation as often as it is written",
                    field="word", rows="word pairs", unnamed_ok=True)


@dataclass(frozen=True)
class WordPairs:
    """Word pairs with a human score, lower-cased, in file order, and notes on how the file was read."""

    pairs: list[tuple[str, str, float]]
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self):
        return iter(self.pairs)


def read_word_pairs(data: bytes | str, name: str = "the word-pairs file") -> WordPairs:
    """Word pairs with a human score, by :data:`WORD_PAIRS`."""
    table = read_table(data, name, WORD_PAIRS)
    pairs = [(a.lower(), b.lower(), float(s)) for a, b, s in
             zip(table.values["anchor"], table.values["positive"], table.values["score"], strict=True)]
    return WordPairs(pairs, table.notes)


@dataclass(frozen=True)
class AnalogyFile:
    """Questions of a Google-format analogy file (``: section`` lines, then ``a b c d``), lower-cased."""

    questions: list[tuple[str, str, str, str, str]]  # section, a, b, c, expected
    n_malformed: int

    @property
    def words(self) -> list[str]:
        return list(dict.fromkeys(w for q in self.questions for w in q[1:]))


def read_analogies(data: bytes | str | Iterable[str], name: str = "the analogy file") -> AnalogyFile:
    """Parse a Google-format analogy file (bytes or text by the one UTF-8 rule, or its lines); lines that are not
    four words (or come before any section) are counted in ``n_malformed``."""
    lines = (decode_text(data, name) if isinstance(data, bytes) else data)
    questions, malformed, section = [], 0, None
    for line in lines.splitlines() if isinstance(lines, str) else lines:
        line = line.strip()
        if not line:
            continue
        if line.startswith(":"):
            section = line.lstrip(":").strip() or "(unnamed)"
            continue
        words = line.lower().split()
        if section is None or len(words) != 4:
            malformed += 1
            continue
        questions.append((section, *words))
    if not questions:
        raise VecexploreError(f"No analogy questions found in {name}: expected ': section' lines followed by "
                              "'a b c d' lines.")
    return AnalogyFile(questions, malformed)
