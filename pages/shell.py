"""Widgets shared by every page: the sidebar (corpus + model), embedding with a progress bar, the data-flow strip.

All logic lives in ``vecexplore``; this module only turns widgets into core calls and core results into widgets.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from plotly.colors import qualitative

from pages.ui.text import md
from vecexplore import corpus as corpora
from vecexplore.cache import EmbeddingCache, EmbedStats, embed
from vecexplore.config import home
from vecexplore.corpus import Corpus
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import BACKENDS, BUILTIN_MODELS, GLOVE_ID, M2V_ID, TFIDF_ID, Encoder, load_encoder
from vecexplore.errors import VecexploreError
from vecexplore.pipeline import embed_corpus, embed_queries, imported_set
from vecexplore.search import Store
from vecexplore.store import QDRANT_URL_ENV, open_client

TEACHING = Path(__file__).parent / "teaching"
PALETTE = qualitative.Plotly + qualitative.D3 + qualitative.Set2
SOURCES = ("Demo corpus", "Paste text", "Upload file", "Import TF-Projector TSV")
OTHER_MODEL = "Other sentence-transformers model…"
STATIC_MODELS = {GLOVE_ID, TFIDF_ID, M2V_ID}  # no backend choice: they look vectors up
MEMO_SETS = 6  # embedded sets kept in a session (corpus × model), oldest dropped first
CANCEL_FROM = 2_000  # corpora this large get a Cancel button beside the progress bar
DEFAULT_PASTE = "The cat sat on the mat.\nA dog slept on the rug.\nStocks fell sharply on Monday.\n"


@dataclass
class Selection:
    """What the sidebar chose: a corpus (or the error that stopped it) and a model id."""

    corpus: Corpus | None
    model_id: str | None
    error: str | None = None


def palette(i: int) -> str:
    """The colour of the i-th group, the same on every page."""
    return PALETTE[i % len(PALETTE)]


def teaching(name: str) -> str:
    return (TEACHING / f"{name}.md").read_text(encoding="utf-8")


@contextmanager
def guard(stop: bool = True) -> Iterator[None]:
    """Show a ``VecexploreError`` as ``st.error`` instead of a traceback; then stop the page, or (``stop=False``)
    skip the rest of the ``with`` block and go on with the next section."""
    try:
        yield
    except VecexploreError as exc:
        st.error(md(exc), icon="⚠️")
        if stop:
            st.stop()


def session_id() -> str:
    """An id for this browser session (its collections are its own); new on every page load."""
    return st.session_state.setdefault("_session_id", uuid.uuid4().hex)


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


@st.cache_resource(show_spinner=False)
def cache() -> EmbeddingCache:
    return EmbeddingCache()


@st.cache_resource(show_spinner="Opening the Qdrant store…")
def _store(url: str) -> Store:
    """One client per process and URL: Qdrant's embedded mode locks its folder to a single client."""
    return Store(open_client(url=url or None))


def store() -> Store:
    """The search store chosen in the sidebar (embedded by default)."""
    return _store(st.session_state.get("qdrant_url", "").strip())


@st.cache_resource(show_spinner="Loading the model (the first time: exporting it to ONNX, about 15 s)…",
                   max_entries=4)
def encoder(model_id: str, backend: str, corpus_key: str, _texts: tuple[str, ...]) -> Encoder:
    """One loaded model per process and backend (``tfidf-lsa``: one per corpus it was fitted on)."""
    return load_encoder(model_id, _texts, backend=backend)


def backend() -> str:
    """The sidebar's backend for transformer models."""
    return st.session_state.get("backend", "auto")


@st.cache_data(show_spinner=False, max_entries=8)
def _read_table(name: str, data: bytes):
    return corpora.read_table(name, data)


def _demo_widgets() -> Corpus:
    key = st.selectbox("Demo corpus", list(corpora.DEMOS), key="demo",
                       format_func=lambda k: f"{k} — {corpora.DEMOS[k][1]}")
    return corpora.load_demo(key)


def _paste_widgets() -> Corpus:
    text = st.text_area("One text per line", DEFAULT_PASTE, height=160, key="paste")
    return corpora.from_lines(text)


