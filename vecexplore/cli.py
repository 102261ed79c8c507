"""``vecexplore`` command line: argparse → one workflow (a capability's ``report``) → JSON, as the app calls it."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.validation import MIN_PERMUTATIONS, option


def _load_set(args: argparse.Namespace):
    """An embedding set from FILE: a vecexplore Parquet (vectors kept) or a corpus to embed with --model."""
    from vecexplore.cache import EmbeddingCache, EmbedStats
    from vecexplore.embedding_set import EmbeddingSet
    from vecexplore.encoders import load_encoder
    from vecexplore.files.corpus import load_file
    from vecexplore.pipeline import embed_corpus

    path = Path(args.file)
    if path.suffix == ".parquet":
        try:
            eset = EmbeddingSet.from_parquet(path)
        except VecexploreError:
            eset = None
        if eset is not None:
            if args.model and args.model != eset.model_id:
                raise VecexploreError(f"{path} holds vectors of {eset.model_id!r}, not {args.model!r}.")
            return eset, EmbedStats(eset.n, eset.n, 0, 0.0), {"columns": None}
    if not args.model:
        raise VecexploreError("--model is required to embed a text file.")
    corpus = load_file(path, args.text_col, args.label_col)
    encoder = load_encoder(args.model, corpus.texts, backend=args.backend)
    eset, stats = embed_corpus(corpus, encoder, cache=None if args.no_cache else EmbeddingCache())
    return eset, stats, {"notes": corpus.notes, "columns": corpus.columns,
                         "backend": getattr(encoder, "backend", None), "fidelity": getattr(encoder, "fidelity_", None),
                         **_jsonable(encoder.diagnose(corpus.texts))}


def _read_text(path: str) -> str:
    """A UTF-8 text file, or a VecexploreError saying why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VecexploreError(f"Cannot read {path} as UTF-8 text: {exc}.") from exc


def _jsonable(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in {"truncated_index", "columns"}}


def cmd_models(args: argparse.Namespace) -> dict:
    from vecexplore.encoders import model_catalogue

    return {"models": model_catalogue()}


def cmd_embed(args: argparse.Namespace) -> dict:
    eset, stats, diag = _load_set(args)
    if args.output:
        eset.to_parquet(args.output)
    return {"n": eset.n, "dims": eset.dims, "model": eset.model_id, "version": eset.model_version,
            "seconds": round(stats.seconds, 3), "cache_hits": stats.cache_hits, "encoded": stats.encoded,
            "output": args.output, **_jsonable(diag)}


def cmd_project(args: argparse.Namespace) -> dict:
    from vecexplore.files.export import coordinates_frame
    from vecexplore.maps.projection import Projector
    from vecexplore.maps.report import faithfulness, map_report

    eset, stats, diag = _load_set(args)
    report = map_report(eset, Projector(args.method, n_components=args.dims, n_neighbors=args.n_neighbors,
                                        random_state=args.seed), args.k, args.max_points)
    faithful = faithfulness(eset, report.coords, args.k, seed=args.seed) if args.faithfulness else None
    if args.output:
        frame = coordinates_frame(eset, report.coords, report.method)
        if faithful is not None:
            frame["knn_kept"] = faithful.per_point()
        frame.to_parquet(args.output, index=False)
    out = report.to_dict()
    extra = {"faithfulness": faithful.to_dict()} if faithful is not None else {}
    return {**out, "embed_seconds": round(stats.seconds, 3), "cache_hits": stats.cache_hits,
            "notes": out["notes"] + diag.get("notes", []), "output": args.output, **extra}


def cmd_clusters(args: argparse.Namespace) -> dict:
    from vecexplore.maps.report import cluster_report

    eset, stats, diag = _load_set(args)
    out = cluster_report(eset, args.method, args.k, args.granularity, args.min_cluster_size, args.words,
                         random_state=args.seed).to_dict()
    return {**out, "embed_seconds": round(stats.seconds, 3), "cache_hits": stats.cache_hits,
            "notes": out["notes"] + diag.get("notes", [])}


