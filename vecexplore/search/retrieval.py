"""Retrieval quality: recall@k, MRR@10 and nDCG@10 per query, and each query's hard negatives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.files.beir import Qrels
from vecexplore.validation import check


def check_qrels(queries: Mapping[str, str], qrels: Qrels, known_ids: set[str]) -> list[str]:
    """Problems a user should hear about: judgements for unknown queries or documents (those are dropped)."""
    notes = []
    unknown_q = [q for q in qrels if q not in queries]
    unknown_d = sorted({d for rel in qrels.values() for d in rel if d not in known_ids})
    if unknown_q:
        notes.append(f"{len(unknown_q)} judged queries are not in the query file (e.g. {unknown_q[0]!r}).")
    if unknown_d:
        notes.append(f"{len(unknown_d)} judged documents are not in the collection (e.g. {unknown_d[0]!r}).")
    if not any(q in queries for q in qrels):
        raise VecexploreError("No query has relevance judgements: check that the qrels use the queries' ids.")
    return notes


def query_metrics(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 10) -> dict:
    """recall@k, MRR@10 (reciprocal rank of the first relevant hit) and nDCG@10 (graded gains, log2 discount)."""
    rel = {d: g for d, g in relevant.items() if g > 0}
    if not rel:
        return {"recall": 0.0, "mrr": 0.0, "ndcg": 0.0}
    recall = sum(d in rel for d in ranked[:k]) / len(rel)
    mrr = next((1.0 / (i + 1) for i, d in enumerate(ranked[:10]) if d in rel), 0.0)
    dcg = sum(rel.get(d, 0.0) / np.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sum(g / np.log2(i + 2) for i, g in enumerate(sorted(rel.values(), reverse=True)[:10]))
    return {"recall": recall, "mrr": mrr, "ndcg": dcg / ideal}


def evaluate_run(run: Mapping[str, Sequence[str]], qrels: Qrels, k: int = 10) -> dict:
    """Per-query and mean metrics over the queries that have judgements."""
    check("search_k", k, "k")
    per_query = {q: query_metrics(run.get(q, []), rel, k) for q, rel in qrels.items() if q in run}
    if not per_query:
        raise VecexploreError("None of the judged queries was run.")
    mean = {m: float(np.mean([v[m] for v in per_query.values()])) for m in ("recall", "mrr", "ndcg")}
    return {"k": k, "n_queries": len(per_query), "mean": mean, "per_query": per_query}


def hard_negatives(ranked: Sequence[str], relevant: Mapping[str, float], n: int = 3) -> list[tuple[int, str]]:
    """The top-ranked results that are not relevant, with their rank (1-based)."""
    return [(i + 1, d) for i, d in enumerate(ranked) if relevant.get(d, 0) <= 0][:n]
