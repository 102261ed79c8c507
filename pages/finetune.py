"""Fine-tuning lab: adapt a model to your pairs on the CPU, then see what changed on pairs it never saw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import links, session, settings, widgets
from pages.ui.figures import HOVER, hover
from pages.ui.links import Param
from pages.ui.text import md, plain
from vecexplore.encoders import BUILTIN_MODELS, MINILM_ID, finetuned
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus
from vecexplore.finetuning.report import FinetuneReport, finetune
from vecexplore.finetuning.tuner import (
    LABEL_WARNING,
    FineTuner,
    demo_pairs,
    label_split,
    new_name,
    read_pairs_file,
    split_pairs,
    suggest_name,
)
from vecexplore.owners import created_by

SOURCES = ("demo pairs (cooking questions → answers)", "upload a pairs file", "pairs from the corpus labels")
RATES = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4)
MAP_LIMIT = 2_000  # texts compared before/after (a seeded sample of larger corpora)
BATCH_HELP = ("Each anchor's negatives are the other positives of its batch: larger batches give harder lessons "
              "but hold more texts in memory (long texts and hard negatives most).")


def _cancel() -> None:
    st.session_state["ft_cancelled"] = True


def trainable() -> list[str]:
    """Models the lab can start from: MiniLM, the fine-tuned ones, and the sidebar's own folder or hub id."""
    sel = st.session_state.get("selection")
    own = [sel.model_id] if sel is not None and sel.model_id and sel.model_id not in BUILTIN_MODELS else []
    return list(dict.fromkeys([MINILM_ID, *[m for m in session.models() if m not in BUILTIN_MODELS], *own]))


def moved_map(report: FinetuneReport) -> go.Figure:
    """The corpus before (grey) and after (coloured by k-NN Jaccard) on the base model's map, the fine-tuned map
    aligned onto it, with a line from each text's old place to its new one."""
    before, after, texts = report.side.left_map, report.side.right_map, report.texts
    gaps = np.full(len(before), np.nan)
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=np.c_[before[:, 0], after[:, 0], gaps].ravel(),
                               y=np.c_[before[:, 1], after[:, 1], gaps].ravel(), mode="lines", name="moved",
                               hoverinfo="skip", line=dict(color="rgba(110,110,110,0.35)", width=1)))
    hovers = [hover(t) for t in texts]
    fig.add_trace(go.Scattergl(x=before[:, 0], y=before[:, 1], mode="markers", name="before (base)",
                               hovertext=hovers, hovertemplate=HOVER, marker=dict(size=5, color="#b9b9b9")))
    fig.add_trace(go.Scattergl(x=after[:, 0], y=after[:, 1], mode="markers", name="after (fine-tuned, aligned)",
                               hovertext=hovers, hovertemplate=HOVER,
                               marker=dict(size=7, color=report.side.jaccard, colorscale="RdYlGn", cmin=0, cmax=1,
                                           colorbar=dict(title="k-NN<br>Jaccard", thickness=12))))
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"),
                      title=plain(f"Where the texts moved: {report.base} → {report.tuned} (aligned by Procrustes)"))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, scaleanchor="x")
    return fig


def loss_curve(training: dict) -> go.Figure:
    steps = [row["step"] for row in training["loss"]]
    fig = go.Figure(go.Scatter(x=steps, y=[row["loss"] for row in training["loss"]], mode="lines+markers",
                               name="loss"))
    fig.update_layout(height=250, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step", yaxis_title="loss",
                      title="Training loss (MultipleNegativesRankingLoss)")
    return fig


st.title("🎯 Fine-tuning lab")
links.page([Param("ft_source", options=SOURCES), Param.limited("ft_test_share", float, "test_share"),
            Param.limited("ft_seed", int, "seed"), Param("ft_base", options=trainable),
            Param.limited("ft_epochs", int, "epochs"), Param.limited("ft_batch", int, "batch_size"),
            Param("ft_lr", float, options=RATES), Param("ft_hard", bool), Param("ft_matryoshka", bool)], "finetune")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("finetune"))
session.show_flash()
if st.session_state.pop("ft_cancelled", False):
    st.warning("Fine-tuning was cancelled: nothing was saved.", icon="⏹️")
if st.session_state.pop("ft_reset_name", False):
    st.session_state.pop("ft_name", None)
name_drawn = st.session_state.pop("ft_name_drawn", False)  # whether the last run drew the name box
me = session.session_id()

