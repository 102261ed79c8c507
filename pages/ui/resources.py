"""What a server process loads once and every session shares: the embedding cache, the Qdrant store, the models,
the fitted maps. All of it is keyed by content (a corpus, a model id and version), so sharing shows no session
anything another put in but the same answer to the same input."""

from __future__ import annotations

import streamlit as st

from vecexplore import warmup
from vecexplore.cache import EmbeddingCache
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import Encoder
from vecexplore.maps.projection import ProjectionCache
from vecexplore.search.opening import open_store
from vecexplore.search.store import Store

# ``hash_funcs`` of a cached function that takes embedded sets: a set is known by its content and space (model,
# version, transform, texts, labels, vectors), computed once per set, never by tags picked by hand.
BY_CONTENT = {EmbeddingSet: lambda eset: eset.fingerprint}


@st.cache_resource(show_spinner=False)
def cache() -> EmbeddingCache:
    return EmbeddingCache()


@st.cache_resource(show_spinner="Opening the Qdrant store…")
def _store(url: str) -> Store:
    """One store per process and URL: Qdrant Edge locks its folder to a single process."""
    return open_store(url=url or None)


def store(caller: str, url: str | None = None) -> Store:
    """The search store at ``url`` (default: the one chosen in the sidebar; empty: the embedded one), acting for
    session ``caller``: the store refuses it other sessions' private collections and writes to their shared
    ones."""
    url = st.session_state.get("qdrant_url", "") if url is None else url
    return _store(url.strip()).acting_as(caller)


@st.cache_resource(show_spinner="Loading the model (the first time: exporting it to ONNX, about 15 s)…",
                   max_entries=4)
def encoder(model_id: str, backend: str, key: str, _texts: tuple[str, ...]) -> Encoder:
    """One loaded model per process, backend and ``key`` (``tfidf-lsa``: the corpus it was fitted on; a
    fine-tuned model: its version); the app's warm-up may have loaded it already (:func:`vecexplore.warmup.encoder`)."""
    return warmup.encoder(model_id, backend, _texts or None)


@st.cache_resource(show_spinner=False)
def projections() -> ProjectionCache:
    """Fitted maps in memory and on disk, shared by reruns, sessions and restarts (read-only once fitted)."""
    return ProjectionCache()
