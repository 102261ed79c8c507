"""Domain shift: how far a corpus sits from a reference in each model's space, with pictures and tests."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import links, session, settings, widgets
from pages.ui.figures import HOVER, hover
from pages.ui.links import Param
from pages.ui.text import md, plain
from vecexplore.domains.report import DomainShiftReport, furthest, shared_map, shift_report
from vecexplore.encoders import GLOVE_ID, MINILM_ID
from vecexplore.errors import VecexploreError
from vecexplore.files import corpus as corpora
from vecexplore.files.corpus import Corpus
from vecexplore.maps.html import standalone_html

SOURCES = ("shipped domain demo", "split the current corpus by label", "current corpus vs an upload")


@st.cache_data(show_spinner="Loading the domain demo…")
def domains() -> pd.DataFrame:
    from importlib import resources

    return corpora.read_table("demo_domains.csv",
                              resources.files("vecexplore.data").joinpath("demo_domains.csv").read_bytes())


@st.cache_resource(show_spinner="Running the tests…", max_entries=8)
def shift_of(texts_a: tuple[str, ...], texts_b: tuple[str, ...], labels_b: tuple[str, ...] | None,
             models: tuple[str, ...], stamps: tuple[str, ...], backend: str, permutations: int,
             seed: int) -> DomainShiftReport:
    """The report for two corpora and these settings, kept per process (the same inputs give the same report;
    ``stamps``: the models' ``session.model_stamp``)."""
    union = Corpus([*texts_a, *texts_b])
    embedders = [session.embedder(m, corpus=union) for m in models]
    return shift_report(texts_a, texts_b, embedders, permutations, seed, labels_b)


st.title("🌍 Domain shift")
links.page([Param("shift_source", options=SOURCES), Param("shift_a"), Param("shift_b"), Param("split_a"),
            Param("split_b"), Param("shift_models", list, options=session.models),
            Param.limited("shift_perm", int, "permutations"),
            Param.limited("shift_seed", int, "seed"), Param("shift_map_model")], "shift")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("shift"))

source = st.radio("Corpora", SOURCES, horizontal=True, key="shift_source")
with widgets.guard():
    if source == SOURCES[0]:
        frame = domains()
        names = sorted(frame["domain"].unique())
        c1, c2 = st.columns(2)
        ref = c1.selectbox("Reference A", names, index=names.index("general"), key="shift_a")
        target = c2.selectbox("Domain B", [n for n in names if n != ref], key="shift_b")
        A_texts = frame.loc[frame["domain"] == ref, "text"].tolist()
        B_texts = frame.loc[frame["domain"] == target, "text"].tolist()
        B_labels = frame.loc[frame["domain"] == target, "label"].tolist()
        name_a, name_b = ref, target
    else:
        sel = st.session_state.get("selection")
        if sel is None or sel.corpus is None:
            raise VecexploreError("Choose a corpus in the sidebar first.")
        c = sel.corpus
        if source == SOURCES[1]:
            if c.labels is None:
                raise VecexploreError("The current corpus has no label column to split by; pick a labelled corpus.")
            values = sorted(set(c.labels))
            if len(values) < 2:
                raise VecexploreError(f"The label column has a single value ({values[0]!r}): nothing to split.")
            c1, c2 = st.columns(2)
            name_a = c1.selectbox("A: texts labelled", values, key="split_a")
            name_b = c2.selectbox("B: texts labelled", [v for v in values if v != name_a], key="split_b")
            A_texts = [t for t, lab in zip(c.texts, c.labels, strict=True) if lab == name_a]
            B_texts = [t for t, lab in zip(c.texts, c.labels, strict=True) if lab == name_b]
            B_labels = None
        else:
            up = st.file_uploader("Corpus B", type=[s[1:] for s in corpora.TABLE_SUFFIXES], key="shift_upload")
            if up is None:
                st.info("Upload corpus B to compare it with the sidebar's corpus.", icon="📤")
                st.stop()
            table = corpora.read_table(up.name, up.getvalue())
            text_col, _ = widgets.column_widgets(table, "shift", labels=False)
            if text_col is None:
                st.stop()
            other = corpora.from_table(table, text_col, name=up.name)
            for note in other.notes:
                st.info(md(note), icon="ℹ️")
            A_texts, B_texts, B_labels, name_a, name_b = c.texts, other.texts, None, c.name, up.name

