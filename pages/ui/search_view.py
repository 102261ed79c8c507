"""The Search page's pieces: the collections and what a session may do with its own, the filter widgets, and how
hits, a retrieval evaluation and the compression lab are shown (from :mod:`vecexplore.search`'s reports)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import resources, session, widgets
from pages.ui.figures import DRAW_LIMIT, drawn_points, figure, palette
from pages.ui.text import md, plain
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.maps.projection import Projector
from vecexplore.search.compression import CompressionReport
from vecexplore.search.model_check import REPRODUCE_COSINE, ModelCheck, named_model_set
from vecexplore.search.opening import import_legacy, legacy_collections
from vecexplore.search.qdrant.filters import FieldFilter
from vecexplore.search.report import RetrievalReport
from vecexplore.search.store import Store, point_id


@st.cache_resource(show_spinner="Drawing the map…", max_entries=4, hash_funcs=resources.BY_CONTENT)
def pca(eset: EmbeddingSet) -> Projector:
    return Projector("pca").fit(eset.vectors)


UNKNOWN_MODEL = "(not known: search by example)"


def named_model(eset: EmbeddingSet) -> tuple[EmbeddingSet, ModelCheck | None]:
    """Vectors opened without their model: the model the user names as the one that made them, checked on a sample
    of rows (``search.model_check``; kept per set, model and backend). Once it reproduces them, ``eset`` tagged with
    it and the check (said on the page); else ``eset`` as it came and None (a refusal shown as an error)."""
    choice = st.selectbox("The model that made these vectors", [UNKNOWN_MODEL, *session.models()], key="vectors_model",
                          help="Name it to search them by typed text: it embeds a sample of your rows again and must "
                               f"reproduce your vectors (cosine ≥ {REPRODUCE_COSINE} on every sampled row).")
    if choice == UNKNOWN_MODEL:
        return eset, None
    inputs = (eset.fingerprint, choice, session.backend())
    kept = session.recall("model_check", inputs)
    if kept is None:
        try:
            with st.spinner(f"Checking that {md(choice)} reproduces your vectors…"):
                kept = named_model_set(eset, session.embedder(choice))
        except VecexploreError as exc:
            kept = str(exc)
        session.remember("model_check", inputs, kept)
    if isinstance(kept, str):
        st.error(md(kept), icon="⚠️")
        return eset, None
    st.success(md(kept[1].sentence()), icon="✅")
    return kept


def track_default(default: str, store: Store) -> None:
    """Keep the collection box on the corpus's default name until the user types another one; a name (typed, or
    from a link) of another session's private collection goes back to the default, with a message."""
    named = st.session_state.get("collection")
    if named and store.hidden(named.strip()):
        st.warning(f"{md(named.strip())} is another session's private collection: it is not opened here. Index "
                   "your corpus into a collection of your own, or ask its owner to share it.", icon="🔒")
        named = None
    if named in (None, st.session_state.get("_collection_default")):
        st.session_state["collection"] = default
    st.session_state["_collection_default"] = default


def offer_legacy_import(store: Store) -> None:
    """Collections an older vecexplore kept in qdrant-client's local mode, and a button that imports them."""
    old = legacy_collections(store.backend.where) if store.backend.kind == "edge" else []
    if not old:
        return
    st.warning(f"{len(old)} collections from an older vecexplore are stored in qdrant-client's local mode, which "
               "this version no longer searches: " + ", ".join(md(n) for n in old) + ". Import them into Qdrant "
               "Edge (vectors, payload and tags are copied; the old files are kept in `local-mode-imported/`).",
               icon="📦")
    if st.button("Import them", key="import_legacy"):
        with widgets.guard(stop=False):
            done = import_legacy(store, store.backend.where)
            session.flash("Imported: " + ", ".join(f"{md(r['collection'])} ({r.get('points', 0):,} points)"
                                                   if "points" in r else f"{md(r['collection'])} skipped: "
                                                   f"{md(r['skipped'])}" for r in done) + ".")
            st.rerun()


