"""Search on a tagged collection: ``index``, ``search``, ``retrieval-eval``, ``copy``, ``import-local``,
``compress``; ``open-collection`` reads an existing collection as a set of vectors to explore."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, OneOf, command, limited
from vecexplore.cli.inputs import CORPUS, RAY, SEED, load_set, read_text
from vecexplore.errors import VecexploreError

QDRANT_PATH = Arg("--qdrant-path", help="embedded Qdrant folder (default <VECEXPLORE_HOME>/qdrant)")
STORE = (Arg("--collection", required=True),
         OneOf(QDRANT_PATH, Arg("--qdrant-url", help="Qdrant server URL (or set VECEXPLORE_QDRANT_URL)")),
         Arg("--transform-file", help="a transform saved by `isotropy --save-transform`"))
QUERY_MODEL = Arg("--model", help="must match the collection's model (default: the collection's)")
HYBRID = Arg("--hybrid", action="store_true", help="fuse dense and BM25 keyword results (RRF)")
FILTER = Arg("--filter", action="append", metavar="FIELD=VALUE",
             help="search only the points a payload filter keeps: field=value, field=a|b (any of them) or "
                  "field=lo..hi (a numeric range); repeatable")


def _store(args: argparse.Namespace):
    from vecexplore.search.opening import open_store

    return open_store(url=args.qdrant_url, path=args.qdrant_path)


def _query_encoder(store, args: argparse.Namespace):
    """The collection's own model (or ``--model``; the store refuses queries of another one), and its transform."""
    from vecexplore.encoders import TFIDF_ID, load_encoder
    from vecexplore.transforms.isotropy import load_transform

    model_id = args.model or store.tag(args.collection).model_id
    if model_id == TFIDF_ID:
        raise VecexploreError("tfidf-lsa is fitted on its corpus, so new queries cannot be embedded outside the "
                              "app session that indexed it.")
    encoder = load_encoder(model_id, backend=args.backend)
    transform = load_transform(args.transform_file) if args.transform_file else None
    return encoder, transform


def _query_set(store, args: argparse.Namespace, texts: list[str]):
    """``texts`` embedded as queries of the collection (its model, or ``--model``, and ``--transform-file``)."""
    from vecexplore.pipeline import query_set

    encoder, transform = _query_encoder(store, args)
    queries = query_set(texts, encoder)
    return transform.transform(queries) if transform is not None else queries


@command("index", "index a corpus into a Qdrant collection tagged with its model", *CORPUS, *STORE,
         Arg("--distance", choices=["cosine", "dot", "euclid", "manhattan"], default="cosine"), *RAY, backend=True)
def index(args: argparse.Namespace) -> dict:
    from vecexplore.transforms.isotropy import load_transform

    eset, stats, diag = load_set(args)
    if args.transform_file:
        eset = load_transform(args.transform_file).transform(eset)  # refused if fitted on another model's vectors
    result = _store(args).index(args.collection, eset, distance=args.distance, source=Path(args.file).name,
                                columns=diag["columns"])
    checked = {k: diag[k] for k in ("model_check", "ray") if k in diag}
    return {**result, "embed_seconds": round(stats.seconds, 3), "cache_hits": stats.cache_hits, **checked}


@command("search", "search a collection (the query uses the collection's own model)", Arg("text"), QUERY_MODEL,
         *STORE, limited("--k", "search_k"),
         HYBRID, FILTER,
         Arg("--exact", action="store_true", help="exact search even where an HNSW graph is built"), backend=True)
def search(args: argparse.Namespace) -> dict:
    from vecexplore.search.report import parse_filters, search_report

    if not args.text.strip():
        raise VecexploreError("The query is empty: type what you are looking for.")
    filters = parse_filters(args.filter or [])
    store = _store(args)
    return search_report(store, args.collection, _query_set(store, args, [args.text]), k=args.k,
                         hybrid=args.hybrid, filters=filters, exact=args.exact).to_dict()


