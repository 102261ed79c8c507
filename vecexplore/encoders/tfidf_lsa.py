"""TF-IDF + truncated SVD (LSA), fitted on the corpus it embeds."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from vecexplore.encoders._common import Progress
from vecexplore.errors import VecexploreError
from vecexplore.numeric import l2_normalize

TFIDF_ID = "tfidf-lsa"


class TfidfLsaEncoder:
    """TF-IDF + truncated SVD (LSA) fitted on a corpus; its ``version`` names what it was fitted on."""

    id = TFIDF_ID

    def __init__(self, n_components: int = 128, random_state: int = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, texts: Sequence[str]) -> TfidfLsaEncoder:
        from sklearn import __version__ as sklearn_version
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(texts)
        if len(texts) < 3:
            raise VecexploreError("tfidf-lsa is fitted on the corpus itself and needs at least 3 texts.")
        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True)
        try:
            tfidf = self.vectorizer_.fit_transform(texts)
        except ValueError as exc:
            raise VecexploreError("tfidf-lsa found no words in the corpus (only punctuation or blanks?).") from exc
        k = max(1, min(self.n_components, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
        self.svd_ = TruncatedSVD(n_components=k, random_state=self.random_state).fit(tfidf)
        self.dims = k
        corpus_hash = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:12]
        self.fitted_on_ = {"n_texts": len(texts), "sha256": corpus_hash}
        self.version = f"sklearn=={sklearn_version};k={k};fit={len(texts)}texts:{corpus_hash}"
        return self

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        if not hasattr(self, "svd_"):
            raise VecexploreError("tfidf-lsa must be fitted on a corpus before it can encode.")
        out = l2_normalize(self.svd_.transform(self.vectorizer_.transform(list(texts))))
        if progress:
            progress(len(texts), len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        known = self.vectorizer_.transform(list(texts)).getnnz(axis=1)
        return {"n_texts_without_known_words": int((known == 0).sum()), "fitted_on": self.fitted_on_}