def column_widgets(frame, prefix: str, labels: bool = True) -> tuple[str | None, str | None]:
    """The text column (guessed; chosen by hand when no column holds words) and, with ``labels``, the label
    column of an uploaded table."""
    columns = [str(c) for c in frame.columns]
    guess = corpora.guess_text_column(frame)
    if guess is None:
        st.warning("No column holds words (each holds numbers, dates or codes): choose the column to embed.",
                   icon="🔤")
    text_col = st.selectbox("Text column", columns, index=None if guess is None else columns.index(str(guess)),
                            key=f"{prefix}_text_col", placeholder="Choose the text column…")
    if not labels:
        return text_col, None
    label_options = ["(none)", *[c for c in columns if c != text_col]]
    default = next((i for i, c in enumerate(label_options) if c.lower() in {"label", "labels", "category"}), 0)
    label_col = st.selectbox("Label column (optional)", label_options, index=default, key=f"{prefix}_label_col")
    return text_col, None if label_col == "(none)" else label_col


def _upload_widgets() -> Corpus | None:
    up = st.file_uploader("Corpus file", type=[s[1:] for s in corpora.TABLE_SUFFIXES], key="upload",
                          help=".txt: one text per line. .csv/.tsv/.jsonl/.parquet: choose the columns below.")
    if up is None:
        st.info("Upload a file to use it as the corpus.")
        return None
    frame = _read_table(up.name, up.getvalue())
    if frame.empty or not len(frame.columns):
        raise VecexploreError(f"{up.name} has no rows: add at least one text.")
    text_col, label_col = column_widgets(frame, "upload")
    if text_col is None:
        return None
    return corpora.from_table(frame, text_col, label_col, name=up.name)


def _projector_widgets() -> Corpus | None:
    vec = st.file_uploader("vectors.tsv", type=["tsv", "txt"], key="tf_vectors")
    meta = st.file_uploader("metadata.tsv (optional)", type=["tsv", "txt"], key="tf_metadata")
    if vec is None:
        st.info("Upload vectors.tsv (and metadata.tsv) as exported by projector.tensorflow.org.")
        return None
    text_col = label_col = None
    if meta is not None:
        text_col, label_col = column_widgets(corpora.read_tf_metadata(meta.getvalue()), "tf")
    return corpora.read_tf_projector(vec.getvalue(), None if meta is None else meta.getvalue(), text_col,
                                     label_col, name=vec.name)


def sidebar() -> Selection:
    """Draw the shared sidebar and remember the choice in ``st.session_state.selection``."""
    with st.sidebar:
        st.markdown("### 1 · Corpus")
        source = st.radio("Source", SOURCES, key="source", label_visibility="collapsed")
        readers = dict(zip(SOURCES, [_demo_widgets, _paste_widgets, _upload_widgets, _projector_widgets],
                           strict=True))
        error = None
        try:
            chosen = readers[source]()
        except VecexploreError as exc:
            chosen, error = None, str(exc)
            st.error(md(error), icon="⚠️")
        max_texts = st.number_input("Max texts (a seeded sample above this)", 10, 200_000, 5_000, step=1_000,
                                    key="max_texts")
        dedupe = st.checkbox("Drop duplicate texts", value=False, key="dedupe")
        if chosen is not None:
            chosen = chosen.sample(int(max_texts))
            if dedupe:
                chosen = chosen.drop_duplicates()
        st.markdown("### 2 · Model")
        imported = chosen is not None and chosen.vectors is not None
        options = [*BUILTIN_MODELS, OTHER_MODEL]
        model = st.selectbox("Model", options, key="model", disabled=imported,
                             help="Imported vectors bring their own model." if imported else None)
        if model == OTHER_MODEL:
            model = st.text_input("Folder or hub id", key="model_other",
                                  placeholder="/path/to/model or sentence-transformers/all-mpnet-base-v2").strip()
            st.caption("Loaded from disk or the local Hugging Face cache; nothing is downloaded.")
        if model not in STATIC_MODELS:
            st.selectbox("Backend", list(BACKENDS), key="backend", disabled=imported, help="\n\n".join(
                f"**{name}**: {text}." for name, text in BACKENDS.items()))
        if chosen is not None:
            st.caption(f"**{len(chosen):,}** texts · {md(chosen.name)}")
        with st.expander("3 · Search store"):
            st.text_input("Qdrant server URL (empty: embedded on disk)", key="qdrant_url",
                          value=os.environ.get(QDRANT_URL_ENV, ""), placeholder="http://localhost:6333")
        st.caption(f"Data folder: {md(home())}")
    selection = Selection(chosen, None if imported else (model or None), error)
    st.session_state.selection = selection
    return selection


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
        eset = imported_set(c)
        return eset, EmbedStats(eset.n, eset.n, 0, 0.0)
    if model_id is not None:
        sel = Selection(c, model_id)
    if not sel.model_id:
        st.warning("Name a model folder or hub id in the sidebar.", icon="👈")
        st.stop()
    memo_key = (sel.model_id, backend(), c.fingerprint)
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

        result = embed_corpus(c, model, cache=cache(), progress=progress)
        slot.empty()
        diag = model.diagnose(c.texts)
    result[0].info.update(diag, backend=getattr(model, "backend", None), fidelity=getattr(model, "fidelity_", None),
                          backend_note=getattr(model, "backend_note", None))
    memo[memo_key] = result
    while len(memo) > MEMO_SETS:
        del memo[next(iter(memo))]  # the oldest first
    return result


