"""Widgets every page shares: the error guard, the teaching texts, the data-flow strip, a table's column picker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from pages.ui.text import md
from vecexplore.cache import EmbedStats
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.files import corpus as corpora

TEACHING = Path(__file__).parents[1] / "teaching"


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


def flow_strip(source: str, eset: EmbeddingSet, stats: EmbedStats | None, analysis: str) -> None:
    """One line of the data flow: corpus → model and version → cached vectors → analysis (``stats`` None:
    imported vectors)."""
    cached = "imported" if stats is None else f"{stats.cache_hits:,} from cache, {stats.encoded:,} encoded"
    st.caption(f"📄 **{md(source)}** ({eset.n:,} texts) → 🧠 **{md(eset.model_id)}** `{eset.model_version}` "
               f"→ 💾 {eset.dims}-d vectors ({cached}) → 🔬 {md(analysis)}")


def data_flow(eset: EmbeddingSet, stats: EmbedStats, analysis: str, notes: bool = True) -> None:
    """The one data flow, as a strip above each page's figure, with what the model could not see (and, with
    ``notes``, what was cleaned on the way in)."""
    c = st.session_state.selection.corpus
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