def collections_table(shown: list[dict], hidden: int) -> None:
    """The collections this session may see, how many it may not, and whether an HNSW graph is being built."""
    if shown:
        table = pd.DataFrame(shown).drop(columns=["yours"])
        table["shared"] = table["shared"].map({True: "shared", False: "private"})
        st.dataframe(table, hide_index=True, width="stretch")
    else:
        st.info("No collection yet: index the current corpus below.", icon="📭")
    if hidden:
        st.caption(f"{hidden:,} private collections of other sessions are not listed (they hold other people's "
                   "corpora).")
    if any(r["search"].startswith("exact (HNSW") for r in shown):
        st.info("An HNSW graph is being built in a separate process; until it is ready those collections are "
                "searched exactly (correct, a little slower). The table updates when you rerun the page.", icon="🏗️")
        st.button("Check again", key="refresh")


def manage_collections(store: Store, listed: dict[str, dict]) -> None:
    """Share, unshare, rename or delete one of this session's collections."""
    own = [n for n, r in listed.items() if r["yours"]]
    r1, r2, r3 = st.columns([2, 2, 1])
    target = r1.selectbox("Collection", own, key="manage_collection", index=None, placeholder="Pick one…")
    new_name = r2.text_input("New name", key="new_name").strip()
    st.caption("Collections other sessions shared are read-only for you; the ones they keep private are not listed.")
    with widgets.guard(stop=False):
        if target is not None:
            now = listed[target]["shared"]
            if r3.button("Make private" if now else "Share with the class", key="share"):
                store.share(target, not now)
                session.flash(f"{md(target)} is now " + ("private to this session." if now else
                                                         "shared with the class, read-only for the others."))
                st.rerun()
        if r3.button("Rename", key="rename", disabled=target is None or not new_name):
            store.rename(target, new_name)
            session.flash(f"Renamed {md(target)} to {md(new_name)}.")
            st.rerun()
        if r3.button("Delete", key="delete", disabled=target is None):
            store.delete(target)
            session.flash(f"Deleted {md(target)}.")
            st.rerun()


def copy_collection(store: Store, listed: dict[str, dict], me: str) -> None:
    """Copy a collection this session may see to another store (a server URL, or empty: the embedded one)."""
    st.caption("Moves a class demo to a shared Qdrant cluster unchanged: vectors (dense and BM25), payload and the "
               "model tag. The target is a server URL, or empty for this machine's embedded store. The copy is "
               "yours, private until you share it.")
    c1, c2, c3 = st.columns([2, 2, 1])
    source = c1.selectbox("Collection", list(listed), key="copy_collection", index=None, placeholder="Pick one…")
    target_url = c2.text_input("To (server URL, empty: embedded)", key="copy_target").strip()
    with widgets.guard(stop=False):
        if c3.button("Copy", key="copy", disabled=source is None):
            other = resources.store(me, url=target_url)
            if other.where == store.where:
                raise VecexploreError("The target is the store this collection is in: give another one.")
            done = store.copy(source, other)
            session.flash(f"Copied {md(source)}: {done['points']:,} points to the {md(done['to'])}.")
            st.rerun()


def filter_widgets(store: Store, name: str) -> list[FieldFilter]:
    """A filter on one payload field: a numeric range, or any of its values."""
    kinds = {f: kind for f, kind in store.fields(name).items() if f not in ("text", "source")}
    f1, f2 = st.columns([1, 3])
    field = f1.selectbox("Filter on", list(kinds), key="filter_field", index=None, placeholder="no filter")
    if field is not None and kinds[field] in ("integer", "float"):
        known = [v for v in store.values(name, field) if isinstance(v, int | float)]
        lo_default, hi_default = (float(min(known)), float(max(known))) if known else (0.0, 0.0)
        g1, g2 = f2.columns(2)
        lo = g1.number_input(f"{md(field)} from", value=lo_default, key=f"filter_lo_{field}")
        hi = g2.number_input("to", value=hi_default, key=f"filter_hi_{field}")
        return [FieldFilter(field, lo=lo, hi=hi)]
    if field is not None:
        picked = f2.multiselect(f"{md(field)} is any of", store.values(name, field), key=f"filter_values_{field}",
                                placeholder="pick one or more values")
        return [FieldFilter(field, values=tuple(picked))] if picked else []
    return []


