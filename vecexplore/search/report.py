"""Search workflows on a tagged collection: one query's hits, and retrieval quality over judged queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.files.beir import Qrels
from vecexplore.search.qdrant.filters import FieldFilter, parse_filter
from vecexplore.search.retrieval import check_qrels, evaluate_run, hard_negatives
from vecexplore.search.store import Hit, Store, point_id


def parse_filters(items: Iterable[str]) -> list[FieldFilter]:
    """``["label=Business|World", "year=2000..2010"]`` → filters (see :func:`vecexplore.search.qdrant.parse_filter`)."""
    return [parse_filter(item) for item in items]


@dataclass(frozen=True)
class SearchReport:
    """The hits of one query in ``collection`` (embedded by ``model``)."""

    collection: str
    model: str
    hybrid: bool
    hits: list[Hit]
    exact: bool = False
    filters: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"collection": self.collection, "model": self.model, "hybrid": self.hybrid, "exact": self.exact,
                "filters": self.filters,
                "hits": [{"id": h.id, "score": h.score, "text": h.text, "payload": h.payload} for h in self.hits]}


def search_report(store: Store, collection: str, query: EmbeddingSet, *, k: int = 10, hybrid: bool = False,
                  filters: Sequence[FieldFilter] = (), exact: bool = False) -> SearchReport:
    """The top ``k`` of ``collection`` for the one query in ``query`` (the store refuses it when the collection
    holds another model's vectors), dense or hybrid (dense + BM25 on the query's text, fused by RRF), filtered."""
    if query.n != 1:
        raise VecexploreError(f"Search one query at a time (got {query.n}).")
    hits = store.search(collection, query, k=k, filters=list(filters), hybrid=hybrid, exact=exact)[0]
    return SearchReport(collection, query.model_id, hybrid, hits, exact, [f.describe() for f in filters])


@dataclass(frozen=True)
class RetrievalReport:
    """recall@k, MRR@10 and nDCG@10 (mean and per query), each query's ranked ids and hard negatives, and notes
    on judgements that could not be used."""

    result: dict
    run: dict[str, list[str]]
    hard_negatives: dict[str, list[tuple[int, str]]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**self.result, "hard_negatives": self.hard_negatives, "notes": self.notes}


def retrieval_report(store: Store, collection: str, queries: Mapping[str, str], query_set: EmbeddingSet,
                     qrels: Qrels, k: int = 10, hybrid: bool = False, id_field: str | None = None,
                     notes: Sequence[str] = (), filters: Sequence[FieldFilter] = ()) -> RetrievalReport:
    """Search ``collection`` with every query (``query_set``: their vectors in the order of ``queries``, refused
    by the store unless they come from the collection's model) and score the ranked ids against ``qrels``. A
    document's id is its payload's ``id_field`` when it has one, else the point id (the text's). With
    ``filters`` every query searches only the points they keep, and a note says so."""
    ids = list(queries)
    if query_set.n != len(ids):
        raise VecexploreError(f"{query_set.n} query vectors for {len(ids)} queries.")
    found = store.search(collection, query_set, k=max(k, 10), hybrid=hybrid, filters=list(filters))
    run = {qid: [str(h.payload.get(id_field, h.id)) if id_field else h.id for h in hits]
           for qid, hits in zip(ids, found, strict=True)}
    notes = [*notes, *check_qrels(queries, qrels, store.ids(collection, id_field))]
    if filters:
        notes.append("Evaluated with the filter " + "; ".join(f.describe() for f in filters) + ": every query "
                     "searched only the points it keeps, so relevant texts outside it count as missed.")
    result = evaluate_run(run, qrels, k=k)
    negatives = {q: hard_negatives(run[q], qrels[q]) for q in result["per_query"]}
    return RetrievalReport(result, run, negatives, notes)


def qrels_from_pairs(pairs: Iterable[tuple[str, str]], corpus: Sequence[str]) -> tuple[dict[str, str], Qrels, int]:
    """Judgements from ``(query, relevant text)`` rows, the texts matched exactly against the corpus (their point
    ids): the queries (id = the query itself), the qrels, and how many relevant texts are not in the corpus."""
    known = set(corpus)
    qrels: Qrels = {}
    unknown: set[str] = set()
    for query, text in pairs:
        if text in known:
            qrels.setdefault(query, {})[point_id(text)] = 1.0
        else:
            unknown.add(text)
    if not qrels:
        raise VecexploreError("None of the relevant texts is in the corpus: they must match corpus texts exactly.")
    return {q: q for q in qrels}, qrels, len(unknown)
