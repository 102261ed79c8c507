"""The Analogies page's pieces: the vocabulary the answers come from, and how an answer, a direction and an
evaluation are shown (tables and figures drawn from the reports of :mod:`vecexplore.words.report`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import session, settings
from pages.ui.text import md, plain
from vecexplore.encoders import GLOVE_ID, Encoder
from vecexplore.words import analogy as an
from vecexplore.words.report import AnalogyAnswer, DirectionReport

VOCAB_SOURCES = ["shipped word list", "the corpus texts", "my words"]
ROLE_STYLE = {"a": ("#636EFA", 16), "b": ("#EF553B", 16), "c": ("#00CC96", 16), "answer": ("#AB63FA", 18),
              "neighbour": ("#BBBBBB", 8)}


@st.cache_resource(show_spinner="Building the vocabulary…", max_entries=6)
def word_space(model_id: str, version: str, restrict: int | None, words: tuple[str, ...] | None,
               _encoder: Encoder) -> an.WordSpace:
    """The words answers come from, kept per process for a model (``model_id``, ``version``) and word list."""
    return an.WordSpace.from_encoder(_encoder, None if words is None else list(words), restrict)


def use_glove() -> None:
    st.session_state.model = GLOVE_ID


def vocabulary(encoder: Encoder, sel: session.Selection) -> an.WordSpace:
    """The vocabulary widgets and the word space they choose: the N most frequent words of a model with a
    vocabulary (GloVe), else words embedded one by one from the shipped list, the corpus or the user's words."""
    if an.has_vocabulary(encoder):
        restrict = settings.number("restrict_vocab", "restrict_vocab", "Vocabulary: the N most frequent GloVe words")
        return word_space(encoder.id, encoder.version, int(restrict), None, encoder)
    st.info(f"**{md(encoder.id)}** has no word vocabulary: words are embedded one by one as short texts. "
            "GloVe is the classic model for this demo.", icon="💡")
    st.button("Use glove-6B-50d", on_click=use_glove)
    source = st.radio("Vocabulary", VOCAB_SOURCES, horizontal=True, key="vocab_source")
    words = None
    if source == "the corpus texts":
        words = tuple(sel.corpus.texts[:5000]) if sel.corpus is not None else None
    elif source == "my words":
        words = tuple(st.text_area("Words (any separator)", "cat dog kitten puppy car cars", key="my_words").split())
    return word_space(encoder.id, encoder.version, None, words, encoder)


def results_table(results: list[tuple[str, float]]) -> None:
    st.dataframe(pd.DataFrame({"rank": range(1, len(results) + 1), "word": [w for w, _ in results],
                               "score": [round(s, 4) for _, s in results]}), hide_index=True, width="stretch")


def parallelogram(layout: an.AnalogyLayout) -> go.Figure:
    """The four words of an analogy and their neighbours on a PCA plane: a → b and c → answer as arrows, the other
    two sides dotted, and the point b − a + c itself."""
    xy = layout.coords
    fig = go.Figure()
    for role, (colour, size) in ROLE_STYLE.items():
        idx = [i for i, r in enumerate(layout.roles) if r == role]
        if idx:
            name = role if role == "neighbour" else f"{role}: {layout.words[idx[0]]}"
            fig.add_trace(go.Scatter(x=xy[idx, 0], y=xy[idx, 1], mode="markers+text", name=plain(name),
                                     text=[plain(layout.words[i]) for i in idx], textposition="top center",
                                     marker=dict(color=colour, size=size, line=dict(color="#333", width=1))))
    fig.add_trace(go.Scatter(x=[layout.target[0]], y=[layout.target[1]], mode="markers+text", name="b − a + c",
                             text=["b − a + c"], textposition="bottom center",
                             marker=dict(symbol="x", size=14, color="#111")))
    for start, end in ((0, 1), (2, 3)):  # a → b and c → answer
        fig.add_annotation(x=xy[end, 0], y=xy[end, 1], ax=xy[start, 0], ay=xy[start, 1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.5, arrowwidth=2.5,
                           arrowcolor="#444")
    for start, end in ((0, 2), (1, 3)):  # the other two sides of the parallelogram
        fig.add_trace(go.Scatter(x=xy[[start, end], 0], y=xy[[start, end], 1], mode="lines", showlegend=False,
                                 line=dict(color="#999", dash="dot"), hoverinfo="skip"))
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=30, b=10))
    fig.update_yaxes(scaleanchor="x", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    return fig


def show_answer(answer: AnalogyAnswer, words: tuple[str, str, str], method: str) -> None:
    """The best answer with its score, the top answers, and the parallelogram beside them."""
    a, b, c = words
    results, layout = answer.results, answer.layout
    left, right = st.columns([1, 2])
    with left:
        st.metric(md(f"{a} : {b} :: {c} :"), md(results[0][0]), help=f"score {results[0][1]:.4f} ({method})")
        results_table(results)
    with right:
        st.plotly_chart(parallelogram(layout), width="stretch", key="parallelogram")
        st.caption(f"PCA of these {len(layout.words)} words (the four and their nearest neighbours) — "
                   f"{layout.explained_variance:.0%} of their variance is drawn.")


def direction_bars(placed: DirectionReport) -> go.Figure:
    """Each word's cosine with the direction, as horizontal bars (negative: towards the 'from' end)."""
    order = np.argsort(placed.scores)
    bars = go.Figure(go.Bar(x=placed.scores[order], y=[plain(placed.words[i]) for i in order], orientation="h",
                            marker_color=["#636EFA" if s < 0 else "#EF553B" for s in placed.scores[order]]))
    bars.update_layout(height=max(260, 28 * len(placed.words)), margin=dict(l=10, r=10, t=30, b=10),
                       xaxis_title=plain(f"cosine with the direction {placed.axis}"))
    return bars


def show_direction(placed: DirectionReport) -> None:
    if placed.unknown:
        st.info(f"Not in the vocabulary, so left off the axis: {md(', '.join(placed.unknown))}.", icon="🔤")
    st.plotly_chart(direction_bars(placed), width="stretch", key="direction")


def show_evaluation(report: an.AnalogyReport) -> None:
    """Accuracy, answered and skipped questions and time; accuracy per relation as bars and a table."""
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Accuracy", f"{report.overall:.1%}", help=f"{report.method}, answered questions only")
    m2.metric("Answered", f"{report.n_questions - report.n_skipped:,}")
    m3.metric("Skipped (unknown words)", f"{report.n_skipped:,}")
    m4.metric("Time", f"{report.seconds:.2f} s")
    if report.n_malformed:
        st.warning(f"{report.n_malformed:,} malformed lines were skipped.", icon="🧹")
    frame = pd.DataFrame([{"section": name, "accuracy": report.sections[name], "correct": c, "answered": n}
                          for name, (c, n) in report.counts.items()])
    chart = go.Figure(go.Bar(x=frame["accuracy"], y=[plain(name) for name in frame["section"]], orientation="h",
                             text=[f"{v:.0%}" for v in frame["accuracy"]], marker_color="#636EFA"))
    chart.update_layout(height=max(260, 30 * len(frame)), margin=dict(l=10, r=10, t=30, b=10),
                        xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis=dict(autorange="reversed"))
    st.plotly_chart(chart, width="stretch", key="eval_chart")
    st.dataframe(frame, hide_index=True, width="stretch")
