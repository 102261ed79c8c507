"""Analogies: word arithmetic (3CosAdd / 3CosMul), neighbours, directions, and how often it really works."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import links, session, widgets
from pages.ui.links import Param
from pages.ui.text import md, plain
from vecexplore.encoders import GLOVE_ID
from vecexplore.errors import VecexploreError
from vecexplore.files import corpus as corpora
from vecexplore.validation import LIMITS
from vecexplore.words import analogy as an
from vecexplore.words.report import (
    DirectionReport,
    analogy_answer,
    analogy_evaluation,
    direction_report,
    expression_answer,
)

PRESETS = {
    "gender: man → king, woman → ?": ("man", "king", "woman"),
    "capitals: france → paris, italy → ?": ("france", "paris", "italy"),
    "plurals: car → cars, child → ?": ("car", "cars", "child"),
    "tenses: walk → walked, go → ?": ("walk", "walked", "go"),
    "comparatives: good → better, bad → ?": ("good", "better", "bad"),
}
ROLE_STYLE = {"a": ("#636EFA", 16), "b": ("#EF553B", 16), "c": ("#00CC96", 16), "answer": ("#AB63FA", 18),
              "neighbour": ("#BBBBBB", 8)}


@st.cache_resource(show_spinner="Building the vocabulary…", max_entries=6)
def word_space(model_id: str, version: str, restrict: int | None, words: tuple[str, ...] | None,
               _encoder) -> an.WordSpace:
    return an.WordSpace.from_encoder(_encoder, None if words is None else list(words), restrict)


def use_preset() -> None:
    a, b, c = PRESETS[st.session_state.preset]
    st.session_state.update(word_a=a, word_b=b, word_c=c)


def use_glove() -> None:
    st.session_state.model = GLOVE_ID


def results_table(results: list[tuple[str, float]]) -> None:
    st.dataframe(pd.DataFrame({"rank": range(1, len(results) + 1), "word": [w for w, _ in results],
                               "score": [round(s, 4) for _, s in results]}), hide_index=True, width="stretch")


def direction_bars(placed: DirectionReport) -> go.Figure:
    order = np.argsort(placed.scores)
    bars = go.Figure(go.Bar(x=placed.scores[order], y=[plain(placed.words[i]) for i in order], orientation="h",
                            marker_color=["#636EFA" if s < 0 else "#EF553B" for s in placed.scores[order]]))
    bars.update_layout(height=max(260, 28 * len(placed.words)), margin=dict(l=10, r=10, t=30, b=10),
                       xaxis_title=plain(f"cosine with the direction {placed.axis}"))
    return bars


def parallelogram(layout: an.AnalogyLayout) -> go.Figure:
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


st.title("🧮 Word arithmetic")
links.page([Param.limited("restrict_vocab", int, "restrict_vocab"),
            Param("vocab_source", options=["shipped word list", "the corpus texts", "my words"]),
            Param("word_a"), Param("word_b"), Param("word_c"), Param("method_analogy", options=list(an.METHODS)),
            Param("expression")], "analogies")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("analogies"))

sel = st.session_state.get("selection")
if sel is None or not sel.model_id:
    st.warning("Choose a model in the sidebar (imported vectors have no model to embed words with).", icon="👈")
    st.stop()
with widgets.guard():
    encoder = session.current_encoder(sel)
    if an.has_vocabulary(encoder):
        limit = LIMITS["restrict_vocab"]
        restrict = st.number_input("Vocabulary: the N most frequent GloVe words", int(limit.lo), int(limit.hi),
                                   100_000, 10_000, key="restrict_vocab",
                                   help="Answers come only from these words; questions using others are skipped.")
        space = word_space(encoder.id, encoder.version, int(restrict), None, encoder)
    else:
        st.info(f"**{md(encoder.id)}** has no word vocabulary: words are embedded one by one as short texts. "
                "GloVe is the classic model for this demo.", icon="💡")
        st.button("Use glove-6B-50d", on_click=use_glove)
        source = st.radio("Vocabulary", ["shipped word list", "the corpus texts", "my words"], horizontal=True,
                          key="vocab_source")
        words = None
        if source == "the corpus texts":
            words = tuple(sel.corpus.texts[:5000]) if sel.corpus is not None else None
        elif source == "my words":
            words = tuple(st.text_area("Words (any separator)", "cat dog kitten puppy car cars",
                                       key="my_words").split())
        space = word_space(encoder.id, encoder.version, None, words, encoder)
st.caption(f"🧠 **{md(space.model_id)}** · vocabulary: {md(space.note)} ({len(space):,} words)")

st.header("a is to b as c is to ?")
st.selectbox("Teaching examples", list(PRESETS), key="preset", on_change=use_preset, index=None,
             placeholder="Pick an example…")
for key, default in zip(("word_a", "word_b", "word_c"), PRESETS["gender: man → king, woman → ?"], strict=True):
    st.session_state.setdefault(key, default)
c1, c2, c3, c4 = st.columns([1, 1, 1, 1.3])
a = c1.text_input("a", key="word_a")
b = c2.text_input("is to b", key="word_b")
c = c3.text_input("as c is to ?", key="word_c")
method = c4.radio("Method", list(an.METHODS), horizontal=True, key="method_analogy",
                  format_func={an.ADD: "3CosAdd", an.MUL: "3CosMul"}.get)
st.caption("3CosAdd: nearest word to b − a + c by cosine. 3CosMul: cos(x,b)·cos(x,c) / (cos(x,a) + ε), with cosines "
           "shifted to [0, 1] — one big similarity cannot dominate.")
answer = None
with widgets.guard(stop=False):
    answer = analogy_answer(space, a, b, c, method=method, k=10, picture=True)
if answer is not None:
    results, layout = answer.results, answer.layout
    left, right = st.columns([1, 2])
    with left:
        st.metric(md(f"{a} : {b} :: {c} :"), md(results[0][0]), help=f"score {results[0][1]:.4f} ({method})")
        results_table(results)
    with right:
        st.plotly_chart(parallelogram(layout), width="stretch", key="parallelogram")
        st.caption(f"PCA of these {len(layout.words)} words (the four and their nearest neighbours) — "
                   f"{layout.explained_variance:.0%} of their variance is drawn.")

st.header("Free-form arithmetic and neighbours")
expr = st.text_input("Expression (a single word lists its neighbours)", "paris - france + italy", key="expression")
with widgets.guard(stop=False):
    results_table(expression_answer(space, expr, method=method, k=10))

st.header("Directions")
d1, d2 = st.columns(2)
pairs_text = d1.text_area("Pairs that define the direction (from → to, one pair per line)",
                          "he she\nman woman\nking queen\nfather mother", key="pairs")
words_text = d2.text_area("Words to place along it", "nurse doctor engineer teacher dancer soldier mother father",
                          key="direction_words")
with widgets.guard(stop=False):
    placed = direction_report(space, pairs_text, words_text.split())
    if placed.unknown:
        st.info(f"Not in the vocabulary, so left off the axis: {md(', '.join(placed.unknown))}.", icon="🔤")
    st.plotly_chart(direction_bars(placed), width="stretch", key="direction")

st.header("How often does this work?")
source = st.radio("Questions", ["shipped examples (738 questions, 5 relations)", "upload a Google-format file"],
                  key="eval_source", horizontal=True)
upload = None
if source.startswith("upload"):
    upload = st.file_uploader("Analogy file (': section' lines, then 'a b c d')", type=["txt"], key="eval_file")
inputs = (space.model_id, encoder.version, len(space), method, source, None if upload is None else upload.file_id)
if st.button("Run the evaluation", type="primary", key="run_eval"):
    session.forget("analogy_eval")
    with widgets.guard(stop=False):
        if source.startswith("upload"):
            if upload is None:
                raise VecexploreError("Upload an analogy file first.")
            data = an.read_analogies(corpora.decode_text(upload.getvalue(), upload.name).splitlines())
        else:
            data = an.shipped_analogies()
        bar = st.progress(0.0, text=f"Answering {len(data.questions):,} questions…")
        evaluation = analogy_evaluation(encoder, data, method, space=space,
                                        progress=lambda done, total: bar.progress(done / max(total, 1)))
        bar.empty()
        session.remember("analogy_eval", inputs, evaluation.report)
report = session.recall("analogy_eval", inputs)
if report is not None:
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
