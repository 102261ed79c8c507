"""Choose a model: a report card ranking candidate models on the sidebar's corpus, with costs and confidence."""

from __future__ import annotations

import streamlit as st

from pages.ui import card_view, links, session, settings, widgets
from pages.ui.links import Param
from pages.ui.text import md
from vecexplore.choosing.workflow import MAX_MODELS, candidate, choose, corpus_column, default_id_column
from vecexplore.encoders import GLOVE_ID, M2V_ID, MINILM_ID, MODELS, MPNET_ID, TFIDF_ID
from vecexplore.errors import Cancelled, VecexploreError
from vecexplore.files.beir import read_beir
from vecexplore.transforms.sts import sts_pairs

NO_COLUMN = "(none)"
VARIANTS = ("onnx-int8", "torch")  # backends offered as candidates of their own, beside the sidebar's


def candidates() -> list[str]:
    """The models this session may rank, then the transformer ones on another backend (``model@backend``)."""
    models = session.models()
    sel = st.session_state.get("selection")
    if sel is not None and sel.model_id and sel.model_id not in models:
        models = [*models, sel.model_id]  # a folder or hub id typed in the sidebar
    shippable = [m for m in models if m in (MINILM_ID, MPNET_ID)]
    return [*models, *[f"{m}@{b}" for m in shippable for b in VARIANTS]]


def _cancel() -> None:
    st.session_state["choose_cancelled"] = True


st.title("🏆 Choose a model")
links.page([Param("choose_models", list, options=candidates), Param("choose_title", optional=True),
            Param.limited("choose_resamples", int, "resamples"), Param.limited("choose_seed", int, "seed"),
            Param.limited("choose_ms", float, "max_ms_per_text"),
            Param.limited("choose_bytes", float, "max_bytes_per_vector"),
            Param("choose_task", options=["retrieval", "classification", "clustering", "similarity"])], "choose")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("choose"))
if st.session_state.pop("choose_cancelled", False):
    st.warning("The report card was cancelled. The vectors embedded before the cancel are cached: building it "
               "again starts from there.", icon="⏹️")

sel = st.session_state.get("selection")
if sel is None or sel.corpus is None:
    st.warning(md(sel.error) if sel and sel.error else "Choose a corpus in the sidebar.", icon="👈")
    st.stop()
corpus = sel.corpus
if corpus.vectors is not None:
    st.warning("Imported vectors come from one unknown model: pick a text corpus to rank models on.", icon="👈")
    st.stop()

options = candidates()
defaults = [m for m in (MINILM_ID, M2V_ID, GLOVE_ID) if m in options]
chosen = st.multiselect(f"Candidate models (2 to {MAX_MODELS}; model@backend runs a model on that backend)",
                        options, default=defaults, max_selections=MAX_MODELS, key="choose_models")
if not MODELS[MPNET_ID].available():
    st.caption(f"{MPNET_ID} (768-d, the large classic) is not installed here: {MODELS[MPNET_ID].install}")

columns = sorted(corpus.columns[0]) if corpus.columns else []
with st.expander("What to rank them on, beyond the corpus and its labels"):
    st.caption(f"The corpus: {len(corpus):,} texts" + (f", labels with {len(set(corpus.labels))} values: "
                                                       "classification and clustering" if corpus.labels else
                                                       ", no labels") + ".")
    title_col = st.selectbox("Title column (retrieval: each title finds its text)", [NO_COLUMN, *columns],
                             key="choose_title")
    q1, q2 = st.columns(2)
    queries_file = q1.file_uploader("Queries (BEIR queries.jsonl)", type=["jsonl"], key="choose_queries")
    qrels_file = q2.file_uploader("Relevance judgements (BEIR qrels.tsv)", type=["tsv", "txt"], key="choose_qrels")
    id_col = st.selectbox("Column of document ids the judgements name", [NO_COLUMN, *columns],
                          index=1 + columns.index(default_id_column(corpus)) if default_id_column(corpus) else 0,
                          key="choose_id_col")
    pairs_file = st.file_uploader("Scored pairs (sentence1, sentence2, score 0–5): a similarity task",
                                  type=["csv", "tsv", "txt"], key="choose_pairs")
s1, s2, s3, s4 = st.columns(4)
resamples = settings.number("resamples", "choose_resamples", "Bootstrap resamples", s1)
seed = settings.number("seed", "choose_seed", "Seed", s2)
max_ms = settings.number("max_ms_per_text", "choose_ms", "Budget: ms per text (optional)", s3)
max_bytes = settings.number("max_bytes_per_vector", "choose_bytes", "Budget: bytes per vector (optional)", s4)

uploads = tuple(None if f is None else f.file_id for f in (queries_file, qrels_file, pairs_file))
inputs = (tuple(chosen), corpus.fingerprint, title_col, id_col, uploads, resamples, seed, max_ms, max_bytes,
          session.backend(), tuple(session.model_stamp(candidate(c)[0]) for c in chosen))
if st.button("Build the report card", type="primary", key="choose_run", disabled=len(chosen) < 2):
    session.forget("choose")
    with widgets.guard(stop=False):
        titles = None if title_col == NO_COLUMN else corpus_column(corpus, title_col, "titles")
        queries = qrels = doc_ids = None
        if (queries_file is None) != (qrels_file is None):
            raise VecexploreError("Upload both the queries and the relevance judgements, or neither.")
        if queries_file is not None:
            judged = read_beir(queries_file.getvalue(), qrels_file.getvalue(), (queries_file.name, qrels_file.name))
            if id_col == NO_COLUMN:
                raise VecexploreError("The judgements name documents by id: choose the corpus column that holds "
                                      "them (upload a table with an id column in the sidebar).")
            queries, qrels, doc_ids = judged.queries, judged.qrels, corpus_column(corpus, id_col, "document ids")
        pairs = None
        if pairs_file is not None:
            scored = sts_pairs(pairs_file.getvalue(), pairs_file.name)
            pairs = list(zip(scored.s1, scored.s2, map(float, scored.scores), strict=True))
        embedders = [session.embedder(*candidate(spec), name=spec, corpus=corpus) for spec in chosen]
        if any(e.model_id == TFIDF_ID for e in embedders):
            st.caption("tfidf-lsa is fitted on this corpus: the card warns that it has seen the evaluation texts.")
        slot = st.empty()
        with slot.container():
            bar = st.progress(0.0, text="Planning the tasks…")
            st.button("Cancel", key="choose_cancel", on_click=_cancel)
        try:
            report = choose(corpus, embedders, titles=titles, queries=queries, qrels=qrels, doc_ids=doc_ids,
                            pairs=pairs, n_boot=int(resamples), seed=int(seed), max_ms_per_text=max_ms,
                            max_bytes_per_vector=max_bytes,
                            progress=lambda done, total, what: bar.progress(min(done / max(total, 1), 1.0),
                                                                            text=md(what[:1].upper() + what[1:])))
        except Cancelled:
            _cancel()
            st.rerun()
        slot.empty()
        session.remember("choose", inputs, report.to_dict())
card = session.recall("choose", inputs)
if card is None:
    st.info("Pick the candidates and build the card: each model is loaded, timed and run on every task; vectors "
            "come from the cache when they were embedded before.", icon="☝️")
    st.stop()
card_view.show(card)
