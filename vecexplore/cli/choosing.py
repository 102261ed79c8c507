"""Which model for my texts: ``choose``."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import LABEL_COL, SEED, TEXT_COL, read_text
from vecexplore.errors import VecexploreError


@command("choose", "rank candidate models on your own texts: scores with intervals, costs, a verdict",
         Arg("file", help="corpus (.txt .csv .tsv .jsonl .parquet)"),
         Arg("--models", required=True, help="comma-separated candidates, 2 to 8; model@backend (e.g. "
             "all-MiniLM-L6-v2@onnx-int8) makes a backend a candidate of its own"),
         TEXT_COL, LABEL_COL,
         Arg("--title-col", help="column of titles: retrieval by title → text (when no queries are given)"),
         Arg("--id-col", help="column of document ids the qrels name (default: _id if the corpus has it, else "
             "doc_id)"),
         Arg("--queries", help="queries.jsonl ({_id, text} per line); give --qrels too"),
         Arg("--qrels", help="qrels.tsv (query-id, corpus-id, score)"),
         Arg("--pairs", help="scored sentence pairs (sentence1, sentence2, score) for a similarity task"),
         limited("--max-ms-per-text", "max_ms_per_text", float), limited("--max-bytes-per-vector",
                                                                         "max_bytes_per_vector", float),
         limited("--resamples", "resamples"), SEED, backend=True)
def choose(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.choosing.workflow import candidate_embedders, corpus_column, default_id_column
    from vecexplore.choosing.workflow import choose as choose_models
    from vecexplore.files.beir import read_beir
    from vecexplore.files.corpus import load_file
    from vecexplore.transforms.sts import sts_pairs

    corpus = load_file(args.file, args.text_col, args.label_col)
    if (args.queries is None) != (args.qrels is None):
        raise VecexploreError("Give both --queries and --qrels, or neither.")
    queries = qrels = doc_ids = None
    notes = list(corpus.notes)
    if args.queries:
        judged = read_beir(read_text(args.queries), read_text(args.qrels), (Path(args.queries).name,
                                                                            Path(args.qrels).name))
        queries, qrels = judged.queries, judged.qrels
        notes += judged.notes
        id_col = args.id_col or default_id_column(corpus)
        if id_col is None:
            raise VecexploreError("The qrels name corpus rows by id: give --id-col (the corpus has neither an _id "
                                  "nor a doc_id column).")
        doc_ids = corpus_column(corpus, id_col, "document ids")
    titles = corpus_column(corpus, args.title_col, "titles") if args.title_col else None
    pairs = None
    if args.pairs:
        scored = sts_pairs(read_text(args.pairs), Path(args.pairs).name)
        pairs = list(zip(scored.s1, scored.s2, map(float, scored.scores), strict=True))
        notes += scored.notes
    specs = [m for m in args.models.split(",") if m.strip()]
    embedders = candidate_embedders(specs, args.backend, EmbeddingCache(), corpus.texts)
    report = choose_models(corpus, embedders, titles=titles, queries=queries, qrels=qrels, doc_ids=doc_ids,
                           pairs=pairs, n_boot=args.resamples, seed=args.seed,
                           max_ms_per_text=args.max_ms_per_text, max_bytes_per_vector=args.max_bytes_per_vector)
    out = report.to_dict()
    return {**out, "notes": [*notes, *out["notes"]]}
