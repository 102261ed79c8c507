"""Analogies: word arithmetic (3CosAdd / 3CosMul), neighbours, directions, and how often it really works."""

from __future__ import annotations

import streamlit as st

from pages.ui import analogy_view, links, session, widgets
from pages.ui.links import Param
from pages.ui.text import md
from vecexplore.embedder import Embedder
from vecexplore.errors import VecexploreError
from vecexplore.files.words import read_analogies
from vecexplore.words import analogy as an
from vecexplore.words.report import analogy_answer, analogy_evaluation, direction_report, expression_answer

PRESETS = {
    "gender: man → king, woman → ?": ("man", "king", "woman"),
    "capitals: france → paris, italy → ?": ("france", "paris", "italy"),
    "plurals: car → cars, child → ?": ("car", "cars", "child"),
    "tenses: walk → walked, go → ?": ("walk", "walked", "go"),
    "comparatives: good → better, bad → ?": ("good", "better", "bad"),
}


def use_preset() -> None:
    a, b, c = PRESETS[st.session_state.preset]
    st.session_state.update(word_a=a, word_b=b, word_c=c)


st.title("🧮 Word arithmetic")
links.page([Param.limited("restrict_vocab", int, "restrict_vocab"),
            Param("vocab_source", options=analogy_view.VOCAB_SOURCES),
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
    space = analogy_view.vocabulary(encoder, sel)
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
with widgets.guard(stop=False):
    analogy_view.show_answer(analogy_answer(space, a, b, c, method=method, k=10, picture=True), (a, b, c), method)

st.header("Free-form arithmetic and neighbours")
expr = st.text_input("Expression (a single word lists its neighbours)", "paris - france + italy", key="expression")
with widgets.guard(stop=False):
    analogy_view.results_table(expression_answer(space, expr, method=method, k=10))

st.header("Directions")
d1, d2 = st.columns(2)
pairs_text = d1.text_area("Pairs that define the direction (from → to, one pair per line)",
                          "he she\nman woman\nking queen\nfather mother", key="pairs")
words_text = d2.text_area("Words to place along it", "nurse doctor engineer teacher dancer soldier mother father",
                          key="direction_words")
with widgets.guard(stop=False):
    analogy_view.show_direction(direction_report(space, pairs_text, words_text.split()))

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
            data = read_analogies(upload.getvalue(), upload.name)
        else:
            data = an.shipped_analogies()
        bar = st.progress(0.0, text=f"Answering {len(data.questions):,} questions…")
        evaluation = analogy_evaluation(Embedder.of(encoder), data, method, space=space,
                                        progress=lambda done, total: bar.progress(done / max(total, 1)))
        bar.empty()
        session.remember("analogy_eval", inputs, evaluation.report)
report = session.recall("analogy_eval", inputs)
if report is not None:
    analogy_view.show_evaluation(report)
