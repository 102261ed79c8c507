"""Isotropy: see the cone, open it with a transform, and check whether that helps a real task."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from pages.ui import links, resources, session, settings, widgets
from pages.ui.figures import hover, palette
from pages.ui.links import Param
from pages.ui.text import md, plain
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.maps.projection import Projector
from vecexplore.transforms import isotropy as iso
from vecexplore.transforms.report import IsotropyReport, isotropy_report, sts_effect
from vecexplore.transforms.sts import shipped_pairs, sts_pairs

LABELS = {"none": "none", "center": "centering", "abtt": "all-but-the-top", "whiten": "whitening (BERT)",
          "zca": "ZCA whitening"}
ROWS = [("mean_cosine", "Mean cosine of random pairs"), ("mean_cosine_all_pairs", "Mean cosine, all pairs"),
        ("isoscore", "IsoScore"), ("partition_isotropy", "Partition isotropy I(W)"),
        ("effective_rank", "Effective rank"), ("top_pc_share", "Variance in the top PC"),
        ("top_rogue_share", "Share of the 3 top rogue dims"), ("norm_mean", "Mean vector norm"), ("dims", "Dims")]
BEFORE, AFTER = "#636EFA", "#EF553B"


@st.cache_resource(show_spinner="Measuring…", max_entries=8, hash_funcs=resources.BY_CONTENT)
def isotropy_of(eset: EmbeddingSet, transform: str, k: int, d: int) -> IsotropyReport:
    """The report of a set and transform, kept per process."""
    return isotropy_report(eset, transform, k=k, d=d)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=resources.BY_CONTENT)
def pca_map(eset: EmbeddingSet) -> np.ndarray:
    return Projector("pca").fit_transform(eset.vectors)


def metric_table(before: dict, after: dict | None) -> pd.DataFrame:
    rows = []
    for key, name in ROWS:
        row = {"metric": name, "before": before[key]}
        if after is not None:
            row["after"] = after[key]
        rows.append(row)
    frame = pd.DataFrame(rows)
    ci = before["mean_cosine_ci"]
    frame.loc[0, "metric"] += f" (95% CI before: {ci[0]:.3f}…{ci[1]:.3f})"
    return frame


st.title("📐 Isotropy")
links.page([Param("transform", options=iso.TRANSFORMS), Param.limited("whiten_k", int, "whiten_k"),
            Param.limited("abtt_d", int, "abtt_d")], "isotropy")
with st.expander("What am I looking at? (the cone, and why it hurts)"):
    st.markdown(widgets.teaching("isotropy"))

eset, stats = session.embeddings()
c1, c2, c3 = st.columns([2, 1, 1])
name = c1.radio("Transform (fitted on this corpus)", iso.TRANSFORMS, horizontal=True, key="transform",
                format_func=LABELS.get)
k = settings.slider("whiten_k", "whiten_k", "Whitening: dims kept k", c2, hi=eset.dims, disabled=name != "whiten")
d = settings.slider("abtt_d", "abtt_d", "All-but-the-top: D removed", c3, hi=eset.dims - 1, disabled=name != "abtt")
widgets.data_flow(eset, stats, f"isotropy · {LABELS[name]}")
if "normalised" in eset.info:  # a user's own vectors (vecexplore/files/vectors.py)
    st.info(f"Your vectors are {'' if eset.info['normalised'] else 'not '}unit length (kept as given; you compare "
            f"them by {eset.info['metric']}).", icon="📏")

with widgets.guard():
    report = isotropy_of(eset, name, k, d)
transform, before, after = report.transform, report.before, report.after
for note in transform.notes_:
    st.warning(md(note), icon="🧮")

m1, m2, m3, m4 = st.columns(4)
show = after or before
m1.metric("Mean cosine", f"{show['mean_cosine']:.3f}",
          None if after is None else f"{after['mean_cosine'] - before['mean_cosine']:+.3f}", delta_color="inverse")
m2.metric("IsoScore", f"{show['isoscore']:.3f}",
          None if after is None else f"{after['isoscore'] - before['isoscore']:+.3f}")
m3.metric("Effective rank", f"{show['effective_rank']:.1f}",
          None if after is None else f"{after['effective_rank'] - before['effective_rank']:+.1f}")
if report.label_agreement is not None:
    kk, base, agree = report.label_agreement
    m4.metric(f"{kk}-NN label agreement", f"{agree:.1%}", None if after is None else f"{agree - base:+.1%}",
              help="Share of each text's nearest neighbours (cosine) that carry its label.")
st.dataframe(metric_table(before, after), hide_index=True, width="stretch")

cos_before, cos_after = report.cosines
hist = go.Figure(go.Histogram(x=cos_before, name="before", marker_color=BEFORE, opacity=0.6, nbinsx=60))
if cos_after is not None:
    hist.add_trace(go.Histogram(x=cos_after, name=f"after {LABELS[name]}", marker_color=AFTER, opacity=0.6,
                                nbinsx=60))
hist.update_layout(barmode="overlay", height=330, margin=dict(l=10, r=10, t=40, b=10),
                   title="Cosine of 20,000 random pairs", xaxis_title="cosine", xaxis_range=[-1, 1])
spec_before, spec_after = report.spectra
spec_fig = go.Figure(go.Scatter(y=spec_before, mode="lines+markers", name="before", marker_color=BEFORE))
if spec_after is not None:
    spec_fig.add_trace(go.Scatter(y=spec_after, mode="lines+markers", name="after", marker_color=AFTER))
spec_fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10), yaxis_type="log",
                       title="Explained variance per principal component", xaxis_title="component")
left, right = st.columns(2)
left.plotly_chart(hist, width="stretch", key="hist")
right.plotly_chart(spec_fig, width="stretch", key="spectrum")

top, rogue_before, rogue_after = report.rogue
rogue_fig = go.Figure(go.Bar(x=[f"dim {i}" for i in top], y=rogue_before, marker_color=BEFORE, name="before"))
if rogue_after is not None:
    rogue_fig.add_trace(go.Bar(x=[f"dim {i}" for i in top], y=rogue_after, marker_color=AFTER, name="after"))
all_pairs = before["mean_cosine_all_pairs"]
rogue_fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10), barmode="group",
                        title=f"Rogue dimensions: contribution to the mean cosine ({all_pairs:.3f} in all)")
st.plotly_chart(rogue_fig, width="stretch", key="rogue")

if after is not None:
    maps = make_subplots(1, 2, subplot_titles=("before (PCA)", f"after {LABELS[name]} (PCA)"))
    groups = np.array(eset.labels if eset.labels is not None else ["all"] * eset.n, dtype=object)
    hovers = np.array([hover(t) for t in eset.texts], dtype=object)
    for n, (xy, col) in enumerate(((pca_map(eset), 1), (pca_map(report.transformed), 2))):
        for g, label in enumerate(sorted(set(groups))):
            idx = groups == label
            maps.add_trace(go.Scattergl(x=xy[idx, 0], y=xy[idx, 1], mode="markers", name=plain(label),
                                        legendgroup=str(g), showlegend=n == 0, hovertext=hovers[idx],
                                        hovertemplate="%{hovertext}<extra>%{fullData.name}</extra>",
                                        marker=dict(size=5, color=palette(g))), 1, col)
    maps.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(maps, width="stretch", key="maps")
    buf = io.BytesIO()
    transform.save(buf)
    st.download_button(f"Download the fitted transform ({transform.spec})", buf.getvalue(),
                       f"{transform.name}.npz", help="Reuse it on other vectors of the same model "
                       "(vecexplore.transforms.isotropy.load_transform).")

st.header("Does it help a task?")
st.caption("Spearman correlation between cosine and human similarity scores on sentence pairs, with no transform "
           "and after each one — fitted on the pairs themselves and on the current corpus.")
p1, p2 = st.columns(2)
source = p1.radio("Pairs", ["shipped pairs (100, scored 0–5)", "upload s1,s2,score CSV"], key="pairs_source")
upload = p2.file_uploader("Pairs (STS-B format)", type=["csv", "tsv", "txt"], key="pairs_file",
                          disabled=source.startswith("shipped"))
inputs = (eset.model_id, eset.model_version, st.session_state.selection.corpus.fingerprint, source,
          None if upload is None else upload.file_id, k, d)
if st.button("Measure the effect", type="primary", key="run_sts"):
    session.forget("sts")
    with widgets.guard(stop=False):
        if source.startswith("shipped"):
            pairs = shipped_pairs()
        elif upload is None:
            raise VecexploreError("Upload a pairs file first.")
        else:
            pairs = sts_pairs(upload.getvalue(), upload.name)
        with st.spinner(f"Embedding {2 * len(pairs):,} sentences and fitting 4 transforms twice…"):
            effect = sts_effect(pairs, session.embedder(),
                                [("center", {}), ("abtt", {"d": d}), ("whiten", {"k": k}), ("zca", {})],
                                fit_corpus=eset.texts)
        session.remember("sts", inputs, effect)
effect = session.recall("sts", inputs)
if effect is not None:
    rows = effect.rows
    if effect.n_out_of_range:
        st.warning(f"Left out {effect.n_out_of_range:,} {'pair' if effect.n_out_of_range == 1 else 'pairs'} with "
                   "scores outside 0–5.", icon="🧹")
    for note in effect.notes:
        st.info(md(note), icon="ℹ️")
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for where, colour in (("—", "#999999"), ("the pairs", BEFORE), ("the corpus", AFTER)):
        part = frame[frame["fitted on"] == where]
        fig.add_trace(go.Bar(x=part["transform"], y=part["spearman"], name="no transform" if where == "—"
                             else f"fitted on {where}", marker_color=colour, text=part["spearman"].round(3)))
    fig.update_layout(barmode="group", height=360, margin=dict(l=10, r=10, t=40, b=10),
                      title=plain(f"Spearman on {rows[0]['n']} pairs — {effect.model}"), yaxis_title="Spearman")
    st.plotly_chart(fig, width="stretch", key="sts_chart")
    st.dataframe(frame, hide_index=True, width="stretch")
