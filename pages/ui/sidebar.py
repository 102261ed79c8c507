"""The shared sidebar: 1 · corpus (demo, pasted, uploaded, TF-Projector import, your own vectors, a Qdrant
collection opened on the Search page), 2 · model and backend, 3 · search store."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import streamlit as st

from pages.ui import collection_view, links
from pages.ui.links import Param
from pages.ui.session import Selection, forget, models, recall, remember, session_id
from pages.ui.text import md
from pages.ui.widgets import column_widgets
from vecexplore.config import home
from vecexplore.encoders import BACKENDS, runs_on_backends, typed_model
from vecexplore.errors import VecexploreError
from vecexplore.files import corpus as corpora
from vecexplore.files import vectors
from vecexplore.files.corpus import Corpus
from vecexplore.search.opening import QDRANT_URL_ENV

SOURCES = ("Demo corpus", "Paste text", "Upload file", "Import TF-Projector TSV", "Open your vectors",
           collection_view.SOURCE)
OTHER_MODEL = "Other sentence-transformers model…"
DEFAULT_PASTE = "The cat sat on the mat.\nA dog slept on the rug.\nStocks fell sharply on Monday.\n"
MAX_TEXTS = 1_000_000
LINK_PARAMS = (Param("source", options=SOURCES), Param("demo", options=list(corpora.DEMOS)),
               Param("model", options=lambda: [*models(), OTHER_MODEL]), Param("model_other"),
               Param("backend", options=list(BACKENDS)), Param("max_texts", int, lo=10, hi=MAX_TEXTS),
               Param("dedupe", bool), Param("file", optional=True))
METRIC_HELP = ("How your vectors are meant to be compared: recorded with them (the Isotropy page says whether they "
               "are unit length). Maps, clusters and neighbours compare them by cosine.")
T = TypeVar("T")


@st.cache_data(show_spinner=False, max_entries=8)
def _read_table(name: str, data: bytes):
    return corpora.read_table(name, data)


def _demo_widgets() -> Corpus:
    key = st.selectbox("Demo corpus", list(corpora.DEMOS), key="demo",
                       format_func=lambda k: f"{k} — {corpora.DEMOS[k][1]}")
    return corpora.load_demo(key)


def _paste_widgets() -> Corpus:
    text = st.text_area("One text per line", DEFAULT_PASTE, height=160, key="paste")
    if links.opened("source") == SOURCES[1] and text == DEFAULT_PASTE:
        st.info("This link was made with pasted text, which links do not carry: paste it again.", icon="🔗")
    return corpora.from_lines(text)


def _upload_widgets() -> Corpus | None:
    up = st.file_uploader("Corpus file", type=[s[1:] for s in corpora.TABLE_SUFFIXES], key="upload",
                          help=".txt: one text per line. .csv/.tsv/.jsonl/.parquet: choose the columns below.")
    if up is None:
        linked = links.opened("file")
        if linked:
            st.info(f"This link was made with the file {md(linked)}: upload it again and the rest of the view is "
                    "restored.", icon="🔗")
        else:
            st.info("Upload a file to use it as the corpus.")
        return None
    st.session_state["file"] = up.name
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


def _kept(name: str, key: tuple, make: Callable[[], T]) -> T:
    """``make()``, kept in this session for ``key``: an upload is read once, not on every rerun (only the latest
    is kept, so a large file is held once)."""
    value = recall(name, key)
    if value is None:
        forget(name)
        value = make()
        remember(name, key, value)
    return value


def _vectors_widgets() -> Corpus | None:
    up = st.file_uploader("Vectors", type=[s[1:] for s in vectors.SUFFIXES], key="vec_upload",
                          help=".parquet/.arrow/.feather: a column of vectors (lists of numbers) beside the texts. "
                               ".npy/.npz: a 2-D array, one row per text, with a metadata table below.")
    if up is None:
        st.info("Upload vectors you already have: they are shown as they are, with no model. A folder written by "
                "datasets' save_to_disk opens on the command line.")
        return None
    data = up.getvalue()
    options = _kept("vec_choices", (up.file_id,), lambda: vectors.choices(up.name, data))
    col = st.selectbox("Vector column", options, index=None, key="vec_col",
                       placeholder="Choose the vector column…") if len(options) > 1 else None
    if len(options) > 1 and col is None:
        return None
    frame, array = _kept("vec_read", (up.file_id, col), lambda: vectors.read(up.name, data, col))
    meta = None
    if Path(up.name).suffix.lower() in vectors.ARRAY_SUFFIXES:
        meta = st.file_uploader("Metadata table (optional)", type=[s[1:] for s in vectors.METADATA_SUFFIXES],
                                key="vec_metadata", help="The texts (and labels) of the vectors: one row per vector, "
                                                         "in the same order.")
        frame = None if meta is None else _read_table(meta.name, meta.getvalue())
    text_col = label_col = None
    if frame is not None and corpora.guess_text_column(frame.head(vectors.GUESS_ROWS)) is not None:
        text_col, label_col = column_widgets(frame.head(vectors.GUESS_ROWS), "vec")
    metric = st.radio("Compared by", vectors.METRICS, horizontal=True, key="vec_metric", help=METRIC_HELP)
    key = (up.file_id, col, None if meta is None else meta.file_id, text_col, label_col, metric)
    return _kept("vec_corpus", key, lambda: vectors.vectors_corpus(array, frame, up.name, text_col, label_col, metric,
                                                                   None if meta is None else meta.name))


def vector_table() -> dict | None:
    """The table opened by *Open your vectors* when it holds two or more vector columns: its ``name``, ``source``
    (the upload's bytes), ``columns`` and the chosen ``text_col``/``label_col`` (what ``models.compare.column_sets``
    takes); else None."""
    up = st.session_state.get("vec_upload") if st.session_state.get("source") == SOURCES[4] else None
    columns = None if up is None else recall("vec_choices", (up.file_id,))
    if not columns or len(columns) < 2:
        return None
    label = st.session_state.get("vec_label_col")
    return {"name": up.name, "source": up.getvalue(), "columns": list(columns),
            "text_col": st.session_state.get("vec_text_col"), "label_col": None if label == "(none)" else label}


def show() -> Selection:
    """Draw the shared sidebar and remember the choice in ``st.session_state.selection``."""
    links.restore(LINK_PARAMS, "sidebar")
    if st.session_state.get("source") != SOURCES[2]:
        st.session_state.pop("file", None)
    with st.sidebar:
        st.markdown("### 1 · Corpus")
        source = st.radio("Source", SOURCES, key="source", label_visibility="collapsed")
        readers = dict(zip(SOURCES, [_demo_widgets, _paste_widgets, _upload_widgets, _projector_widgets,
                                     _vectors_widgets, collection_view.opened], strict=True))
        error = None
        try:
            chosen = readers[source]()
        except VecexploreError as exc:
            chosen, error = None, str(exc)
            st.error(md(error), icon="⚠️")
        max_texts = st.number_input("Max texts (a seeded sample above this)", 10, MAX_TEXTS, 5_000, step=1_000,
                                    key="max_texts")
        dedupe = st.checkbox("Drop duplicate texts", value=False, key="dedupe")
        if chosen is not None:
            chosen = chosen.sample(int(max_texts))
            if dedupe:
                chosen = chosen.drop_duplicates()
        st.markdown("### 2 · Model")
        imported = chosen is not None and chosen.vectors is not None
        options = [*models(), OTHER_MODEL]  # fine-tuned models are listed after the built-in ones
        model = st.selectbox("Model", options, key="model", disabled=imported,
                             help="Imported vectors bring their own model." if imported else None)
        if model == OTHER_MODEL:
            typed = st.text_input("Folder or hub id", key="model_other",
                                  placeholder="sentence-transformers/all-mpnet-base-v2 or a folder under "
                                  f"{home() / 'models'}")
            st.caption("A hub id from this server's Hugging Face cache, or a model folder under the models folder "
                       "(or VECEXPLORE_MODEL_DIRS); nothing is downloaded.")
            try:
                model = typed_model(typed, session_id())
            except VecexploreError as exc:  # a folder elsewhere on the server, another session's private model…
                error = str(exc)
                st.error(md(error), icon="⚠️")
                model = ""
        if model and runs_on_backends(model):
            st.selectbox("Backend", list(BACKENDS), key="backend", disabled=imported, help="\n\n".join(
                f"**{name}**: {text}." for name, text in BACKENDS.items()))
        if chosen is not None:
            st.caption(f"**{len(chosen):,}** texts · {md(chosen.name)}")
        with st.expander("3 · Search store"):
            st.text_input("Qdrant server URL (empty: Qdrant Edge, embedded)", key="qdrant_url",
                          value=os.environ.get(QDRANT_URL_ENV, ""), placeholder="http://localhost:6333")
        st.caption(f"Data folder: {md(home())}")
    selection = Selection(chosen, None if imported else (model or None), error)
    st.session_state.selection = selection
    return selection
