"""Data quality: near-duplicates, outliers, likely label errors and leakage, found in the embedding space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import links, resources, session, settings, widgets
from pages.ui.figures import HOVER, hover
from pages.ui.links import Param
from pages.ui.text import md
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.files import corpus as corpora
from vecexplore.maps.projection import Projector
from vecexplore.quality.report import SENTENCES, QualityReport, quality_report

FINDINGS = {"none": "nothing", "duplicates": "near-duplicates", "outliers": "top outliers",
            "label_issues": "likely label errors", "leakage": "rows with a copy in the second set"}
TOP = 50  # rows listed per finding (the downloads hold every row)


@st.cache_resource(show_spinner="Looking for duplicates, outliers and label errors…", max_entries=8,
                   hash_funcs=resources.BY_CONTENT)
def lens(eset: EmbeddingSet, other: EmbeddingSet | None, threshold: float, k: int, seed: int) -> QualityReport:
    return quality_report(eset, other, threshold=threshold, k=k, seed=seed)


@st.cache_resource(show_spinner="Drawing the map…", max_entries=8, hash_funcs=resources.BY_CONTENT)
def pca_map(eset: EmbeddingSet) -> np.ndarray:
    return Projector("pca", 2).fit(eset.vectors).embedding_


def marked(report: QualityReport, finding: str, hidden: set[int] = frozenset()) -> np.ndarray:
    """The rows a finding points at, less the ``hidden`` ones."""
    rows = {"duplicates": [r for g in report.duplicates for r in g],
            "outliers": [o["index"] for o in report.outliers[:TOP]],
            "label_issues": [i["index"] for i in report.label_issues],
            "leakage": [a for a, _ in (report.leakage or {}).get("pairs", [])]}.get(finding, [])
    return np.asarray(sorted(set(rows) - hidden), dtype=int)


def reviewed_rows(n: int) -> set[int]:
    """The rows marked reviewed (kept in the link as row numbers); marks that are not rows of this corpus are
    dropped, with a note."""
    marks = st.session_state.get("quality_reviewed") or []
    rows = {int(m) for m in marks if m.isdigit() and int(m) < n}
    if len(rows) < len(set(marks)):
        st.caption(f"{len(set(marks)) - len(rows):,} reviewed marks in the link are not rows of this corpus "
                   f"(0 to {n - 1:,}); they are left out.")
    return rows


def review_table(frame: pd.DataFrame, reviewed: set[int], key: str, **kwargs) -> set[int]:
    """A table with a *reviewed* tick per row (its ``index`` column: row numbers); the marks after the user's
    ticks."""
    edited = st.data_editor(frame.assign(reviewed=frame["index"].isin(reviewed)), hide_index=True, width="stretch",
                            disabled=[c for c in frame.columns if c != "reviewed"], key=key, **kwargs)
    shown = set(frame["index"].tolist())
    return (reviewed - shown) | {int(i) for i in edited.loc[edited["reviewed"], "index"]} if len(frame) else reviewed


def finding_map(xy: np.ndarray, texts: list[str], rows: np.ndarray, scores: np.ndarray, what: str) -> go.Figure:
    """All texts greyed, the finding's rows coloured by the outlier score."""
    fig = go.Figure(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", name="other texts",
                                 hovertext=[hover(t) for t in texts], hovertemplate=HOVER,
                                 marker=dict(size=5, color="rgba(160,160,160,0.35)")))
    if len(rows):
        fig.add_trace(go.Scattergl(x=xy[rows, 0], y=xy[rows, 1], mode="markers", name=what,
                                   hovertext=[hover(texts[i]) for i in rows], hovertemplate=HOVER,
                                   marker=dict(size=9, color=scores[rows], colorscale="OrRd",
                                               colorbar=dict(title="outlier<br>score", thickness=12))))
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h"))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, scaleanchor="x")
    return fig


st.title("🧹 Data quality")
links.page([Param.limited("quality_threshold", float, "dup_threshold"), Param.limited("quality_k", int, "map_k"),
            Param("quality_show", options=list(FINDINGS)), Param("quality_hide_reviewed", bool),
            Param("quality_reviewed", list)], "quality")
with st.expander("What am I looking at?"):
    st.markdown("\n".join(f"- {sentence}" for sentence in SENTENCES.values()))

eset, stats = session.embeddings()
widgets.data_flow(eset, stats, "data quality")
c1, c2 = st.columns(2)
threshold = settings.slider("dup_threshold", "quality_threshold", "Near-duplicate threshold (cosine)", c1)
k = settings.slider("map_k", "quality_k", "Neighbours k (outlier scores)", c2)
other = None
up = st.file_uploader("A second set to check for leakage (e.g. the test set), embedded by the same model",
                      type=[s[1:] for s in corpora.TABLE_SUFFIXES], key="quality_other")