st.header("1 · Training pairs")
source = st.radio("Training pairs", SOURCES, horizontal=True, key="ft_source")
s1, s2 = st.columns(2)
share = settings.slider("test_share", "ft_test_share", "Held out before training (never trained on)", s1)
seed = int(settings.number("seed", "ft_seed", "Seed (split and training)", s2))
sel = st.session_state.get("selection")
corpus: Corpus | None = sel.corpus if sel is not None and sel.corpus is not None and sel.corpus.vectors is None \
    else None
with widgets.guard():
    if source == SOURCES[0]:
        pairs = demo_pairs()
        split, stem = split_pairs(pairs, share, seed), "cooking"
    elif source == SOURCES[1]:
        up = st.file_uploader("Pairs file (.csv or .tsv)", type=["csv", "tsv", "txt"], key="ft_upload",
                              help="anchor,positive — or anchor,positive,negative — or sentence1,sentence2,score "
                                   "(STS style). A header row is optional; quote texts that hold commas.")
        threshold = settings.number("threshold", "ft_threshold", "Scored files: the least score of a positive")
        if up is None:
            st.info("Upload a pairs file to train on.", icon="📤")
            st.stop()
        pairs = read_pairs_file(up.getvalue(), up.name, threshold)
        split, stem = split_pairs(pairs, share, seed), up.name.rsplit(".", 1)[0]
    else:
        if corpus is None or corpus.labels is None:
            raise VecexploreError("Pairs from labels need a text corpus with a label column: pick one in the sidebar "
                                  "(the demo topics corpus has one).")
        st.warning(LABEL_WARNING, icon="🏷️")
        split, stem = label_split(corpus.texts, corpus.labels, share, seed, name=corpus.name), "labels"
        pairs = split.train
for note in [*pairs.notes, *(n for n in split.notes if n != LABEL_WARNING)]:
    st.info(md(note), icon="ℹ️")
st.caption(f"**{len(split.train):,}** training pairs · **{len(split.held):,}** held-out pairs (a seeded "
           f"{share:.0%}, split off first) · source: {md(pairs.name)}")
with st.expander("The first training pairs"):
    preview = {"anchor": split.train.anchors[:20], "positive": split.train.positives[:20]}
    if split.train.negatives is not None:
        preview["negative"] = split.train.negatives[:20]
    st.dataframe(pd.DataFrame(preview), hide_index=True, width="stretch")

st.header("2 · Training")
t1, t2, t3, t4 = st.columns([3, 1, 1, 1])
base = t1.selectbox("Start from", trainable(), key="ft_base")
epochs = int(settings.number("epochs", "ft_epochs", "Epochs", t2))
batch = int(settings.number("batch_size", "ft_batch", "Batch size", t3, help=BATCH_HELP))
lr = t4.selectbox("Learning rate", RATES, index=RATES.index(settings.default("learning_rate")), key="ft_lr",
                  format_func=lambda r: f"{r:g}")
o1, o2, o3 = st.columns([1, 1, 2])
hard = o1.checkbox("Hard negatives", key="ft_hard",
                   help="Mine one negative per pair with the base model (sentence-transformers' mine_hard_negatives).")
matryoshka = o2.checkbox("Matryoshka", key="ft_matryoshka",
                         help="Also train the first half, quarter and eighth of the dimensions to work alone.")
# The name box always holds a name: the suggestion for this source and base, unless the user typed another. It is
# set again whenever the last run did not draw it (an upload path waiting for its file, a refused file): the browser
# forgets a widget it stops drawing and would show, then send back, an empty name.
default, typed = suggest_name(base, stem, me), str(st.session_state.get("ft_name", "")).strip()
if not typed or typed == st.session_state.get("ft_default"):
    st.session_state["ft_name"] = default
elif not name_drawn:
    st.session_state["ft_name"] = typed
st.session_state["ft_default"] = default
name = o3.text_input("Name of the new model", key="ft_name", help="Saved as finetuned/NAME.").strip()
st.session_state["ft_name_drawn"] = True
shared = name != st.session_state.get("ft_default")
o3.caption("🌐 **Shared**: a name you chose — every session on this server can pick this model." if shared else
           "🔒 **Private** to this session: the suggested name. Type a name to share the model with the class.")
st.caption("Trains on the CPU cores no other process is busy on. The same seed gives the same model only on the same "
           "number of threads: torch splits its sums by thread (the count is shown after training).")

