"""What several commands read: a corpus, a vecexplore embeddings file or a user's own vectors (``CORPUS``: FILE,
--model, --text-col, --label-col, --no-cache, --vectors-col, --metadata), a UTF-8 text file, a seed."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, limited
from vecexplore.errors import VecexploreError

TEXT_COL = Arg("--text-col", help="column holding the texts (default: guessed)")
LABEL_COL = Arg("--label-col", help="column holding labels (optional)")
SEED = limited("--seed", "seed")
VECTORS_COL = Arg("--vectors-col", help="your own vectors: the column (or .npz array) holding them; FILE is then read "
                  "as vectors, with no model (.npy, .npz, .arrow and datasets folders always are; a .parquet with a "
                  "vector column is when no --model is given)")

CORPUS = (
    Arg("file", help="corpus (.txt .csv .tsv .jsonl .parquet), a vecexplore embeddings .parquet, or your own vectors "
                     "(.parquet/.arrow with a vector column, .npy/.npz, a datasets save_to_disk folder)"),
    Arg("--model", help="model id: all-MiniLM-L6-v2, glove-6B-50d, tfidf-lsa, a folder or hub id"),
    TEXT_COL,
    LABEL_COL,
    Arg("--no-cache", action="store_true", help="do not read or write the embedding cache"),
    VECTORS_COL,
    Arg("--metadata", help="the texts (and labels) of a .npy/.npz, one row per vector (default: the .csv, .parquet "
                           "or .tsv of the same name beside it)"),
    Arg("--vectors-model", help="your own vectors: the model that made them, checked on a sample of rows (cosine "
                                "with the stored vectors); the set is then tagged with it, so an indexed collection "
                                "takes text queries"),
)


RAY = (
    Arg("--ray", metavar="ADDRESS", help="embed on Ray workers (pip install 'vecexplore[ray]'): local (a Ray instance "
        "in this process), auto (the cluster this machine belongs to) or ray://HOST:PORT; the workers write Parquet "
        "shards, the embedding cache is not used"),
    limited("--ray-workers", "ray_workers", note="default: one per CPU of the Ray instance"),
    Arg("--ray-shards", metavar="FOLDER", help="a new or empty folder for the shards, on storage every worker sees "
        "(default <VECEXPLORE_HOME>/shards/<model>-<digest>)"),
)


def load_set(args: argparse.Namespace):
    """An embedding set from FILE: a vecexplore Parquet (vectors kept), a user's own vectors (see
    ``files.vectors.holds_vectors``) or a corpus to embed with --model."""
    from vecexplore.cache import EmbeddingCache, EmbedStats
    from vecexplore.embedding_set import EmbeddingSet
    from vecexplore.encoders import load_encoder
    from vecexplore.files.corpus import load_file
    from vecexplore.files.vectors import holds_vectors
    from vecexplore.pipeline import embed_corpus

    path = Path(args.file)
    if path.suffix == ".parquet" and not args.vectors_col:
        try:
            eset = EmbeddingSet.from_parquet(path)
        except VecexploreError:
            eset = None
        if eset is not None:
            _nothing_for_ray(args, path)
            if args.model and args.model != eset.model_id:
                raise VecexploreError(f"{path} holds vectors of {eset.model_id!r}, not {args.model!r}.")
            return eset, EmbedStats(eset.n, eset.n, 0, 0.0), {"columns": None}
    if holds_vectors(path, args.vectors_col, embed=bool(args.model)):
        _nothing_for_ray(args, path)
        if args.model:
            raise VecexploreError(f"{path.name} is read as your own vectors, which need no model: leave out --model.")
        eset, diag = vectors_set(path, args.vectors_col, args.text_col, args.label_col, args.metadata)
        if args.vectors_model:
            eset, check = named_set(eset, args.vectors_model, getattr(args, "backend", "auto"), not args.no_cache)
            diag = {**diag, "model_check": check.to_dict(), "notes": [*diag["notes"], check.sentence()]}
        return eset, EmbedStats(eset.n, eset.n, 0, 0.0), diag
    if args.metadata or args.vectors_model:
        raise VecexploreError(f"{'--metadata' if args.metadata else '--vectors-model'} goes with your own vectors "
                              "(a .npy/.npz, or a table with --vectors-col); to embed a text file, use --model.")
    if not args.model:
        raise VecexploreError("--model is required to embed a text file.")
    corpus = load_file(path, args.text_col, args.label_col)
    ran = {}
    if getattr(args, "ray", None):
        from vecexplore.distributed import ray_embed

        eset, stats, run = ray_embed(corpus, args.model, backend=args.backend, address=args.ray,
                                     workers=args.ray_workers, shards=args.ray_shards)
        ran = {"ray": run.to_dict()}
    else:
        encoder = load_encoder(args.model, corpus.texts, backend=args.backend)
        eset, stats = embed_corpus(corpus, encoder, cache=None if args.no_cache else EmbeddingCache())
    seen = {k: v for k, v in eset.info.items() if k != "backend_note"}  # the diagnosis, backend and fidelity
    return eset, stats, {"notes": corpus.notes, "columns": corpus.columns, "rows_skipped": corpus.skipped,
                         **jsonable(seen), **ran}


def _nothing_for_ray(args: argparse.Namespace, path: Path) -> None:
    """Refuse ``--ray`` on a file that already holds vectors: it has no texts to embed."""
    if getattr(args, "ray", None):
        raise VecexploreError(f"{path.name} already holds vectors, so --ray has nothing to embed: leave it out.")


def vectors_set(path: Path, vectors_col: str | None, text_col: str | None, label_col: str | None = None,
                metadata: str | None = None) -> tuple:
    """A user's vectors as a set tagged ``imported:<file>`` (version: their hash), and what to print beside it."""
    from vecexplore.files.vectors import open_vectors
    from vecexplore.pipeline import imported_set

    corpus = open_vectors(path, vectors_col, text_col, label_col, metadata)
    eset = imported_set(corpus)
    return eset, {"notes": corpus.notes, "columns": corpus.columns, "rows_skipped": corpus.skipped, **eset.info}


def named_set(eset, model_id: str, backend: str, cache: bool) -> tuple:
    """A user's vectors tagged with ``model_id`` once it reproduces them (``search.model_check``), else refused."""
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.search.model_check import named_model_set

    return named_model_set(eset, Embedder(model_id, backend, EmbeddingCache() if cache else None))


def read_text(path: str) -> str:
    """A UTF-8 text file, or a VecexploreError saying why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VecexploreError(f"Cannot read {path} as UTF-8 text: {exc}.") from exc


def jsonable(d: dict) -> dict:
    """``d`` without what is not for the JSON output (the index of truncated texts, the corpus' columns)."""
    return {k: v for k, v in d.items() if k not in {"truncated_index", "columns"}}