def _words_model(args: argparse.Namespace):
    """The model for word arithmetic and, for sentence models, the word list given with ``--words``."""
    from vecexplore.encoders import load_encoder

    words = None
    if args.words:
        try:
            words = Path(args.words).read_text(encoding="utf-8").split()
        except OSError as exc:
            raise VecexploreError(f"Cannot read the word list {args.words}: {exc.strerror or exc}.") from exc
    return load_encoder(args.model, backend=args.backend), words


def cmd_analogy(args: argparse.Namespace) -> dict:
    from vecexplore.words.analogy import word_space
    from vecexplore.words.report import analogy_answer

    encoder, words = _words_model(args)
    space = word_space(encoder, words, args.restrict_vocab)
    return analogy_answer(space, args.a, args.b, args.c, method=args.method, k=args.top).to_dict()


def cmd_analogy_eval(args: argparse.Namespace) -> dict:
    from vecexplore.words.analogy import read_analogies
    from vecexplore.words.report import analogy_evaluation

    data = read_analogies(_read_text(args.file).splitlines())
    encoder, words = _words_model(args)
    return analogy_evaluation(encoder, data, args.method, words, args.restrict_vocab).to_dict()


def cmd_word_sim(args: argparse.Namespace) -> dict:
    from vecexplore.words.analogy import read_word_pairs
    from vecexplore.words.report import word_similarity_report

    pairs = read_word_pairs(_read_text(args.file))
    encoder, words = _words_model(args)
    return word_similarity_report(encoder, pairs, words, args.restrict_vocab).to_dict()


def cmd_isotropy(args: argparse.Namespace) -> dict:
    from vecexplore.transforms.report import isotropy_report

    eset, _, _ = _load_set(args)
    report = isotropy_report(eset, args.transform, k=args.k, d=args.d)
    if args.save_transform and report.applied:
        report.transform.save(args.save_transform)
    return report.to_dict()


