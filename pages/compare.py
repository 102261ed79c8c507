"""Compare: the same corpus in two or more models — where they agree, where they don't, and how to translate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import links, resources, session, settings, sidebar, widgets
from pages.ui.figures import HOVER, hover, palette
from pages.ui.links import Param
from pages.ui.text import md, plain
from vecexplore.cache import EmbedStats
from vecexplore.embedder import Embedder
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import GLOVE_ID, MINILM_ID
from vecexplore.files.corpus import Corpus
from vecexplore.maps.html import standalone_html
from vecexplore.models.compare import column_sets, embed_models
from vecexplore.models.report import ComparisonReport, SideBySide, comparison_report, side_by_side, translation_report

COMPARE_LIMIT = 10_000  # larger corpora are compared on a seeded sample (each model embeds only that)

@st.cache_resource(show_spinner="Comparing the spaces…", max_entries=8, hash_funcs=resources.BY_CONTENT)
def comparison(sets: dict[str, EmbeddingSet], k: int) -> ComparisonReport:
    return comparison_report(sets, k=k)


@st.cache_resource(show_spinner="Drawing the maps…", max_entries=8, hash_funcs=resources.BY_CONTENT)
def pair_view(left: EmbeddingSet, right: EmbeddingSet, k: int, method: str) -> SideBySide:
    return side_by_side(left, right, k, method)


@st.cache_resource(show_spinner="Reading the vector columns…", max_entries=2)
def column_set_cache(name: str, source: bytes, columns: tuple[str, ...], text_col: str | None, label_col: str | None,
                     max_rows: int) -> dict[str, EmbeddingSet]:
    return column_sets(name, source, columns, text_col, label_col, max_rows)


@st.cache_data(show_spinner="Measuring encode speed…", max_entries=8)
def speed(model_id: str, stamp: str, backend: str, texts: tuple[str, ...]) -> float:
    """Texts per second of ``model_id`` (``stamp``: its ``session.model_stamp``) on ``texts``."""
    return session.embedder(model_id).texts_per_second(list(texts))


def side_map(xy: np.ndarray, colour: np.ndarray | list[str], hovers: list[str], chosen: list[int],
             title: str, continuous: bool) -> go.Figure:
    fig = go.Figure()
    if continuous:
        fig.add_trace(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", name="texts", hovertext=hovers,
                                   customdata=np.arange(len(xy))[:, None], hovertemplate=HOVER,
                                   marker=dict(size=7, color=colour, colorscale="RdYlGn", cmin=0, cmax=1,
                                               colorbar=dict(title="k-NN<br>Jaccard", thickness=12))))
    else:
        groups = np.asarray(colour, dtype=object)
        for n, name in enumerate(sorted(set(groups))):
            idx = np.flatnonzero(groups == name)
            fig.add_trace(go.Scattergl(x=xy[idx, 0], y=xy[idx, 1], mode="markers", name=plain(name),
                                       customdata=idx[:, None], hovertext=[hovers[i] for i in idx],
                                       hovertemplate=HOVER,
                                       marker=dict(size=7, color=palette(n), opacity=0.8)))
    if chosen:
        fig.add_trace(go.Scattergl(x=xy[chosen, 0], y=xy[chosen, 1], mode="markers", name="selected",
                                   hoverinfo="skip", marker=dict(size=14, color="rgba(0,0,0,0)",
                                                                 line=dict(color="#111", width=2))))
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=40, b=10), title=plain(title), dragmode="lasso",
                      legend=dict(orientation="h"))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, scaleanchor="x")
    return fig


st.title("⚖️ Compare models")
links.page([Param("compare_models", list, options=session.models), Param.limited("compare_k", int, "compare_k"),
            Param("compare_method", options=["pca", "umap"]), Param("left_model"), Param("right_model"),
            Param("compare_colour"), Param("translate_method", options=["lstsq", "ridge", "procrustes"])],
           "compare")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("compare"))

sel = st.session_state.get("selection")
if sel is None or sel.corpus is None:
    st.warning(md(sel.error) if sel and sel.error else "Choose a corpus in the sidebar.", icon="👈")
    st.stop()
table = sidebar.vector_table() if sel.corpus.vectors is not None else None
if sel.corpus.vectors is not None and table is None:
    st.warning("Imported vectors come from one unknown model: pick a text corpus to compare models, or open a table "
               "with two or more vector columns (e.g. minilm and mpnet) to compare them.", icon="👈")
    st.stop()
c1, c2, c3 = st.columns([3, 1, 1])
if table is None:
    choices = session.models()
    defaults = [m for m in dict.fromkeys([sel.model_id or MINILM_ID, GLOVE_ID, MINILM_ID]) if m in choices][:2]
    models = c1.multiselect("Models (two or more)", choices, default=defaults, key="compare_models")
else:
    models = c1.multiselect("Vector columns (two or more)", table["columns"], default=table["columns"][:2],
                            key="compare_columns", help=f"The same rows of {md(table['name'])}, one space per column.")
k = settings.slider("compare_k", "compare_k", "Neighbours k", c2)
method = c3.radio("Maps", ["pca", "umap"], format_func=str.upper, horizontal=True, key="compare_method")
if len(models) < 2:
    st.info(f"Choose at least two {'models' if table is None else 'vector columns'} to compare.", icon="☝️")
    st.stop()

corpus = sel.corpus
if len(corpus) > COMPARE_LIMIT:
    corpus = corpus.sample(COMPARE_LIMIT)
    st.info(f"Comparing a seeded sample of {COMPARE_LIMIT:,} of the {len(sel.corpus):,} texts: every statistic "
            "below is measured on it (each model embeds only these).", icon="🎲")


def embed_one(embedder: Embedder, texts: Corpus) -> tuple[EmbeddingSet, EmbedStats]:
    eset, stats = session.embeddings(embedder.model_id, texts)
    widgets.data_flow(eset, stats, "comparison of the spaces", notes=embedder.model_id == models[0])
    return eset, stats


with widgets.guard():
    if table is None:
        sets, _, dropped = embed_models(corpus, [session.embedder(m, corpus=corpus) for m in models],
                                        throughput_sample=0, embed=embed_one)
    else:
        sets, dropped = column_set_cache(table["name"], table["source"], tuple(models), table["text_col"],
                                         table["label_col"], min(len(sel.corpus), COMPARE_LIMIT)), []
    report = comparison(sets, k)
sets, pairs, quality, n = report.sets, report.pairs, report.quality, report.n
for note in [*dropped, *report.notes]:
    st.warning(md(note), icon="🕳️")
if n > 2000:
    st.info(f"RSA uses a seeded sample of 2,000 of the {n:,} texts (a full similarity matrix would not fit).",
            icon="🎲")

st.subheader("Models")
sample = tuple(corpus.texts[:200])
rows = [{"model": m, "dims": e.dims, "bytes/vector": 4 * e.dims,
         **({} if table is not None else
            {"texts/s (measured)": round(speed(m, session.model_stamp(m), session.backend(), sample))}),
         **{key: round(v, 3) for key, v in quality.get(m, {}).items()}} for m, e in sets.items()]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
if not quality:
    st.caption("Add a label column to the corpus to see probe accuracy and silhouette per model.")
st.subheader("Pairs")
st.dataframe(pd.DataFrame(pairs).round(3), hide_index=True, width="stretch")

st.header("Side by side")
p1, p2, p3 = st.columns(3)
left = p1.selectbox("Left map", list(sets), key="left_model")
right = p2.selectbox("Right map", [m for m in sets if m != left], key="right_model")
colour_by = p3.radio("Colour by", ["k-NN Jaccard", "label"] if sets[left].labels is not None else ["k-NN Jaccard"],
                     horizontal=True, key="compare_colour")
view = pair_view(sets[left], sets[right], k, method)
jaccard, xy_left, xy_right = view.jaccard, view.left_map, view.right_map
texts = sets[left].texts
hovers = [hover(t) for t in texts]
picked = [int(p["customdata"][0] if isinstance(p["customdata"], list) else p["customdata"])
          for p in (st.session_state.get("left_map") or {}).get("selection", {}).get("points", [])
          if p.get("customdata") is not None]
colour = jaccard if colour_by == "k-NN Jaccard" else sets[left].labels
m1, m2 = st.columns(2)
left_fig = side_map(xy_left, colour, hovers, picked, left, colour_by == "k-NN Jaccard")
m1.plotly_chart(left_fig, key="left_map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                width="stretch")
m2.plotly_chart(side_map(xy_right, colour, hovers, picked, f"{right} (aligned to the left by Procrustes)",
                         colour_by == "k-NN Jaccard"), key="right_map", width="stretch")
st.caption(f"Select points on the left map: they are ringed on both. Mean k-NN Jaccard {view.mean_jaccard:.3f} "
           f"(1 = the same {k} neighbours in both models).")
dist = go.Figure(go.Histogram(x=jaccard, nbinsx=20, marker_color="#636EFA"))
dist.update_layout(height=250, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="k-NN Jaccard", yaxis_title="texts",
                   title=plain(f"Distribution of per-text neighbour overlap, {left} vs {right}"), xaxis_range=[0, 1])
st.plotly_chart(dist, width="stretch", key="jaccard_hist")

st.subheader("Where the models disagree most")
st.dataframe(pd.DataFrame(view.disagreements).round({"jaccard": 3}), hide_index=True, width="stretch")

st.header("Translate between spaces")
t1, t2 = st.columns([1, 3])
tmethod = t1.radio("Linear map", ["lstsq", "ridge", "procrustes"], key="translate_method")
with widgets.guard(stop=False):
    report = translation_report(sets[left], sets[right], tmethod)
    with t2:
        a, b, c = st.columns(3)
        a.metric("Mean cosine (held out)", f"{report.mean_cosine:.3f}")
        b.metric("Top-1 retrieval", f"{report.top1:.1%}")
        c.metric("Top-10 retrieval", f"{report.top10:.1%}")
        st.caption(f"{md(left)} → {md(right)}: fitted on {report.n_train} texts, tested on {report.n_test} held-out "
                   "texts. Top-k: how often a translated vector finds its own text among the true ones.")

st.download_button("Download the left map (HTML)", lambda: standalone_html(
    left_fig, f"{left} map of {len(texts):,} texts", texts,
    [f"Mean k-NN Jaccard with {right}: {view.mean_jaccard:.3f}."]), "compare-map.html", "text/html",
    on_click="ignore", key="compare_html")
