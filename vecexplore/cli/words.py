"""Word arithmetic: ``analogy``, ``analogy-eval``, ``word-sim``."""

from __future__ import annotations

import argparse
from pathlib import Path

from vecexplore.cli import Arg, command, limited
from vecexplore.cli.inputs import read_text
from vecexplore.errors import VecexploreError

MODEL = Arg("--model", default="glove-6B-50d", help="model id (default glove-6B-50d)")
METHOD = Arg("--method", choices=["3cosadd", "3cosmul"], default="3cosadd")
VOCABULARY = (limited("--restrict-vocab", "restrict_vocab"),
              Arg("--words", help="sentence models: a word list file (default: the shipped one)"))


def _words_model(args: argparse.Namespace):
    """The model for word arithmetic and, for sentence models, the word list given with ``--words``."""
    from vecexplore.embedder import Embedder

    words = None
    if args.words:
        try:
            words = Path(args.words).read_text(encoding="utf-8").split()
        except OSError as exc:
            raise VecexploreError(f"Cannot read the word list {args.words}: {exc.strerror or exc}.") from exc
    return Embedder(args.model, args.backend), words


@command("analogy", "a is to b as c is to ? (man king woman → queen)", Arg("a"), Arg("b"), Arg("c"), MODEL, METHOD,
         *VOCABULARY, limited("--top", "top"), backend=True)
def analogy(args: argparse.Namespace) -> dict:
    from vecexplore.words.analogy import word_space
    from vecexplore.words.report import analogy_answer

    embedder, words = _words_model(args)
    space = word_space(embedder.encoder(), words, args.restrict_vocab)
    return analogy_answer(space, args.a, args.b, args.c, method=args.method, k=args.top).to_dict()


@command("analogy-eval", "accuracy on a Google-format analogy file", Arg("file"), MODEL, METHOD, *VOCABULARY,
         backend=True)
def analogy_eval(args: argparse.Namespace) -> dict:
    from vecexplore.files.words import read_analogies
    from vecexplore.words.report import analogy_evaluation

    data = read_analogies(read_text(args.file), args.file)
    embedder, words = _words_model(args)
    return analogy_evaluation(embedder, data, args.method, words, args.restrict_vocab).to_dict()


@command("word-sim", "Spearman/Pearson on word pairs with human scores (e.g. SimLex-999)", Arg("file"), MODEL,
         *VOCABULARY, backend=True)
def word_sim(args: argparse.Namespace) -> dict:
    from vecexplore.files.words import read_word_pairs
    from vecexplore.words.report import word_similarity_report

    pairs = read_word_pairs(read_text(args.file), args.file)
    embedder, words = _words_model(args)
    return word_similarity_report(embedder, pairs, words, args.restrict_vocab).to_dict()