def cmd_sts(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache, embed
    from vecexplore.encoders import load_encoder
    from vecexplore.files.corpus import load_file
    from vecexplore.transforms.report import sts_effect
    from vecexplore.transforms.sts import read_pairs

    pairs = read_pairs(_read_text(args.pairs))
    fit_texts = load_file(args.fit_on).texts if args.fit_on else None
    encoder = load_encoder(args.model, [*pairs.s1, *pairs.s2] if fit_texts is None else fit_texts,
                           backend=args.backend)
    cache = EmbeddingCache()
    params = {"whiten": {"k": args.k}, "abtt": {"d": args.d}}.get(args.transform, {})
    effect = sts_effect(pairs, lambda texts: embed(list(texts), encoder, cache=cache)[0].vectors, encoder.id,
                        [(args.transform, params)], fit_texts)
    row = effect.row(args.transform, "the corpus" if fit_texts is not None else "the pairs")
    return {"model": encoder.id, "version": encoder.version, "transform": row["spec"],
            "fitted_on": args.fit_on or ("the pairs" if args.transform != "none" else None),
            "spearman": row["spearman"], "pearson": row["pearson"], "n": row["n"], "n_bad_rows": pairs.n_bad,
            "n_out_of_range": pairs.n_out_of_range}


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


def cmd_index(args: argparse.Namespace) -> dict:
    from vecexplore.transforms.isotropy import load_transform

    eset, stats, diag = _load_set(args)
    if args.transform_file:
        eset = load_transform(args.transform_file).transform(eset)  # refused if fitted on another model's vectors
    result = _store(args).index(args.collection, eset, distance=args.distance, source=Path(args.file).name,
                                columns=diag["columns"])
    return {**result, "embed_seconds": round(stats.seconds, 3), "cache_hits": stats.cache_hits}


def cmd_search(args: argparse.Namespace) -> dict:
    from vecexplore.search.report import parse_filters, search_report

    if not args.text.strip():
        raise VecexploreError("The query is empty: type what you are looking for.")
    filters = parse_filters(args.filter or [])
    store = _store(args)
    return search_report(store, args.collection, _query_set(store, args, [args.text]), k=args.k,
                         hybrid=args.hybrid, filters=filters, exact=args.exact).to_dict()


def cmd_retrieval_eval(args: argparse.Namespace) -> dict:
    from vecexplore.search.report import parse_filters, retrieval_report
    from vecexplore.search.retrieval import read_beir

    queries, qrels = read_beir(_read_text(args.queries), _read_text(args.qrels))
    store = _store(args)
    query_set = _query_set(store, args, list(queries.values()))
    report = retrieval_report(store, args.collection, queries, query_set, qrels, k=args.k, hybrid=args.hybrid,
                              id_field=args.id_field, filters=parse_filters(args.filter or []))
    return {"collection": args.collection, "model": query_set.model_id, "hybrid": args.hybrid, **report.to_dict()}


def cmd_copy(args: argparse.Namespace) -> dict:
    """Copy a collection between the embedded store and a Qdrant server, in either direction."""
    from vecexplore.search.opening import open_store, server_store

    embedded, server = open_store(path=args.qdrant_path), server_store(args.server)
    source, target = (embedded, server) if args.direction == "to-server" else (server, embedded)
    return source.copy(args.collection, target, args.new_name)


def cmd_import_local(args: argparse.Namespace) -> dict:
    """Copy the collections an older version left in qdrant-client's local mode into Qdrant Edge."""
    from vecexplore.search.opening import import_legacy, open_store

    return {"imported": import_legacy(open_store(path=args.qdrant_path), args.qdrant_path)}


def cmd_compress(args: argparse.Namespace) -> dict:
    from vecexplore.search.compression import compression_report

    eset, _, _ = _load_set(args)
    return compression_report(eset.vectors, n_queries=args.queries, seed=args.seed).to_dict()


def cmd_compare(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.files.corpus import load_file
    from vecexplore.models.compare import embed_models
    from vecexplore.models.report import comparison_report

    corpus = load_file(args.file, args.text_col, args.label_col)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    sets, info, notes = embed_models(corpus.texts, models, corpus.labels, cache=EmbeddingCache(),
                                     backend=args.backend)
    out = comparison_report(sets, k=args.k, info=info).to_dict()
    return {**out, "notes": corpus.notes + notes + out["notes"]}


def cmd_translate(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.files.corpus import load_file
    from vecexplore.models.compare import embed_models
    from vecexplore.models.report import translation_report

    corpus = load_file(args.file, args.text_col, None)
    sets, _, notes = embed_models(corpus.texts, [args.source, args.target], cache=EmbeddingCache(),
                                  backend=args.backend)
    report = translation_report(sets[args.source], sets[args.target], args.method)
    return {"from": args.source, "to": args.target, **report.to_dict(), "notes": notes}


def cmd_shift(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.domains.report import shift_report
    from vecexplore.encoders import load_encoder
    from vecexplore.files.corpus import load_file

    a = load_file(args.file_a, args.text_col)
    b = load_file(args.file_b, args.text_col)
    union = [*a.texts, *b.texts]
    report = shift_report(a.texts, b.texts, args.model or ["all-MiniLM-L6-v2"],
                          lambda model_id: load_encoder(model_id, union, backend=args.backend), EmbeddingCache(),
                          permutations=args.permutations, seed=args.seed)
    return {"a": args.file_a, "b": args.file_b, "models": report.to_dict()["models"], "notes": a.notes + b.notes}


def cmd_finetune(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.encoders import load_encoder
    from vecexplore.files.corpus import load_file
    from vecexplore.finetuning.report import finetune_report
    from vecexplore.finetuning.tuner import FineTuner, new_name, read_pairs_file, split_pairs

    try:
        data = Path(args.pairs).read_bytes()
    except OSError as exc:
        raise VecexploreError(f"Cannot read {args.pairs}: {exc.strerror or exc}.") from exc
    name = new_name(args.name)
    pairs = read_pairs_file(data, Path(args.pairs).name, args.threshold)
    corpus = load_file(args.corpus, args.text_col) if args.corpus else None
    split = split_pairs(pairs, args.test_share, args.seed)
    tuner = FineTuner(args.base, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                      hard_negatives=args.hard_negatives, matryoshka=args.matryoshka, seed=args.seed,
                      threads=args.threads).fit(split.train)
    manifest = tuner.save(name, source=Path(args.pairs).name)
    report = finetune_report(load_encoder(args.base, backend=args.backend),
                             load_encoder(manifest["id"], backend=args.backend), split.held,
                             corpus.texts if corpus else None, cache=EmbeddingCache(), seed=args.seed,
                             training=tuner.summary())
    out = report.to_dict()
    return {**out, "path": str(tuner.saved_path_), "data_hash": manifest["data_hash"],
            "notes": [*pairs.notes, *split.notes, *tuner.notes_, *(corpus.notes if corpus else []), *out["notes"]]}


def cmd_warmup(args: argparse.Namespace) -> dict:
    from vecexplore.warmup import warm_up

    return warm_up(tuple(args.model or ["all-MiniLM-L6-v2"]))


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as a :class:`VecexploreError` (so JSON on stdout and exit 2, like
    every other error) instead of a usage text."""

    def error(self, message: str) -> NoReturn:
        raise VecexploreError(f"{self.prog}: {message.rstrip('.')}. See `{self.prog} --help`.")


def _parser() -> argparse.ArgumentParser:
    from vecexplore.encoders import BACKENDS

    parser = _Parser(prog="vecexplore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, needs_file: bool = True) -> None:
        p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
        if needs_file:
            p.add_argument("file", help="corpus (.txt .csv .tsv .jsonl .parquet) or a vecexplore embeddings .parquet")
            p.add_argument("--model", help="model id: all-MiniLM-L6-v2, glove-6B-50d, tfidf-lsa, a folder or hub id")
            p.add_argument("--text-col", help="column holding the texts (default: guessed)")
            p.add_argument("--label-col", help="column holding labels (optional)")
            p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")

    common(sub.add_parser("models", help="list the built-in models"), needs_file=False)
    p = sub.add_parser("warmup", help="compile UMAP (numba) and export MiniLM to ONNX once, ahead of first use")
    p.add_argument("--model", action="append", help="model to prepare (repeatable; default all-MiniLM-L6-v2)")
    p = sub.add_parser("embed", help="embed a corpus and write vectors to Parquet")
    common(p)
    p.add_argument("-o", "--output", help="output .parquet (texts, labels, vectors, model tag)")
    p = sub.add_parser("project", help="2-D/3-D map of a corpus, with trustworthiness")
    common(p)
    p.add_argument("--method", choices=["pca", "umap", "tsne"], default="umap")
    p.add_argument("--dims", type=int, choices=[2, 3], default=2)
    p.add_argument("--n-neighbors", type=option("n_neighbors"), default=15, help="UMAP's n_neighbors (2-200)")
    p.add_argument("--k", type=option("neighbours"), default=10,
                   help="neighbours for trustworthiness and k-NN kept (1-100; lowered below n/2 for small corpora)")
    p.add_argument("--max-points", type=option("max_points"), default=5000, help="sample size for the quality scores")
    p.add_argument("--seed", type=option("seed"), default=0)
    p.add_argument("-o", "--output", help="output .parquet of coordinates")
    p.add_argument("--faithfulness", action="store_true",
                   help="per text, the share of its k nearest neighbours the map keeps (a knn_kept column in -o; "
                        "mean, share below 0.5 and the worst texts in the JSON); every text up to 50,000")
    p = sub.add_parser("clusters", help="clusters in the original space, named by their words, with label purity")
    common(p)
    p.add_argument("--method", choices=["kmeans", "hdbscan"], default="kmeans")
    p.add_argument("--k", type=option("clusters"), help="k-means clusters (2-100; default: chosen by silhouette)")
    p.add_argument("--min-cluster-size", type=option("min_cluster_size"),
                   help="HDBSCAN: the fewest texts that make a cluster (default: 1/100 of those fitted, at least 5)")
    p.add_argument("--granularity", choices=["coarse", "fine"], default="coarse",
                   help="fine: 3x the k-means clusters, or HDBSCAN clusters a third of the size")
    p.add_argument("--words", type=option("cluster_words"), default=10, help="top words per cluster (1-50)")
    p.add_argument("--seed", type=option("seed"), default=0)

    def words_options(p: argparse.ArgumentParser, analogies: bool = True) -> None:
        p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
        p.add_argument("--model", default="glove-6B-50d", help="model id (default glove-6B-50d)")
        if analogies:
            p.add_argument("--method", choices=["3cosadd", "3cosmul"], default="3cosadd")
        p.add_argument("--restrict-vocab", type=option("restrict_vocab"), default=100_000,
                       help="GloVe: the N most frequent words (1000-400000; default 100000)")
        p.add_argument("--words", help="sentence models: a word list file (default: the shipped one)")

    p = sub.add_parser("analogy", help="a is to b as c is to ? (man king woman → queen)")
    for name in ("a", "b", "c"):
        p.add_argument(name)
    words_options(p)
    p.add_argument("--top", type=option("top"), default=5, help="answers to list (1-1000)")
    p = sub.add_parser("analogy-eval", help="accuracy on a Google-format analogy file")
    p.add_argument("file")
    words_options(p)
    p = sub.add_parser("word-sim", help="Spearman/Pearson on word pairs with human scores (e.g. SimLex-999)")
    p.add_argument("file")
    words_options(p, analogies=False)

    def transform_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--transform", choices=["none", "center", "abtt", "whiten", "zca"], default="none")
        p.add_argument("--k", type=option("whiten_k"), default=256, help="whitening: dimensions kept")
        p.add_argument("--d", type=option("abtt_d"), default=3, help="all-but-the-top: principal directions removed")

    p = sub.add_parser("isotropy", help="anisotropy metrics, before/after a transform fitted on the corpus")
    common(p)
    transform_options(p)
    p.add_argument("--save-transform", help="save the fitted transform (.npz) for reuse")
    p = sub.add_parser("sts", help="Spearman/Pearson of cosine vs human scores on sentence pairs")
    p.add_argument("pairs", help="CSV rows sentence1,sentence2,score (STS-B format)")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p.add_argument("--model", required=True)
    transform_options(p)
    p.add_argument("--fit-on", help="corpus file to fit the transform on (default: the pairs' sentences)")

    def store_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--collection", required=True)
        where = p.add_mutually_exclusive_group()
        where.add_argument("--qdrant-path", help="embedded Qdrant folder (default <VECEXPLORE_HOME>/qdrant)")
        where.add_argument("--qdrant-url", help="Qdrant server URL (or set VECEXPLORE_QDRANT_URL)")
        p.add_argument("--transform-file", help="a transform saved by `isotropy --save-transform`")

    p = sub.add_parser("index", help="index a corpus into a Qdrant collection tagged with its model")
    common(p)
    store_options(p)
    p.add_argument("--distance", choices=["cosine", "dot", "euclid", "manhattan"], default="cosine")
    p = sub.add_parser("search", help="search a collection (the query uses the collection's own model)")
    p.add_argument("text")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p.add_argument("--model", help="must match the collection's model (default: the collection's)")
    store_options(p)
    p.add_argument("--k", type=option("search_k"), default=10, help="hits to return (1-1000)")
    p.add_argument("--hybrid", action="store_true", help="fuse dense and BM25 keyword results (RRF)")
    p.add_argument("--filter", action="append",
                   help="field=value, field=a|b (any of them) or field=lo..hi (a numeric range); repeatable")
    p.add_argument("--exact", action="store_true", help="exact search even where an HNSW graph is built")
    p = sub.add_parser("retrieval-eval", help="recall@k, MRR@10, nDCG@10 and hard negatives from BEIR files")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p.add_argument("--queries", required=True, help="queries.jsonl ({_id, text} per line)")
    p.add_argument("--qrels", required=True, help="qrels.tsv (query-id, corpus-id, score)")
    p.add_argument("--id-field", default="doc_id", help="payload field holding the corpus id (default: doc_id; "
                   "falls back to the point id)")
    p.add_argument("--model", help="must match the collection's model (default: the collection's)")
    store_options(p)
    p.add_argument("--k", type=option("search_k"), default=10, help="recall@k (1-1000)")
    p.add_argument("--hybrid", action="store_true")
    p.add_argument("--filter", action="append", metavar="FIELD=VALUE",
                   help="search only the points a payload filter keeps (as for `search`; repeatable)")
    p = sub.add_parser("copy", help="copy a collection (vectors, payload, tag) to a Qdrant server or back")
    p.add_argument("collection")
    p.add_argument("direction", choices=["to-server", "from-server"])
    p.add_argument("--server", required=True, help="the Qdrant server URL")
    p.add_argument("--new-name", help="name in the target (default: the same)")
    p.add_argument("--qdrant-path", help="embedded Qdrant folder (default <VECEXPLORE_HOME>/qdrant)")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p = sub.add_parser("import-local", help="copy collections of the old local-mode store into Qdrant Edge")
    p.add_argument("--qdrant-path", help="embedded Qdrant folder (default <VECEXPLORE_HOME>/qdrant)")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p = sub.add_parser("compress", help="recall@10 and bytes per vector of Qdrant's quantizations on a corpus")
    common(p)
    p.add_argument("--queries", type=option("compress_queries"), default=200, help="stored vectors used as queries")
    p.add_argument("--seed", type=option("seed"), default=0)
    p = sub.add_parser("compare", help="compare models on the same texts: CKA, RSA, k-NN Jaccard, probe accuracy")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p.add_argument("--models", required=True, help="comma-separated model ids (two or more)")
    p.add_argument("--k", type=option("neighbours"), default=10, help="neighbours for k-NN Jaccard (1-100)")
    p.add_argument("--text-col")
    p.add_argument("--label-col")
    p = sub.add_parser("translate", help="fit a linear map between two models' spaces and test it on held-out texts")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p.add_argument("--from", dest="source", required=True)
    p.add_argument("--to", dest="target", required=True)
    p.add_argument("--method", choices=["lstsq", "ridge", "procrustes"], default="lstsq")
    p.add_argument("--text-col")
    p = sub.add_parser("shift", help="how far corpus B sits from corpus A: MMD², C2ST AUC, centroid distance, mixing")
    p.add_argument("file_a")
    p.add_argument("file_b")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p.add_argument("--model", action="append", help="model id (repeat for several; default all-MiniLM-L6-v2)")
    p.add_argument("--permutations", type=option("permutations"), default=200,
                   help=f"MMD permutations ({MIN_PERMUTATIONS}-10000); p-values resolve to 1/(N + 1)")
    p.add_argument("--seed", type=option("seed"), default=0)
    p.add_argument("--text-col")
    p = sub.add_parser("finetune", help="fine-tune a sentence-transformers model on pairs; before/after on held-out "
                       "pairs")
    p.add_argument("pairs", help="CSV/TSV: anchor,positive[,negative] or sentence1,sentence2,score (header optional: "
                   "with one, columns are read by name; an anchor may have several positives)")
    p.add_argument("--json", action="store_true", help="print JSON (the default output is JSON too)")
    p.add_argument("--base", default="all-MiniLM-L6-v2",
                   help="model to start from: all-MiniLM-L6-v2, a fine-tuned model (finetuned/NAME) or a folder")
    p.add_argument("--name", required=True, help="the new model's name: it becomes finetuned/NAME")
    p.add_argument("--epochs", type=option("epochs"), default=1, help="passes over the training pairs (1-20)")
    p.add_argument("--batch-size", type=option("batch_size"), default=32,
                   help="pairs per step; each anchor's in-batch negatives are the others' positives (2-512)")
    p.add_argument("--lr", type=option("learning_rate", float), default=5e-5, help="learning rate (default 5e-5)")
    p.add_argument("--hard-negatives", action="store_true",
                   help="mine one hard negative per pair with the base model (sentence-transformers' "
                   "mine_hard_negatives)")
    p.add_argument("--matryoshka", action="store_true", help="wrap the loss in MatryoshkaLoss (dims, /2, /4, /8)")
    p.add_argument("--threshold", type=float, help="scored pairs: the least score of a positive (default 4)")
    p.add_argument("--test-share", type=option("test_share", float), default=0.2,
                   help="share of pairs held out, before training, for the before/after evaluation (0.05-0.5)")
    p.add_argument("--seed", type=option("seed"), default=0)
    p.add_argument("--threads", type=option("threads"), help="torch CPU threads (default: the idle cores)")
    p.add_argument("--corpus", help="texts to compare neighbours on before/after (default: the held-out texts)")
    p.add_argument("--text-col")
    for name, p in sub.choices.items():
        if name not in {"models", "warmup", "copy", "import-local"}:
            p.add_argument("--backend", choices=list(BACKENDS), default="auto",
                           help="how transformer models run (default auto: ONNX Runtime when it matches torch)")
    return parser


COMMANDS = {"models": cmd_models, "embed": cmd_embed, "project": cmd_project, "clusters": cmd_clusters,
            "analogy": cmd_analogy, "analogy-eval": cmd_analogy_eval, "word-sim": cmd_word_sim,
            "isotropy": cmd_isotropy, "sts": cmd_sts,
            "index": cmd_index, "search": cmd_search, "copy": cmd_copy, "import-local": cmd_import_local,
            "compress": cmd_compress, "retrieval-eval": cmd_retrieval_eval, "compare": cmd_compare,
            "translate": cmd_translate, "shift": cmd_shift,
            "finetune": cmd_finetune, "warmup": cmd_warmup}


def _default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fail(message: str, code: int) -> int:
    print(f"vecexplore: error: {message}", file=sys.stderr)
    print(json.dumps({"error": message}, ensure_ascii=False))
    return code


def main(argv: list[str] | None = None) -> int:
    """Run one command; print its result as JSON. Exit 2 with ``{"error": ...}`` for anything a user can fix,
    exit 1 with ``{"error": ...}`` for a bug (the traceback only with ``VECEXPLORE_DEBUG=1``)."""
    # transformers' weight-loading bars and load reports are noise on a CLI whose output is JSON
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        args = _parser().parse_args(argv)
        result = COMMANDS[args.command](args)
    except VecexploreError as exc:
        return _fail(str(exc), 2)
    except Exception as exc:  # a bug: say so in one JSON line rather than a traceback
        if os.environ.get("VECEXPLORE_DEBUG"):
            traceback.print_exc()
        return _fail(f"unexpected {type(exc).__name__}: {exc}. This is a bug in vecexplore; run again with "
                     "VECEXPLORE_DEBUG=1 to see where it happened, and report it.", 1)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=_default))
    return 0


if __name__ == "__main__":
    sys.exit(main())