with widgets.guard():
    if up is not None:
        table = corpora.read_table(up.name, up.getvalue())
        text_col, _ = widgets.column_widgets(table, "quality", labels=False)
        if text_col is not None:
            other = session.embedder().embed(corpora.from_table(table, text_col, name=up.name))[0]
    report = lens(eset, other, float(threshold), int(k), 0)
for note in report.notes:
    st.caption(md(note))

m1, m2, m3, m4 = st.columns(4)
m1.metric("Duplicate groups", f"{len(report.duplicates):,}", help=SENTENCES["duplicates"])
m2.metric("Exact repeats", f"{report.exact_duplicates:,}")
m3.metric("Likely label errors", f"{len(report.label_issues):,}" if eset.labels is not None else "—",
          help=SENTENCES["label_issues"])
m4.metric("Leaked rows", "—" if report.leakage is None else f"{report.leakage['share']:.1%}",
          help=SENTENCES["leakage"])

st.subheader("How close is each text to its nearest other text?")
hist = go.Figure(go.Histogram(x=report.nearest, nbinsx=60, marker_color="#1f77b4"))
hist.add_vline(x=threshold, line_dash="dash", annotation_text=f"threshold {threshold:g}")
hist.update_layout(height=260, margin=dict(l=10, r=10, t=20, b=30), xaxis_title="cosine to the nearest other text",
                   yaxis_title="texts")
st.plotly_chart(hist, width="stretch", key="quality_hist")

reviewed = marks = reviewed_rows(eset.n)
f1, f2 = st.columns([3, 1])
shown = f1.radio("Show on the map", list(FINDINGS), format_func=FINDINGS.get, horizontal=True, key="quality_show")
hide = f2.toggle("Hide rows marked reviewed", key="quality_hide_reviewed")
rows = marked(report, shown, reviewed if hide else set())
st.plotly_chart(finding_map(pca_map(eset), eset.texts, rows, report.outlier_scores, FINDINGS[shown]),
                width="stretch", key="quality_map")
if shown != "none":
    st.caption(md(SENTENCES[shown]))

frame = report.rows(eset)
texts = eset.texts
st.subheader("Near-duplicate groups")
st.dataframe(pd.DataFrame([{"group": g, "size": len(m), "texts": " ⟷ ".join(texts[i][:80] for i in m[:4])}
                           for g, m in enumerate(report.duplicates[:TOP])]), hide_index=True, width="stretch")
st.subheader("Top outliers")
outliers = pd.DataFrame([{"index": o["index"], "score": round(o["score"], 3), "text": texts[o["index"]]}
                         for o in report.outliers[:TOP]], columns=["index", "score", "text"])
reviewed = review_table(outliers, reviewed, "quality_outliers_table")
if eset.labels is not None:
    st.subheader("Likely label errors")
    issues = pd.DataFrame([{**i, "score": round(i["score"], 3), "text": texts[i["index"]]}
                           for i in report.label_issues[:TOP]], columns=["index", "given", "suggested", "score",
                                                                         "text"])
    reviewed = review_table(issues, reviewed, "quality_labels_table")
    st.caption("Tick *reviewed* for the suggestions you accept: the corrected labels download below. Reviewed "
               "marks stay in the page's link.")
    st.dataframe(pd.DataFrame(report.mixed_classes), hide_index=True, width="stretch")
    accepted = {int(i["index"]): i["suggested"] for i in report.label_issues if i["index"] in reviewed}
    corrected = frame.assign(label=[accepted.get(i, lab) for i, lab in enumerate(eset.labels)])
    st.download_button("Download the corrected labels (CSV)", corrected[["row", "text", "label"]].to_csv(index=False),
                       "corrected-labels.csv", "text/csv", key="quality_corrected")
if report.leakage is not None:
    st.subheader("Leakage")
    st.dataframe(pd.DataFrame([{"row": a, "text": texts[a], "second set row": b, "second set text": other.texts[b]}
                               for a, b in report.leakage["pairs"][:TOP]]), hide_index=True, width="stretch")
st.session_state["quality_reviewed"] = [str(r) for r in sorted(reviewed)]  # the link keeps them
if reviewed != marks:  # a tick changed them: redraw the map and the tables from the marks alone
    for table in ("quality_outliers_table", "quality_labels_table"):
        st.session_state.pop(table, None)
    st.rerun()
frame["reviewed"] = frame["row"].isin(reviewed)
keep = frame[~frame["duplicate_group"].duplicated() | (frame["duplicate_group"] < 0)]
d1, d2 = st.columns(2)
d1.download_button("Download every row with its scores (CSV)", frame.to_csv(index=False), "quality.csv",
                   "text/csv", key="quality_csv")
d2.download_button("Download with one row per duplicate group (CSV)", keep.to_csv(index=False),
                   "quality-deduplicated.csv", "text/csv", key="quality_keep_one")