m1, m2, m3 = st.columns([3, 1, 1])
choices = session.models()
default = [m for m in dict.fromkeys([MINILM_ID, GLOVE_ID]) if m in choices]
models = m1.multiselect("Models", choices, default=default, key="shift_models")
permutations = settings.number("permutations", "shift_perm", "Permutations", m2)
seed = settings.number("seed", "shift_seed", "Seed", m3)
if not models:
    st.info("Choose at least one model.", icon="☝️")
    st.stop()
st.caption(f"A = **{md(name_a)}** ({len(A_texts):,} texts) · B = **{md(name_b)}** ({len(B_texts):,} texts)")

with widgets.guard():
    report = shift_of(tuple(A_texts), tuple(B_texts), None if B_labels is None else tuple(B_labels), tuple(models),
                      tuple(map(session.model_stamp, models)), session.backend(), int(permutations), int(seed))
for view in report.models.values():
    widgets.flow_strip(f"A = {name_a}", view.a, view.stats_a, "domain shift")
    widgets.flow_strip(f"B = {name_b}", view.b, view.stats_b, "domain shift")
for note in report.notes:
    st.warning(md(note), icon="⚖️")

st.markdown(" ".join(f"**{md(model_id)}**: {md(sentence)}" for model_id, sentence in report.reading()))
table = pd.DataFrame([{"model": m, **{k: v for k, v in view.to_dict().items() if k not in ("notes", "verdict")}}
                      for m, view in report.models.items()])
st.dataframe(table.round(4), hide_index=True, width="stretch")

st.header("The two corpora on one map")
shown = st.selectbox("Model for the map", models, key="shift_map_model")
view = report.models[shown]
xy = shared_map(view.a, view.b)
fig = go.Figure()
for part, name, colour in ((slice(0, view.a.n), name_a, "#636EFA"), (slice(view.a.n, None), name_b, "#EF553B")):
    texts = [hover(t) for t in (A_texts + B_texts)[part]]
    fig.add_trace(go.Histogram2dContour(x=xy[part, 0], y=xy[part, 1], showscale=False, ncontours=6,
                                        contours=dict(coloring="none"), line=dict(color=colour, width=1),
                                        name=plain(f"{name} density"), hoverinfo="skip"))
    fig.add_trace(go.Scattergl(x=xy[part, 0], y=xy[part, 1], mode="markers", name=plain(name), hovertext=texts,
                               hovertemplate=HOVER,
                               marker=dict(size=7, color=colour, opacity=0.75)))
fig.update_layout(height=520, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h"))
fig.update_yaxes(scaleanchor="x", showticklabels=False)
fig.update_xaxes(showticklabels=False)
st.plotly_chart(fig, width="stretch", key="shift_map")
st.caption("PCA fitted on the union of both corpora, so the two share one projection.")

st.header(f"Texts of {md(name_b)} furthest from {md(name_a)}")
st.dataframe(pd.DataFrame(furthest(view.a, view.b)).round({"cosine to nearest A": 4}), hide_index=True,
             width="stretch")
if report.probes:
    best = report.best_probe
    st.subheader(f"Which model keeps {md(name_b)}'s own labels apart?")
    st.markdown(f"**{md(best)}** keeps {md(name_b)}'s internal label structure best (probe accuracy "
                f"{report.probes[best]:.2f}).")
    st.dataframe(pd.DataFrame([{"model": m, "probe accuracy on B's labels": round(v, 3)}
                               for m, v in report.probes.items()]), hide_index=True, width="stretch")

st.download_button("Download the map (HTML)", lambda: standalone_html(
    fig, f"{name_a} and {name_b} on one map · {shown}", notes=["PCA fitted on the union of both corpora."]),
    "shift-map.html", "text/html", on_click="ignore", key="shift_html")
