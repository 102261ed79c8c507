"""The tasks a set of candidate models is ranked on, built from what the user has, each stated plainly.

Retrieval comes from the user's queries and relevance judgements when given; else each title should find its own
text; else self-built (inverse-cloze) queries: one sentence of a multi-sentence text, chosen with a seeded
generator, is the query and the rest of that text is the one document it should find. Classification and clustering
need labels; similarity needs scored pairs. :func:`plan_tasks` returns the tasks and every text each model must
embed (:attr:`TaskPlan.texts`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.numeric import seeded_sample

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_WORD = re.compile(r"\w")
LEXICAL_NOTE = ("Self-built queries come from the texts themselves: a query shares names and rare words with the "
                "text it should find, which favours lexical models (compare with the BM25 row).")


def sentences(text: str) -> list[str]:
    """The sentences of ``text``: split after ``.``, ``!`` or ``?`` followed by white space; pieces without a word
    character are dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if _WORD.search(s)]


@dataclass(frozen=True)
class RetrievalTask:
    """Queries, the documents they are searched in, and for each query its relevant documents (index → gain)."""

    source: str  # "qrels", "titles" or "inverse-cloze"
    query_texts: list[str]
    doc_texts: list[str]
    relevant: list[dict[int, float]]
    description: str
    notes: list[str] = field(default_factory=list)
    kind: str = "retrieval"

    @property
    def texts(self) -> list[str]:
        return self.query_texts + self.doc_texts

    @property
    def n(self) -> int:
        return len(self.query_texts)


@dataclass(frozen=True)
class LabelTask:
    """Texts with labels: ``kind`` is ``"classification"`` (cross-validated probe and k-NN) or ``"clustering"``
    (k-means with one cluster per label)."""

    kind: str
    text_list: list[str]
    labels: list[str]
    description: str
    notes: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return self.text_list

    @property
    def n(self) -> int:
        return len(self.text_list)


@dataclass(frozen=True)
class SimilarityTask:
    """Pairs of texts with a human similarity score each."""

    left: list[str]
    right: list[str]
    scores: np.ndarray
    description: str
    notes: list[str] = field(default_factory=list)
    kind: str = "similarity"

    @property
    def texts(self) -> list[str]:
        return self.left + self.right

    @property
    def n(self) -> int:
        return len(self.left)


Task = RetrievalTask | LabelTask | SimilarityTask


@dataclass(frozen=True)
class TaskPlan:
    """The tasks, in a fixed order (retrieval, classification, clustering, similarity), and every distinct text the
    models must embed for them."""

    tasks: list[Task]
    notes: list[str]

    @property
    def texts(self) -> list[str]:
        return list(dict.fromkeys(t for task in self.tasks for t in task.texts))

    def describe(self) -> list[str]:
        return [task.description for task in self.tasks]


def qrels_task(texts: Sequence[str], queries: Mapping[str, str], qrels: Mapping[str, Mapping[str, float]],
               doc_ids: Sequence[str] | None = None, max_queries: int = 1000, seed: int = 0) -> RetrievalTask:
    """The user's queries searched among ``texts`` (ids ``doc_ids``, else their positions as strings), judged by
    ``qrels`` (query id → {document id: gain}); judged queries past ``max_queries`` are sampled (seeded)."""
    from vecexplore.search.retrieval import check_qrels

    ids = [str(i) for i in range(len(texts))] if doc_ids is None else [str(d) for d in doc_ids]
    if len(ids) != len(texts) or len(set(ids)) != len(ids):
        raise VecexploreError(f"Give one distinct document id per text ({len(texts)} texts, {len(set(ids))} "
                              "distinct ids).")
    position = {d: i for i, d in enumerate(ids)}
    notes = check_qrels(queries, {q: dict(r) for q, r in qrels.items()}, set(ids))
    judged = [q for q, rel in qrels.items()
              if q in queries and any(g > 0 and d in position for d, g in rel.items())]
    if not judged:
        raise VecexploreError("No query has a relevant document (gain > 0) among the texts: check that the qrels use "
                              "the texts' ids.")
    keep = [judged[i] for i in seeded_sample(len(judged), max_queries, seed)]
    if len(keep) < len(judged):
        notes.append(f"{len(keep)} of the {len(judged)} judged queries are used (seeded sample, seed {seed}).")
    relevant = [{position[d]: float(g) for d, g in qrels[q].items() if d in position and g > 0} for q in keep]
    return RetrievalTask("qrels", [queries[q] for q in keep], list(texts), relevant,
                         f"Retrieval: {len(keep)} of your queries, each searched among {len(texts)} texts and judged "
                         "by your relevance judgements.", notes)


def title_task(texts: Sequence[str], titles: Sequence[str], max_queries: int = 1000, seed: int = 0) -> RetrievalTask:
    """Each non-empty title should find its own text among all the texts."""
    if len(titles) != len(texts):
        raise VecexploreError(f"{len(titles)} titles for {len(texts)} texts: give one title per text (empty if none).")
    have = [i for i, t in enumerate(titles) if str(t).strip()]
    if not have:
        raise VecexploreError("Every title is empty: choose a column that holds the texts' titles.")
    keep = [have[i] for i in seeded_sample(len(have), max_queries, seed)]
    notes = [] if len(keep) == len(have) else [f"{len(keep)} of {len(have)} titles are used (seeded sample)."]
    return RetrievalTask("titles", [str(titles[i]) for i in keep], list(texts), [{i: 1.0} for i in keep],
                         f"Retrieval: each of {len(keep)} titles should find its own text among {len(texts)} texts.",
                         notes)


