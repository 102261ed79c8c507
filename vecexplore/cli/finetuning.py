"""Fine-tuning a model: ``finetune``."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import SEED, TEXT_COL
from vecexplore.errors import VecexploreError


@command("finetune", "fine-tune a sentence-transformers model on pairs; before/after on held-out pairs",
         Arg("pairs", help="CSV/TSV: anchor,positive[,negative] or sentence1,sentence2,score (header optional: "
                           "with one, columns are read by name; an anchor may have several positives)"),
         Arg("--base", default="all-MiniLM-L6-v2",
             help="model to start from: all-MiniLM-L6-v2, a fine-tuned model (finetuned/NAME) or a folder"),
         Arg("--name", required=True, help="the new model's name: it becomes finetuned/NAME"),
         limited("--epochs", "epochs"),
         limited("--batch-size", "batch_size"),
         limited("--lr", "learning_rate", float),
         Arg("--hard-negatives", action="store_true",
             help="mine one hard negative per pair with the base model (sentence-transformers' mine_hard_negatives)"),
         Arg("--matryoshka", action="store_true", help="wrap the loss in MatryoshkaLoss (dims, /2, /4, /8)"),
         Arg("--threshold", type=float, help="scored pairs: the least score of a positive (default 4)"),
         limited("--test-share", "test_share", float),
         SEED,
         limited("--threads", "threads", note="default: the idle cores"),
         Arg("--corpus", help="texts to compare neighbours on before/after (default: the held-out texts)"),
         TEXT_COL, backend=True)
def finetune(args: argparse.Namespace) -> dict:
    from vecexplore.cache import EmbeddingCache
    from vecexplore.embedder import Embedder
    from vecexplore.files.corpus import load_file
    from vecexplore.finetuning.report import finetune
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
                      threads=args.threads)
    report, manifest = finetune(tuner, split, name, Embedder(args.base, args.backend, EmbeddingCache()),
                                corpus=corpus.texts if corpus else None, source=Path(args.pairs).name,
                                seed=args.seed)
    out = report.to_dict()
    return {**out, "path": str(tuner.saved_path_), "data_hash": manifest["data_hash"],
            "notes": [*pairs.notes, *split.notes, *tuner.notes_, *(corpus.notes if corpus else []), *out["notes"]]}