@command("retrieval-eval", "recall@k, MRR@10, nDCG@10 and hard negatives from BEIR files",
         Arg("--queries", required=True, help="queries.jsonl ({_id, text} per line)"),
         Arg("--qrels", required=True, help="qrels.tsv (query-id, corpus-id, score)"),
         Arg("--id-field", default="doc_id",
             help="payload field holding the corpus id (default: doc_id; falls back to the point id)"),
         QUERY_MODEL, *STORE, limited("--k", "search_k", note="recall@k"),
         HYBRID, FILTER, backend=True)
def retrieval_eval(args: argparse.Namespace) -> dict:
    from vecexplore.files.beir import read_beir
    from vecexplore.search.report import parse_filters, retrieval_report

    judged = read_beir(read_text(args.queries), read_text(args.qrels), (Path(args.queries).name,
                                                                        Path(args.qrels).name))
    store = _store(args)
    query_set = _query_set(store, args, list(judged.queries.values()))
    report = retrieval_report(store, args.collection, judged.queries, query_set, judged.qrels, k=args.k,
                              hybrid=args.hybrid, id_field=args.id_field, notes=judged.notes,
                              filters=parse_filters(args.filter or []))
    return {"collection": args.collection, "model": query_set.model_id, "hybrid": args.hybrid, **report.to_dict()}


@command("copy", "copy a collection (vectors, payload, tag) to a Qdrant server or back",
         Arg("collection"), Arg("direction", choices=["to-server", "from-server"]),
         Arg("--server", required=True, help="the Qdrant server URL"),
         Arg("--new-name", help="name in the target (default: the same)"), QDRANT_PATH)
def copy(args: argparse.Namespace) -> dict:
    """Copy a collection between the embedded store and a Qdrant server, in either direction."""
    from vecexplore.search.opening import open_store, server_store

    embedded, server = open_store(path=args.qdrant_path), server_store(args.server)
    source, target = (embedded, server) if args.direction == "to-server" else (server, embedded)
    return source.copy(args.collection, target, args.new_name)


@command("import-local", "copy collections of the old local-mode store into Qdrant Edge", QDRANT_PATH)
def import_local(args: argparse.Namespace) -> dict:
    """Copy the collections an older version left in qdrant-client's local mode into Qdrant Edge."""
    from vecexplore.search.opening import import_legacy, open_store

    return {"imported": import_legacy(open_store(path=args.qdrant_path), args.qdrant_path)}


@command("compress", "recall@10 and bytes per vector of Qdrant's quantizations on a corpus", *CORPUS,
         limited("--queries", "compress_queries"), SEED, backend=True)
def compress(args: argparse.Namespace) -> dict:
    from vecexplore.search.compression import compression_report

    eset, _, _ = load_set(args)
    return compression_report(eset.vectors, n_queries=args.queries, seed=args.seed).to_dict()


@command("open-collection", "read an existing Qdrant collection (read-only) as vectors to explore",
         Arg("--collection", required=True),
         OneOf(Arg("--qdrant-url", help="Qdrant server URL"),
               Arg("--qdrant-path", help="a qdrant-client local-mode folder, or a vecexplore store folder")),
         Arg("--vector", help="which named vector (needed when the collection has several)"),
         limited("--limit", "collection_points"), SEED,
         Arg("--text-field", help="payload field holding the texts (default: guessed)"),
         Arg("--label-field", help="payload field holding labels (default: label, when there is one)"),
         Arg("-o", "--output", help="write the vectors as a vecexplore embeddings .parquet (for project, clusters, "
                                    "isotropy…)"))
def open_collection(args: argparse.Namespace) -> dict:
    from vecexplore.search.collections import collection_set, read_collection

    if not (args.qdrant_url or args.qdrant_path):
        raise VecexploreError("Name where the collection is: --qdrant-url URL or --qdrant-path FOLDER.")
    corpus = read_collection(args.collection, url=args.qdrant_url, path=args.qdrant_path, vector=args.vector,
                             limit=args.limit, seed=args.seed, text_field=args.text_field,
                             label_field=args.label_field)
    eset = collection_set(corpus)
    if args.output:
        eset.to_parquet(args.output)
    return {**corpus.origin.to_dict(), "n": eset.n, "dims": eset.dims, "model": eset.model_id,
            "version": eset.model_version, "notes": corpus.notes, "output": args.output}
