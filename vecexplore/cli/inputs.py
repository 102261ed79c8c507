"""What several commands read: a corpus or a vecexplore embeddings file (``CORPUS``: FILE, --model, --text-col,
--label-col, --no-cache), a UTF-8 text file, a seed."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, limited
from vecexplore.errors import VecexploreError

TEXT_COL = Arg("--text-col", help="column holding the texts (default: guessed)")
LABEL_COL = Arg("--label-col", help="column holding labels (optional)")
SEED = limited("--seed", "seed")

CORPUS = (
    Arg("file", help="corpus (.txt .csv .tsv .jsonl .parquet) or a vecexplore embeddings .parquet"),
    Arg("--model", help="model id: all-MiniLM-L6-v2, glove-6B-50d, tfidf-lsa, a folder or hub id"),
    TEXT_COL,
    LABEL_COL,
    Arg("--no-cache", action="store_true", help="do not read or write the embedding cache"),
)


def load_set(args: argparse.Namespace):
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
    seen = {k: v for k, v in eset.info.items() if k != "backend_note"}  # the diagnosis, backend and fidelity
    return eset, stats, {"notes": corpus.notes, "columns": corpus.columns, **jsonable(seen)}


def read_text(path: str) -> str:
    """A UTF-8 text file, or a VecexploreError saying why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VecexploreError(f"Cannot read {path} as UTF-8 text: {exc}.") from exc


def jsonable(d: dict) -> dict:
    """``d`` without what is not for the JSON output (the index of truncated texts, the corpus' columns)."""
    return {k: v for k, v in d.items() if k not in {"truncated_index", "columns"}}
