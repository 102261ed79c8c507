"""BEIR retrieval judgements: ``queries.jsonl`` (``{"_id", "text"}`` per line) and ``qrels.tsv`` (query id,
document id, relevance), read by the one rule of :mod:`vecexplore.files.rows`."""

from __future__ import annotations

from dataclasses import dataclass

from vecexplore.errors import VecexploreError
from vecexplore.files.rows import Layout, decode_text, json_lines, plural, read_table, refuse

Qrels = dict[str, dict[str, float]]  # query id -> {doc id: relevance}

QRELS = Layout("a qrels file", ("query_id", "doc_id", "score"), "qrels have 'query-id<TAB>corpus-id<TAB>score' on "
               "every line (a header row is optional)", ("query", "judged document"), "a judgement counts once",
               field="id", rows="judgements")


@dataclass(frozen=True)
class Judgements:
    """Queries by id, their judged documents (``qrels``), and notes on how the files were read."""

    queries: dict[str, str]
    qrels: Qrels
    notes: tuple[str, ...] = ()


def read_queries(queries_jsonl: bytes | str, name: str = "queries.jsonl") -> tuple[dict[str, str], list[str]]:
    """Queries by id, and notes. A line without an ``_id`` and a ``text``, or giving an id another text than an
    earlier line, is refused with its line; a line repeating an earlier one is kept (it changes nothing) and
    counted."""
    text = decode_text(queries_jsonl, name) if isinstance(queries_jsonl, bytes) else queries_jsonl
    queries: dict[str, str] = {}
    first: dict[str, int] = {}
    bad, conflicts, repeats = [], [], []
    for line, row in json_lines(text, name):
        if "_id" not in row or not isinstance(row.get("text"), str):
            bad.append((line, ' is not {"_id": ..., "text": "..."}'))
            continue
        qid = str(row["_id"])
        if qid not in queries:
            queries[qid], first[qid] = row["text"], line
        elif queries[qid] == row["text"]:
            repeats.append(line)
        else:
            conflicts.append((line, f" gives query {qid!r} another text than line {first[qid]}"))
    refuse(name, bad, "every line is one query")
    refuse(name, conflicts, "give each query one id")
    if not queries:
        raise VecexploreError(f"{name} has no queries: it has one {{\"_id\": ..., \"text\": ...}} object per line.")
    count = len(repeats)
    notes = [f"{count:,} {plural('line', count)} of {name} {'repeats' if count == 1 else 'repeat'} an earlier query "
             f"(first: line {repeats[0]}); kept: a query counts once."] if repeats else []
    return queries, notes


def read_qrels(qrels_tsv: bytes | str, name: str = "qrels.tsv") -> tuple[Qrels, list[str]]:
    """Judgements ``{query id: {document id: relevance}}``, and notes; a query-document pair judged again with
    another relevance is refused with its line."""
    table = read_table(qrels_tsv, name, QRELS, delimiter="\t")
    qrels: Qrels = {}
    first: dict[tuple[str, str], int] = {}
    conflicts = []
    for qid, did, score, line in zip(table.values["query_id"], table.values["doc_id"], table.values["score"],
                                     table.lines, strict=True):
        judged = qrels.setdefault(qid, {})
        if did in judged and judged[did] != float(score):
            conflicts.append((line, f" gives {did!r} the relevance {float(score):g} for query {qid!r}; line "
                                    f"{first[(qid, did)]} gave it {judged[did]:g}"))
        elif did not in judged:
            judged[did], first[(qid, did)] = float(score), line
    refuse(name, conflicts, "judge each document once per query")
    return qrels, list(table.notes)


def read_beir(queries_jsonl: bytes | str, qrels_tsv: bytes | str,
              names: tuple[str, str] = ("queries.jsonl", "qrels.tsv")) -> Judgements:
    """The two BEIR files of a retrieval evaluation."""
    queries, query_notes = read_queries(queries_jsonl, names[0])
    qrels, qrel_notes = read_qrels(qrels_tsv, names[1])
    return Judgements(queries, qrels, (*query_notes, *qrel_notes))