def current_encoder(sel: Selection) -> Encoder:
    """The sidebar's model, loaded once per process (``tfidf-lsa``: fitted on the current corpus)."""
    if sel.model_id != TFIDF_ID:
        return encoder(sel.model_id, backend(), "", ())
    if sel.corpus is None:
        raise VecexploreError("tfidf-lsa is fitted on the corpus: choose a corpus first.")
    return encoder(sel.model_id, "auto", sel.corpus.fingerprint, tuple(sel.corpus.texts))


def _new_text_encoder() -> Encoder:
    sel: Selection = st.session_state.selection
    if sel.corpus.vectors is not None:
        raise VecexploreError("These vectors were imported without their model, so new text cannot be embedded "
                              "among them. Pick a corpus and a model in the sidebar to search by text.")
    return current_encoder(sel)


def embed_texts(texts: list[str]) -> np.ndarray:
    """Texts that are not in the corpus (e.g. scored pairs), embedded by the current model and cache."""
    return embed(texts, _new_text_encoder(), cache=cache())[0].vectors


def embed_query(texts: list[str]) -> np.ndarray:
    """Queries (or a typed text) embedded by the current model; one the model cannot see is refused."""
    return embed_queries(texts, _new_text_encoder(), cache=cache())


def flow_strip(source: str, eset: EmbeddingSet, stats: EmbedStats | None, analysis: str) -> None:
    """One line of the data flow: corpus → model and version → cached vectors → analysis (``stats`` None:
    imported vectors)."""
    cached = "imported" if stats is None else f"{stats.cache_hits:,} from cache, {stats.encoded:,} encoded"
    st.caption(f"📄 **{md(source)}** ({eset.n:,} texts) → 🧠 **{md(eset.model_id)}** `{eset.model_version}` "
               f"→ 💾 {eset.dims}-d vectors ({cached}) → 🔬 {md(analysis)}")


def data_flow(eset: EmbeddingSet, stats: EmbedStats, analysis: str, notes: bool = True) -> None:
    """The one data flow, as a strip above each page's figure, with what the model could not see (and, with
    ``notes``, what was cleaned on the way in)."""
    sel: Selection = st.session_state.selection
    c = sel.corpus
    flow_strip(c.name, eset, None if c.vectors is not None else stats, analysis)
    for note in c.notes if notes else ():
        st.info(md(note), icon="ℹ️")
    info = eset.info
    if info.get("fidelity"):
        fid = info["fidelity"]
        st.caption(f"⚡ Backend **{info['backend']}**: cosine to sentence-transformers' torch vectors ≥ "
                   f"{fid['min_cos']:.5f} (mean {fid['mean_cos']:.5f}) on {fid['n_probe_texts']} probe texts.")
    if info.get("backend_note"):
        st.info(md(info["backend_note"]), icon="⚡")
    if info.get("n_truncated"):
        st.warning(f"{info['n_truncated']:,} texts are longer than the model's {info['max_seq_length']} "
                   "word pieces; only their beginning was embedded.", icon="✂️")
    if info.get("oov_share"):
        unknown = md(", ".join(info.get("top_unknown", [])[:5]))
        share = f"{info['oov_share']:.1%}" if info["oov_share"] >= 0.001 else "Under 0.1%"
        st.info(f"{share} of tokens are not in the model's vocabulary and were skipped"
                + (f" (e.g. {unknown})." if unknown else "."), icon="🔤")
    if info.get("n_texts_without_known_words"):
        st.warning(f"{info['n_texts_without_known_words']:,} texts have no known words: their vector is zero.",
                   icon="🕳️")