if st.button("Fine-tune", type="primary", key="ft_run"):
    session.forget("finetune")
    with widgets.guard():
        new_name(name)
        tuner = FineTuner(base, epochs=epochs, batch_size=batch, learning_rate=lr, hard_negatives=hard,
                          matryoshka=matryoshka, seed=seed)
        slot = st.empty()
        with slot.container():
            bar = st.progress(0.0, text="Preparing the trainer" + (" and mining hard negatives…" if hard else "…"))
            st.button("Cancel", key="ft_cancel", on_click=_cancel)

        def progress(step: int, steps: int, loss: float | None) -> None:
            if step == steps:
                bar.progress(1.0, text="Saving, then measuring before and after on the held-out pairs…")
                return
            shown = "" if loss is None else f" · loss {loss:.4f}"
            bar.progress(step / max(steps, 1), text=f"Training step {step} / {steps}{shown}")

        report, manifest = finetune(tuner, split, name, session.embedder(tuner.base, corpus=corpus),
                                    corpus=corpus.sample(MAP_LIMIT).texts if corpus is not None else None,
                                    source=pairs.name, owner=me, shared=shared, seed=seed, progress=progress)
        slot.empty()
        session.remember("finetune", "last", report)
        st.session_state["compare_models"] = [base, manifest["id"]]  # what Compare opens on next
        session.flash(f"Saved {md(manifest['id'])}: it is now in the sidebar's model list, in Compare, Domain shift "
                      "and Search.")
        st.session_state["ft_reset_name"] = True
        st.rerun()

mine = finetuned.listed(me)
if mine:
    with st.expander(f"Fine-tuned models you can use ({len(mine)})"):
        st.dataframe(pd.DataFrame([{"model": m["id"], "made by": created_by(m.get("owner", ""), me),
                                    "shared": "shared" if m.get("shared", True) else "private",
                                    "base": m["base"], "pairs": m["n_train"], "created": m["created"]}
                                   for m in mine]), hide_index=True, width="stretch")
        d1, d2 = st.columns([3, 1])
        target = d1.selectbox("Delete a model", [m["id"] for m in mine], index=None, placeholder="Pick one…",
                              key="ft_delete_model")
        owner = next((m.get("owner", "") for m in mine if m["id"] == target), me)
        confirmed = owner == me or st.checkbox(
            f"Yes, delete {md(target)}, which {created_by(owner, me)} made (it goes for everyone who uses "
            "it)", key="ft_confirm_delete")
        d2.write("")
        if d2.button("Delete", key="ft_delete", disabled=target is None or not confirmed):
            with widgets.guard(stop=False):
                finetuned.delete(target, viewer=me, confirmed=confirmed)
                session.flash(f"Deleted {md(target)}.")
                st.rerun()

report: FinetuneReport | None = session.recall("finetune", "last")
if report is None:
    st.stop()
st.header("3 · Before / after")
training = report.training
st.caption(f"🧠 **{md(report.base)}** → **{md(report.tuned)}** `{report.tuned_version}` · {training['n_train']:,} "
           f"pairs, {training['steps']} steps in {training['seconds']:.1f} s on {training['threads']} CPU thread(s) · "
           f"🔬 {report.n_held_out} held-out anchors, each ranking {report.n_candidates} held-out positives")
alert = {"better": st.success, "worse": st.error}.get(report.outcome, st.info)
alert(md(report.verdict), icon={"better": "📈", "worse": "📉"}.get(report.outcome, "🟰"))
for note in [*training["notes"], *report.notes]:
    st.info(md(note), icon="ℹ️")
table = pd.DataFrame(report.metrics).rename(columns={"ci_low": "change: 95% CI low", "ci_high": "change: 95% CI high"})
st.dataframe(table.round(3), hide_index=True, width="stretch")
st.caption("Recall@k: per held-out anchor, the share of its positives among the k closest held-out positives, "
           "averaged over the anchors; MRR: the mean of 1 / the rank of an anchor's first positive. The interval is a "
           "paired bootstrap (1,000 resamples of the held-out items).")
st.plotly_chart(loss_curve(training), width="stretch", key="ft_loss")

st.subheader("How the corpus moved")
st.plotly_chart(moved_map(report), width="stretch", key="ft_moved")
st.caption(f"{len(report.texts):,} texts ({'the sidebar corpus' if corpus is not None else 'the held-out texts'}); "
           f"mean k-NN Jaccard {report.side.mean_jaccard:.3f} (1 = the same {report.side.k} neighbours before and "
           "after). Lines join each text's place before (grey) and after.")
st.subheader("Texts whose neighbours changed most")
st.dataframe(pd.DataFrame(report.side.disagreements).round({"jaccard": 3}), hide_index=True, width="stretch")
st.subheader("Anisotropy")
st.dataframe(pd.DataFrame(report.anisotropy).round(4), hide_index=True, width="stretch")

st.page_link("pages/compare.py", label="Compare the base and the fine-tuned model side by side", icon="⚖️")
