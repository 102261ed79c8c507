"""Word arithmetic: analogies (3CosAdd, 3CosMul), free-form ``+``/``-`` expressions, neighbours and directions,
plus vectorised evaluation on Google-format analogy files and word-similarity pairs."""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from vecexplore.encoders import Encoder, Progress
from vecexplore.errors import VecexploreError
from vecexplore.files.words import AnalogyFile, WordPairs, read_analogies
from vecexplore.numeric import l2_normalize, top_k
from vecexplore.validation import LIMITS, check

ADD, MUL = "3cosadd", "3cosmul"
METHODS = (ADD, MUL)
EPSILON = 0.001  # Levy & Goldberg (2014); gensim's most_similar_cosmul uses 1e-6
DEFAULT_RESTRICT = int(LIMITS["restrict_vocab"].default)  # declared once, in LIMITS
_OPERATOR = re.compile(r"[+\-−]|[^\s+\-−]+")


@dataclass
class WordSpace:
    """Words with unit-length vectors, in frequency order when the model knows it (GloVe).

    ``restrict_vocab`` keeps the first N words only, as gensim does: answers come from them and questions using
    other words are skipped.
    """

    words: list[str]
    vectors: np.ndarray
    model_id: str
    restrict_vocab: int | None = None
    note: str = ""
    index_: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.words) if self.restrict_vocab is None else min(self.restrict_vocab, len(self.words))
        if n < 1:
            raise VecexploreError("The vocabulary is empty: give at least one word.")
        self.words = [w.lower() for w in self.words[:n]]
        self.vectors = l2_normalize(np.asarray(self.vectors[:n], dtype=np.float32))
        self.index_ = {}
        for i, word in enumerate(self.words):
            self.index_.setdefault(word, i)  # the most frequent spelling wins

    @classmethod
    def from_encoder(cls, encoder: Encoder, words: Sequence[str] | None = None,
                     restrict_vocab: int | None = DEFAULT_RESTRICT, progress: Progress | None = None) -> WordSpace:
        """A model with a word vocabulary (GloVe's ``vocabulary()``): its own words, the first ``restrict_vocab``
        of them. Other models: ``words`` (default: the shipped word list) embedded as texts."""
        if has_vocabulary(encoder):
            vocab, vectors = encoder.vocabulary()
            return cls(vocab, vectors, encoder.id, restrict_vocab,
                       f"GloVe vocabulary, {min(restrict_vocab or len(vocab), len(vocab)):,} most frequent words")
        source = "your word list"
        if words is None:
            words, source = shipped_words(), "the shipped word list"
        words = list(dict.fromkeys(w.strip().lower() for w in words if w.strip()))
        if not words:
            raise VecexploreError("The word list is empty: give at least one word.")
        vectors = encoder.encode(words, progress=progress)
        return cls(words, vectors, encoder.id, None,
                   f"{encoder.id} has no word vocabulary: {len(words):,} words from {source}, each embedded as text")

    def __len__(self) -> int:
        return len(self.words)

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """Close spellings from the vocabulary (searched among the 50,000 most frequent words)."""
        pool = [w for w in self.words[:50_000] if w[:1] == word[:1]] or self.words[:50_000]
        return difflib.get_close_matches(word, pool, n=n, cutoff=0.75)

    def split_known(self, words: Sequence[str]) -> tuple[list[str], list[str]]:
        """``words`` (lower-cased, first occurrence kept) split into those in the vocabulary and the rest."""
        unique = list(dict.fromkeys(w.lower() for w in words))
        return [w for w in unique if w in self.index_], [w for w in unique if w not in self.index_]

    def indices(self, words: Sequence[str]) -> list[int]:
        """Row of each word; one error naming every unknown word, with suggestions."""
        missing = [w for w in words if w.lower() not in self.index_]
        if missing:
            parts = []
            for w in dict.fromkeys(missing):
                close = self.suggest(w.lower())
                parts.append(f"'{w}'" + (f" (did you mean {', '.join(close)}?)" if close else ""))
            scope = f"the {len(self):,}-word vocabulary" + (f" ({self.note})" if self.note else "")
            raise VecexploreError(f"Not in {scope}: {'; '.join(parts)}.")
        return [self.index_[w.lower()] for w in words]

    def _top(self, scores: np.ndarray, exclude: Iterable[int], k: int) -> list[tuple[str, float]]:
        return [(self.words[i], float(scores[i])) for i in top_k(scores, k, list(exclude))]

    def neighbors(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words closest to ``word`` by cosine (itself excluded)."""
        i = self.indices([word])[0]
        return self._top(self.vectors @ self.vectors[i], [i], k)

    def combine(self, positive: Sequence[str], negative: Sequence[str] = (), method: str = ADD, k: int = 10,
                epsilon: float = EPSILON) -> list[tuple[str, float]]:
        """Words closest to ``sum(positive) - sum(negative)``, the input words excluded.

        3CosAdd scores are cosines with the normalised mean of the signed unit vectors (gensim's ``most_similar``);
        3CosMul multiplies the positive words' cosines shifted to [0, 1] and divides by the negative ones' plus
        ``epsilon`` (Levy & Goldberg 2014; gensim's ``most_similar_cosmul`` with its own epsilon).
        """
        if method not in METHODS:
            raise VecexploreError(f"Unknown method {method!r}; choose {ADD} or {MUL}.")
        check("top", k, "k")
        if not positive:
            raise VecexploreError("Give at least one word to add.")
        terms = [*positive, *negative]
        repeated = sorted({w.lower() for w in terms if [t.lower() for t in terms].count(w.lower()) > 1})
        if repeated:
            raise VecexploreError(f"Each word may appear once: {', '.join(repeated)} is repeated.")
        pos, neg = self.indices(positive), self.indices(negative)
        if method == ADD:
            target = self.vectors[pos].sum(0) - self.vectors[neg].sum(0)
            norm = np.linalg.norm(target)
            if norm == 0:
                raise VecexploreError("The terms cancel out: the result is the zero vector.")
            scores = self.vectors @ (target / norm)
        else:
            scores = np.prod([(1 + self.vectors @ self.vectors[i]) / 2 for i in pos], axis=0)
            if neg:
                scores = scores / (np.prod([(1 + self.vectors @ self.vectors[i]) / 2 for i in neg], axis=0) + epsilon)
        return self._top(scores, pos + neg, k)

    def analogy(self, a: str, b: str, c: str, method: str = ADD, k: int = 5,
                epsilon: float = EPSILON) -> list[tuple[str, float]]:
        """``a`` is to ``b`` as ``c`` is to ? — i.e. ``b - a + c`` (man : king :: woman : queen)."""
        empty = [name for name, w in (("a", a), ("b", b), ("c", c)) if not w.strip()]
        if empty:
            raise VecexploreError(f"Fill in all three words (missing: {', '.join(empty)}).")
        return self.combine([b.strip(), c.strip()], [a.strip()], method, k, epsilon)

    def direction(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Unit vector of the mean difference ``to - from`` over the pairs (e.g. he→she, man→woman)."""
        if not pairs:
            raise VecexploreError("Give at least one word pair to define a direction (e.g. 'he she').")
        frm = self.indices([p[0] for p in pairs])
        to = self.indices([p[1] for p in pairs])
        diff = (self.vectors[to] - self.vectors[frm]).mean(0)
        norm = np.linalg.norm(diff)
        if norm == 0:
            raise VecexploreError("The pairs define no direction (each pair is the same word).")
        return diff / norm

    def project(self, words: Sequence[str], direction: np.ndarray) -> np.ndarray:
        """Cosine of each word with ``direction``: where it lies along the axis."""
        return self.vectors[self.indices(words)] @ direction


def has_vocabulary(encoder: Encoder) -> bool:
    """Whether the model has words of its own to answer from (GloVe), rather than texts embedded one by one."""
    return callable(getattr(encoder, "vocabulary", None))


def word_space(encoder: Encoder, words: Sequence[str] | None = None, restrict_vocab: int | None = DEFAULT_RESTRICT,
               extra_words: Sequence[str] = ()) -> WordSpace:
    """The vocabulary word arithmetic answers from: the model's own, or (sentence models) ``words`` (default: the
    shipped list) plus ``extra_words`` (an evaluation file's), each embedded as a text, so every question can be
    answered."""
    if not has_vocabulary(encoder) and extra_words:
        words = list(dict.fromkeys([*(words or shipped_words()), *extra_words]))
    return WordSpace.from_encoder(encoder, words, restrict_vocab)


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """Word pairs that define a direction, one ``from to`` pair per line (``he she``), lower-cased."""
    pairs = []
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise VecexploreError(f"Line {n} ({line.strip()!r}) must hold two words, from and to (e.g. 'he she').")
        pairs.append((words[0].lower(), words[1].lower()))
    if not pairs:
        raise VecexploreError("Give at least one word pair to define a direction (e.g. 'he she').")
    return pairs


def parse_expression(expression: str) -> tuple[list[str], list[str]]:
    """``"paris - france + italy"`` → ``(["paris", "italy"], ["france"])``; a lone word is its neighbours."""
    tokens = _OPERATOR.findall(expression)
    if not tokens:
        raise VecexploreError("Type an expression such as 'paris - france + italy'.")
    positive: list[str] = []
    negative: list[str] = []
    sign, expect_word = "+", True
    for i, token in enumerate(tokens):
        if token in {"+", "-", "−"}:
            if expect_word and i > 0:
                raise VecexploreError(f"Cannot parse {expression!r}: two operators in a row.")
            sign, expect_word = ("+" if token == "+" else "-"), True
        elif not expect_word:
            raise VecexploreError(f"Cannot parse {expression!r}: put + or - between words (before '{token}').")
        else:
            (positive if sign == "+" else negative).append(token.lower())
            expect_word = False
    if expect_word:
        raise VecexploreError(f"Cannot parse {expression!r}: it ends with an operator.")
    return positive, negative


def shipped_words() -> list[str]:
    return resources.files("vecexplore.data").joinpath("demo_words.txt").read_text(encoding="utf-8").split()


def shipped_analogies() -> AnalogyFile:
    text = resources.files("vecexplore.data").joinpath("demo_analogies.txt").read_text(encoding="utf-8")
    return read_analogies(text.splitlines())


@dataclass(frozen=True)
class AnalogyReport:
    overall: float
    sections: dict[str, float]
    counts: dict[str, tuple[int, int]]  # section -> (correct, answered)
    n_questions: int
    n_skipped: int
    n_malformed: int
    seconds: float
    method: str
    predictions: list[str | None]  # per question; None when skipped

    def to_dict(self) -> dict:
        return {"overall": self.overall, "sections": self.sections, "n_questions": self.n_questions,
                "n_answered": self.n_questions - self.n_skipped, "n_skipped": self.n_skipped,
                "n_malformed": self.n_malformed, "seconds": self.seconds, "method": self.method}


def _answers(V: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, method: str, epsilon: float,
             vocab_chunk: int) -> np.ndarray:
    """Best word for each question (a, b, c rows), input words excluded, scanning the vocabulary in chunks so
    the score block stays in cache; ties go to the more frequent word, as with a single argmax."""
    target = l2_normalize(V[b] + V[c] - V[a]) if method == ADD else None
    best = np.full(len(a), -np.inf, dtype=np.float32)
    answer = np.zeros(len(a), dtype=int)
    rows = np.arange(len(a))
    for lo in range(0, len(V), vocab_chunk):
        block = V[lo : lo + vocab_chunk].T
        if method == ADD:
            scores = target @ block
        else:  # ((1+cos_b)/2 · (1+cos_c)/2) / ((1+cos_a)/2 + ε), in place to spare memory traffic
            scores = V[b] @ block
            scores += 1
            other = V[c] @ block
            other += 1
            scores *= other
            np.matmul(V[a], block, out=other)
            other += 1 + 2 * epsilon
            other *= 2
            scores /= other
        for idx in (a, b, c):
            inside = (idx >= lo) & (idx < lo + block.shape[1])
            scores[rows[inside], idx[inside] - lo] = -np.inf
        local = scores.argmax(1)
        value = scores[rows, local]
        better = value > best
        best[better] = value[better]
        answer[better] = local[better] + lo
    return answer


def evaluate_analogies(space: WordSpace, data: AnalogyFile, method: str = ADD, epsilon: float = EPSILON,
                       batch: int = 1024, vocab_chunk: int = 4096,
                       progress: Callable[[int, int], None] | None = None) -> AnalogyReport:
    """Accuracy of ``b - a + c`` → ``expected`` over every question whose four words are in the vocabulary,
    answered ``batch`` questions at a time with matrix products (input words excluded, as in gensim's
    ``evaluate_word_analogies``)."""
    if method not in METHODS:
        raise VecexploreError(f"Unknown method {method!r}; choose {ADD} or {MUL}.")
    start = time.perf_counter()
    index = space.index_
    known = [i for i, q in enumerate(data.questions) if all(w in index for w in q[1:])]
    rows = np.array([[index[w] for w in data.questions[i][1:]] for i in known], dtype=int).reshape(-1, 4)
    predicted = np.empty(len(known), dtype=int)
    for s in range(0, len(known), batch):
        part = rows[s : s + batch]
        predicted[s : s + batch] = _answers(space.vectors, part[:, 0], part[:, 1], part[:, 2], method, epsilon,
                                            vocab_chunk)
        if progress:
            progress(min(s + batch, len(known)), len(known))
    correct = predicted == rows[:, 3] if len(known) else np.zeros(0, bool)
    counts: dict[str, list[int]] = {}
    for q in data.questions:
        counts.setdefault(q[0], [0, 0])
    for i, ok in zip(known, correct, strict=True):
        counts[data.questions[i][0]][0] += int(ok)
        counts[data.questions[i][0]][1] += 1
    predictions: list[str | None] = [None] * len(data.questions)
    for i, p in zip(known, predicted, strict=True):
        predictions[i] = space.words[p]
    return AnalogyReport(
        overall=float(correct.mean()) if len(known) else 0.0,
        sections={name: (c / n if n else 0.0) for name, (c, n) in counts.items()},
        counts={name: (c, n) for name, (c, n) in counts.items()},
        n_questions=len(data.questions), n_skipped=len(data.questions) - len(known), n_malformed=data.n_malformed,
        seconds=time.perf_counter() - start, method=method, predictions=predictions,
    )


@dataclass(frozen=True)
class SimilarityReport:
    spearman: float
    pearson: float
    n_pairs: int
    n_covered: int
    notes: tuple[str, ...] = ()  # how the pairs file was read (repeated pairs)

    @property
    def coverage(self) -> float:
        return self.n_covered / self.n_pairs if self.n_pairs else 0.0

    def to_dict(self) -> dict:
        return {"spearman": self.spearman, "pearson": self.pearson, "n_pairs": self.n_pairs,
                "n_covered": self.n_covered, "coverage": self.coverage, "notes": list(self.notes)}


def word_similarity(space: WordSpace, pairs: WordPairs | Sequence[tuple[str, str, float]]) -> SimilarityReport:
    """Spearman and Pearson correlation between cosine and human scores, over pairs with both words known (a
    :class:`~vecexplore.files.words.WordPairs` brings its reading notes along)."""
    from scipy.stats import pearsonr, spearmanr

    covered = [(space.index_[a], space.index_[b], s) for a, b, s in pairs if a in space.index_ and b in space.index_]
    if len(covered) < 3:
        raise VecexploreError(f"Only {len(covered)} of {len(pairs)} pairs have both words in the vocabulary; "
                              "need at least 3.")
    i, j, human = (np.array(x) for x in zip(*covered, strict=True))
    cos = (space.vectors[i] * space.vectors[j]).sum(1)
    return SimilarityReport(float(spearmanr(cos, human).statistic), float(pearsonr(cos, human).statistic),
                            len(pairs), len(covered), pairs.notes if isinstance(pairs, WordPairs) else ())


@dataclass(frozen=True)
class AnalogyLayout:
    """A 2-D picture of an analogy: PCA fitted on the four words and their nearest neighbours."""

    words: list[str]
    roles: list[str]  # "a", "b", "c", "answer" or "neighbour"
    coords: np.ndarray
    target: np.ndarray  # where b - a + c itself lands
    explained_variance: float


def analogy_layout(space: WordSpace, a: str, b: str, c: str, answer: str, n_neighbors: int = 4) -> AnalogyLayout:
    """Lay out ``a → b`` and ``c → answer`` with PCA fitted on those words and their neighbours."""
    from sklearn.decomposition import PCA

    roles = {a: "a", b: "b", c: "c", answer: "answer"}
    words = list(roles)
    for w in list(roles):
        for n, _ in space.neighbors(w, n_neighbors):
            if n not in roles and n not in words:
                words.append(n)
    vectors = space.vectors[space.indices(words)]
    pca = PCA(2, random_state=0).fit(vectors)
    ia, ib, ic = space.indices([a, b, c])
    target = l2_normalize((space.vectors[ib] - space.vectors[ia] + space.vectors[ic])[None, :])
    return AnalogyLayout(words, [roles.get(w, "neighbour") for w in words], pca.transform(vectors),
                         pca.transform(target)[0], float(pca.explained_variance_ratio_.sum()))