def show_hits(hits: list, eset: EmbeddingSet, qset: EmbeddingSet, query: str, hybrid: bool,
              filters: list[FieldFilter]) -> None:
    """The hits as a table, then ringed on a PCA map of the corpus with the query placed on it."""
    table = pd.DataFrame({"rank": range(1, len(hits) + 1), "score": [round(h.score, 4) for h in hits],
                          "text": [h.text for h in hits], "label": [h.payload.get("label") for h in hits]})
    st.caption("Scores: cosine" + (" — hybrid scores are reciprocal-rank-fusion points, not cosines."
                                   if hybrid else ".") + (f" Filter: {md(filters[0].describe())}." if filters
                                                          else ""))
    st.dataframe(table, hide_index=True, width="stretch")
    by_id = {point_id(t): i for i, t in enumerate(eset.texts)}
    rings = np.array([by_id[h.id] for h in hits if h.id in by_id], dtype=int)
    if eset.n < 2:
        st.caption("No map of the hits: a map needs at least 2 texts; add more texts to the corpus.")
        return
    proj = pca(eset)
    fig = figure(proj.embedding_, eset.labels, eset.texts, drawn_points(eset.n), None, {"hits": rings},
                 (query, proj.transform(qset.vectors)))
    st.plotly_chart(fig, width="stretch", key="search_map")
    sampled = f" (a seeded sample of {DRAW_LIMIT:,} of the {eset.n:,} texts is drawn)" if eset.n > DRAW_LIMIT else ""
    st.caption(f"The hits ringed on a PCA map of the corpus{sampled}; the query is placed with the same PCA.")


def show_retrieval(report: RetrievalReport, n_unknown: int, texts: list[str]) -> None:
    """Recall@k, MRR@10 and nDCG@10 on average, then per query with its hard negatives."""
    result, text_of = report.result, {point_id(t): t for t in texts}
    m1, m2, m3 = st.columns(3)
    m1.metric(f"Recall@{result['k']}", f"{result['mean']['recall']:.3f}")
    m2.metric("MRR@10", f"{result['mean']['mrr']:.3f}")
    m3.metric("nDCG@10", f"{result['mean']['ndcg']:.3f}")
    if n_unknown:
        st.warning(f"{n_unknown} relevant texts are not in the corpus and were ignored.", icon="🧹")
    for note in report.notes:
        st.info(md(note), icon="ℹ️")
    st.dataframe(pd.DataFrame([{"query": q, **{m: round(v, 4) for m, v in metrics.items()},
                                "hard negatives": " | ".join(text_of.get(d, d) for _, d in report.hard_negatives[q])}
                               for q, metrics in result["per_query"].items()]), hide_index=True, width="stretch")


def compression_chart(rows: pd.DataFrame) -> go.Figure:
    """Recall against bytes per vector: one colour per method, a filled mark with rescoring and an open one on the
    codes alone (text marks would overlap)."""
    fig = go.Figure()
    for n, (method, group) in enumerate(rows.groupby("method", sort=False)):
        for _, row in group.iterrows():
            rescored = row["rescoring"] not in ("none", "—")
            fig.add_trace(go.Scatter(
                x=[row["bytes_per_vector"]], y=[row["recall"]], mode="markers", legendgroup=method,
                name=plain(method + (" + rescoring" if rescored else "")),
                marker=dict(size=13, color=palette(n), symbol="circle" if rescored or row["rescoring"] == "—"
                            else "circle-open", line=dict(width=2, color=palette(n))),
                hovertemplate="%{fullData.name}: %{x} bytes, recall %{y:.3f}<extra></extra>"))
    low, high = rows["bytes_per_vector"].min(), rows["bytes_per_vector"].max()
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="v", x=1.02, y=1),
                      xaxis=dict(type="log", title="bytes per vector (log)",
                                 range=[np.log10(low) - 0.15, np.log10(high) + 0.15]),
                      yaxis=dict(title="recall@10", range=[-0.02, 1.06]))
    return fig


def show_compression(compression: CompressionReport) -> None:
    rows = pd.DataFrame(compression.rows)
    st.plotly_chart(compression_chart(rows), width="stretch", key="compression_chart")
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(f"{compression.n:,} vectors of {compression.dims} dimensions; bytes are the codes' nominal size. "
               "Query times come from this machine and this corpus size.")