def inverse_cloze_task(texts: Sequence[str], max_queries: int = 1000, seed: int = 0) -> RetrievalTask | None:
    """One sentence of each multi-sentence text (chosen by a generator seeded with ``seed``) is a query; the rest of
    that text is the document it should find, among the rest of every other such text and the single-sentence
    texts whole. None when no text has two sentences."""
    split = [sentences(t) for t in texts]
    many = [i for i, s in enumerate(split) if len(s) >= 2]
    if not many:
        return None
    keep = set(many[i] for i in seeded_sample(len(many), max_queries, seed))
    rng = np.random.default_rng(seed)
    queries, docs, relevant = [], [], []
    for i, parts in enumerate(split):
        if i in keep:
            j = int(rng.integers(len(parts)))
            queries.append(parts[j])
            relevant.append({len(docs): 1.0})
            docs.append(" ".join(parts[:j] + parts[j + 1:]))
        else:
            docs.append(texts[i])
    notes = [LEXICAL_NOTE]
    if len(keep) < len(many):
        notes.append(f"{len(keep)} of the {len(many)} multi-sentence texts give a query (seeded sample).")
    return RetrievalTask("inverse-cloze", queries, docs, relevant,
                         f"Retrieval (self-built): one sentence of each of {len(queries)} multi-sentence texts (chosen "
                         f"at random, seed {seed}) should find the rest of its text among {len(docs)} texts.", notes)


def label_tasks(texts: Sequence[str], labels: Sequence[str]) -> tuple[list[LabelTask], list[str]]:
    """Classification and clustering on the labelled texts (empty labels are left out), or a note saying why not."""
    have = [i for i, label in enumerate(labels) if label is not None and str(label).strip()]
    kept_texts, kept = [texts[i] for i in have], [str(labels[i]) for i in have]
    counts = {label: kept.count(label) for label in dict.fromkeys(kept)}
    if len(counts) < 2 or sorted(counts.values())[-2] < 2:
        return [], [f"Labels are given but {len(counts)} label(s) with 2 texts or more are needed by at least 2: no "
                    "classification or clustering."]
    notes = [] if len(have) == len(texts) else [f"{len(texts) - len(have)} texts without a label are left out."]
    small = {label for label, c in counts.items() if c < 2}
    if small:
        keep = [i for i, label in enumerate(kept) if label not in small]
        kept_texts, kept = [kept_texts[i] for i in keep], [kept[i] for i in keep]
        notes.append(f"{len(small)} label(s) with a single text are left out (e.g. {sorted(small)[0]!r}).")
    folds = min(5, min(c for c in counts.values() if c >= 2))
    n_labels = len(counts) - len(small)
    return [LabelTask("classification", kept_texts, kept,
                      f"Classification: predict {n_labels} labels of {len(kept)} texts (linear probe and k nearest "
                      f"neighbours, {folds}-fold stratified cross-validation).", notes),
            LabelTask("clustering", kept_texts, kept,
                      f"Clustering: k-means with k = {n_labels} on {len(kept)} texts, scored by V-measure against "
                      "the labels.", [])], []


def similarity_task(pairs: Sequence[tuple[str, str, float]]) -> SimilarityTask:
    """Scored pairs ``(text, text, score)``: Spearman of cosine against the scores."""
    rows = [(str(a), str(b), float(s)) for a, b, s in pairs]
    if len(rows) < 3 or len({s for _, _, s in rows}) < 2:
        raise VecexploreError(f"Similarity needs at least 3 scored pairs with different scores (got {len(rows)}).")
    left, right, scores = zip(*rows, strict=True)
    return SimilarityTask(list(left), list(right), np.array(scores),
                          f"Similarity: Spearman's rank correlation of cosine with your scores on {len(rows)} pairs.")


def plan_tasks(texts: Sequence[str], labels: Sequence[str] | None = None, *,
               queries: Mapping[str, str] | None = None, qrels: Mapping[str, Mapping[str, float]] | None = None,
               doc_ids: Sequence[str] | None = None, titles: Sequence[str] | None = None,
               pairs: Sequence[tuple[str, str, float]] | None = None, max_queries: int = 1000,
               seed: int = 0) -> TaskPlan:
    """Every task the inputs allow. Retrieval: from ``queries`` + ``qrels`` if given, else ``titles``, else
    inverse-cloze queries; refused when there is nothing to rank the models on."""
    texts = [str(t) for t in texts]
    tasks: list[Task] = []
    notes: list[str] = []
    if (queries is None) != (qrels is None):
        raise VecexploreError("Give both the queries and their relevance judgements (qrels), or neither.")
    if queries is not None:
        tasks.append(qrels_task(texts, queries, qrels, doc_ids, max_queries, seed))
    elif titles is not None:
        tasks.append(title_task(texts, titles, max_queries, seed))
    elif texts:
        cloze = inverse_cloze_task(texts, max_queries, seed)
        if cloze is None:
            notes.append("No text has two sentences, so no self-built retrieval queries: give queries with relevance "
                         "judgements or a title column to rank the models on retrieval.")
        else:
            tasks.append(cloze)
    if labels is not None:
        if len(labels) != len(texts):
            raise VecexploreError(f"{len(labels)} labels for {len(texts)} texts: give one label per text.")
        found, why = label_tasks(texts, labels)
        tasks += found
        notes += why
    if pairs is not None:
        tasks.append(similarity_task(pairs))
    if not tasks:
        raise VecexploreError("Nothing to rank the models on: no text has two sentences to build self-made queries "
                              "from, and there are no labels, scored pairs, queries with relevance judgements or "
                              "titles. Give a label column, scored pairs, queries + qrels, or a title column.")
    return TaskPlan(tasks, notes)
