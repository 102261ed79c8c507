"""One browser session's state: what the sidebar chose, its embedded sets, its kept results and messages.

Everything here lives in ``st.session_state``: a session never sees another's corpus, results or names."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import streamlit as st

from pages.ui import resources
from pages.ui.text import md
from pages.ui.widgets import guard
from vecexplore.cache import EmbedStats
from vecexplore.embedder import Embedder
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import TFIDF_ID, Encoder, finetuned, model_choices
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus
from vecexplore.pipeline import embed_corpus
from vecexplore.search.collections import collection_set

MEMO_SETS = 6  # embedded sets kept in a session (corpus × model), oldest dropped first
CANCEL_FROM = 2_000  # corpora this large get a Cancel button beside the progress bar


@dataclass
class Selection:
    """What the sidebar chose: a corpus (or the error that stopped it) and a model id."""

    corpus: Corpus | None
    model_id: str | None
    error: str | None = None


def session_id() -> str:
    """An id for this browser session (its collections are its own); new on every page load."""
    return st.session_state.setdefault("_session_id", uuid.uuid4().hex)


def models() -> list[str]:
    """The models this session may pick: the built-in ones, then the shared fine-tuned ones and its own."""
    return model_choices(session_id())


def remember(name: str, key: object, value: object) -> None:
    """Keep a result of this session, with the inputs (``key``) it was computed from."""
    st.session_state[f"_result_{name}"] = (key, value)


def recall(name: str, key: object) -> object | None:
    """The result kept under ``name`` if it was computed from these inputs (else None: it would be stale)."""
    kept = st.session_state.get(f"_result_{name}")
    return kept[1] if kept is not None and kept[0] == key else None


def forget(name: str) -> None:
    """Drop a kept result (before recomputing it, so a failed run never shows the previous one)."""
    st.session_state.pop(f"_result_{name}", None)


def flash(message: str) -> None:
    """A confirmation to show on the next run (one that reruns at once would otherwise wipe it)."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message, icon="✅")


def backend() -> str:
    """The sidebar's backend for transformer models."""
    return st.session_state.get("backend", "auto")


def _cancel(memo_key: tuple) -> None:
    st.session_state["embed_cancelled"] = memo_key


def _resume() -> None:
    st.session_state.pop("embed_cancelled", None)


def embeddings(model_id: str | None = None, corpus: Corpus | None = None) -> tuple[EmbeddingSet, EmbedStats]:
    """The current corpus (or ``corpus``, e.g. a sample of it) embedded by ``model_id`` (default: the sidebar's
    model): from memory, else the disk cache, else encoded with a progress bar. Stops the page with a message
    when there is nothing to embed."""
    sel: Selection | None = st.session_state.get("selection")
    if sel is None or sel.corpus is None:
        st.warning(md(sel.error) if sel and sel.error else "Choose a corpus in the sidebar.", icon="👈")
        st.stop()
    c = corpus if corpus is not None else sel.corpus
    if c.vectors is not None:
        eset = collection_set(c)  # a vecexplore-indexed collection keeps its model's tag; other vectors: imported
        return eset, EmbedStats(eset.n, eset.n, 0, 0.0)
    if model_id is not None:
        sel = Selection(c, model_id)
    if not sel.model_id:
        st.warning("Name a model folder or hub id in the sidebar.", icon="👈")
        st.stop()
    memo_key = (sel.model_id, model_stamp(sel.model_id), backend(), c.fingerprint)
    memo = st.session_state.setdefault("_embedded", {})
    if memo_key in memo:
        return memo[memo_key]
    if st.session_state.get("embed_cancelled") == memo_key:
        st.warning(f"Embedding {len(c):,} texts with {md(sel.model_id)} was cancelled. What was encoded before the "
                   "cancel is cached: resuming starts from there.", icon="⏹️")
        st.button("Resume embedding", key="resume_embed", on_click=_resume)
        st.stop()
    with guard():
        model = current_encoder(sel)
        slot = st.empty()
        with slot.container():
            bar = st.progress(0.0, text=f"Embedding {len(c):,} texts with {md(sel.model_id)}…")
            if len(c) >= CANCEL_FROM:
                st.button("Cancel", key="cancel_embed", on_click=_cancel, args=(memo_key,))

        def progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Embedding with {md(sel.model_id)}: {done:,} / {total:,}")

        result = embed_corpus(c, model, cache=resources.cache(), progress=progress)
        slot.empty()
    memo[memo_key] = result
    while len(memo) > MEMO_SETS:
        del memo[next(iter(memo))]  # the oldest first
    return result


def model_stamp(model_id: str) -> str:
    """A model's cache-key stamp (:func:`vecexplore.encoders.finetuned.stamp`)."""
    return finetuned.stamp(model_id)


def current_encoder(sel: Selection) -> Encoder:
    """The sidebar's model, loaded once per process (``tfidf-lsa``: fitted on the current corpus)."""
    if sel.model_id != TFIDF_ID:
        return resources.encoder(sel.model_id, backend(), model_stamp(sel.model_id), ())
    if sel.corpus is None:
        raise VecexploreError("tfidf-lsa is fitted on the corpus: choose a corpus first.")
    return resources.encoder(sel.model_id, "auto", sel.corpus.fingerprint, tuple(sel.corpus.texts))


def embedder(model_id: str | None = None, on: str | None = None, corpus: Corpus | None = None,
             name: str | None = None) -> Embedder:
    """The sidebar's model (or ``model_id``) as an :class:`Embedder` on the session's backend (or ``on``) and the
    shared cache, called ``name`` in reports; its encoder is the process-wide copy (``tfidf-lsa``: fitted on
    ``corpus``, default the current one)."""
    sel: Selection = st.session_state.selection
    tag = getattr(getattr(sel.corpus, "origin", None), "tag", None)
    if model_id is None and tag is not None:
        model_id = tag.model_id  # a collection vecexplore indexed: its queries come from its own model
    elif model_id is None and sel.corpus is not None and sel.corpus.vectors is not None:
        raise VecexploreError("These vectors were imported without their model, so new text cannot be embedded "
                              "among them. Pick a corpus and a model in the sidebar to search by text.")
    chosen = Selection(corpus if corpus is not None else sel.corpus, model_id or sel.model_id)
    if on is None or chosen.model_id == TFIDF_ID:
        return Embedder(chosen.model_id, backend(), resources.cache(), loader=lambda: current_encoder(chosen),
                        name=name)
    return Embedder(chosen.model_id, on, resources.cache(), name=name, loader=lambda: resources.encoder(
        chosen.model_id, on, model_stamp(chosen.model_id), ()))


def embed_texts(texts: list[str]) -> np.ndarray:
    """Texts that are not in the corpus (e.g. scored pairs), embedded by the current model and cache."""
    return embedder().vectors(texts)


def embed_query(texts: list[str]) -> np.ndarray:
    """Queries (or a typed text) embedded by the current model; one the model cannot see is refused."""
    return embedder().queries(texts).vectors


def queries(texts: list[str], model_id: str | None = None) -> EmbeddingSet:
    """Queries embedded by the current model (or ``model_id``), tagged with it (what the search store checks)."""
    return embedder(model_id).queries(texts)
