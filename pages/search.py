"""Search: index the corpus into a tagged Qdrant collection, search it, see the hits on the map, measure it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import links, resources, session, widgets
from pages.ui.figures import DRAW_LIMIT, drawn_points, figure, palette
from pages.ui.links import Param
from pages.ui.text import md, plain
from vecexplore.errors import VecexploreError
from vecexplore.maps.projection import Projector
from vecexplore.search.compression import compression_report
from vecexplore.search.opening import import_legacy, legacy_collections
from vecexplore.search.qdrant.backend import DISTANCES
from vecexplore.search.qdrant.filters import FieldFilter
from vecexplore.search.report import qrels_from_pairs, retrieval_report, search_report
from vecexplore.search.store import HNSW_MIN_POINTS, default_name, point_id
from vecexplore.validation import LIMITS


@st.cache_resource(show_spinner="Drawing the map…", max_entries=4)
def pca(vectors: np.ndarray) -> Projector:
    return Projector("pca").fit(vectors)


def track_default(default: str, store) -> None:
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


st.title("🔎 Search")
links.page([Param("collection"), Param("distance", options=list(DISTANCES)), Param("search_query"),
            Param.limited("search_k", int, "search_k"), Param("hybrid", bool),
            Param("exact", bool)], "search")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("search"))

eset, stats = session.embeddings()
widgets.data_flow(eset, stats, "Qdrant collection → search")
sel = st.session_state.selection
me = session.session_id()
default = default_name(sel.corpus.name, eset.model_id, sel.corpus.fingerprint, me)
with widgets.guard():
    store = resources.store(me)
    shown, hidden = store.collections(), store.n_hidden()

st.header("Collections")
st.caption(f"In the {md(store.where)}.")
session.show_flash()
old = legacy_collections(store.backend.where) if store.backend.kind == "edge" else []
if old:
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
    st.info("An HNSW graph is being built in a separate process; until it is ready those collections are searched "
            "exactly (correct, a little slower). The table updates when you rerun the page.", icon="🏗️")
    st.button("Check again", key="refresh")
track_default(default, store)
i1, i2, i3 = st.columns([2, 1, 1])
name = i1.text_input("Collection", key="collection").strip()
distance = i2.selectbox("Distance (new collections)", list(DISTANCES), key="distance")
share = i2.checkbox("Share with the class", key="share_new", help="Other sessions may list and search a shared "
                    "collection, read-only; only you can add to, rename or delete it. You can share or unshare it "
                    "later below.")
i1.caption("🌐 **Shared** once indexed: every session on this server can list and search it, read-only." if share
           else "🔒 **Private** to this session until you share it: no other session can list, search or change it.")
i3.write("")
if i3.button("Index the corpus", type="primary", key="index"):
    with widgets.guard(stop=False):
        bar = st.progress(0.0, text=f"Indexing {eset.n:,} texts into {md(name)}…")
        result = store.index(name, eset, distance=distance, source=sel.corpus.name, columns=sel.corpus.columns,
                             shared=share, build="background",
                             progress=lambda done, total: bar.progress(done / total, text=f"{done:,} / {total:,}"))
        bar.empty()
        mode = (f"searched exactly (under {HNSW_MIN_POINTS:,} points)" if result["search"] == "exact" else
                "its HNSW graph is building in the background; searches are exact until it is ready")
        session.flash(f"Indexed into {md(name)}: {result['points']:,} points ({eset.n:,} texts sent, "
                      f"{result['unique_texts']:,} distinct) in {result['seconds']:.1f} s; {mode}.")
        st.rerun()
with st.expander("Share, rename or delete a collection of yours"):
    listed = {r["name"]: r for r in shown}
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
with st.expander("Copy a collection to a Qdrant server, or back"):
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

st.header("Search")
if name not in listed:
    st.info(f"Index the corpus into {md(name)} first.", icon="👆")
    st.stop()
imported = sel.corpus.vectors is not None
s1, s2, s3 = st.columns([3, 1, 1])
if imported:
    st.info("These vectors were imported without their model, so a typed query cannot be embedded in their space. "
            "Search by example instead: pick a text of the corpus and find its neighbours in the collection.",
            icon="🧭")
    example = s1.selectbox("Query: a text of the corpus", range(eset.n), key="search_example", index=None,
                           format_func=lambda i: f"#{i} · {eset.texts[i][:90]}", placeholder="Pick a text…")
    query = "" if example is None else eset.texts[example]
else:
    example = None
    query = s1.text_input("Query", key="search_query", placeholder="e.g. how to keep bread fresh")
k = s2.number_input("k", int(LIMITS["search_k"].lo), int(LIMITS["search_k"].hi), 10, key="search_k")
hybrid = s3.toggle("Hybrid (dense + BM25)", key="hybrid")
exact = s3.toggle("Exact", key="exact", help="Score every vector instead of walking the HNSW graph (collections "
                  f"under {HNSW_MIN_POINTS:,} points are always exact).")
tag = store.tag(name)
if hybrid:
    st.caption(f"Keyword half: {md(tag.bm25_settings.describe())}; fused with the dense ranking by reciprocal "
               "rank fusion (k = 60).")
filters: list[FieldFilter] = []
with widgets.guard(stop=False):
    kinds = {f: kind for f, kind in store.fields(name).items() if f not in ("text", "source")}
    f1, f2 = st.columns([1, 3])
    field = f1.selectbox("Filter on", list(kinds), key="filter_field", index=None, placeholder="no filter")
    if field is not None and kinds[field] in ("integer", "float"):
        known = [v for v in store.values(name, field) if isinstance(v, int | float)]
        lo_default, hi_default = (float(min(known)), float(max(known))) if known else (0.0, 0.0)
        g1, g2 = f2.columns(2)
        lo = g1.number_input(f"{md(field)} from", value=lo_default, key=f"filter_lo_{field}")
        hi = g2.number_input("to", value=hi_default, key=f"filter_hi_{field}")
        filters = [FieldFilter(field, lo=lo, hi=hi)]
    elif field is not None:
        picked = f2.multiselect(f"{md(field)} is any of", store.values(name, field), key=f"filter_values_{field}",
                                placeholder="pick one or more values")
        filters = [FieldFilter(field, values=tuple(picked))] if picked else []
if query.strip():
    hits = None
    with widgets.guard(stop=False):
        qset = eset.subset([example]) if imported else session.queries([query.strip()])
        hits = search_report(store, name, qset, k=int(k), hybrid=hybrid, filters=filters, exact=exact).hits
    if hits is not None:
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
        else:
            proj = pca(eset.vectors)
            fig = figure(proj.embedding_, eset.labels, eset.texts, drawn_points(eset.n), None, {"hits": rings},
                         (query.strip(), proj.transform(qset.vectors)))
            st.plotly_chart(fig, width="stretch", key="search_map")
            sampled = (f" (a seeded sample of {DRAW_LIMIT:,} of the {eset.n:,} texts is drawn)"
                       if eset.n > DRAW_LIMIT else "")
            st.caption(f"The hits ringed on a PCA map of the corpus{sampled}; the query is placed with the same "
                       "PCA.")

st.header("How good is retrieval?")
st.caption("Upload a CSV of `query,relevant_text` rows (several rows per query allowed); every relevant text must be "
           "in the corpus. Recall@k, MRR@10 and nDCG@10 per query, and each query's hard negatives.")
e1, e2 = st.columns([3, 1])
qfile = e1.file_uploader("Queries and relevant texts", type=["csv"], key="qrels_file")
inputs = (name, eset.model_id, eset.model_version, int(k), hybrid, None if qfile is None else qfile.file_id,
          tuple(filters))
if e2.button("Evaluate", key="evaluate"):
    session.forget("retrieval")
    with widgets.guard(stop=False):
        if qfile is None:
            raise VecexploreError("Upload a query,relevant_text CSV first.")
        try:
            frame = pd.read_csv(qfile, dtype=str, keep_default_na=False)
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise VecexploreError(f"{qfile.name} is not a readable UTF-8 CSV: {exc}") from exc
        if frame.shape[1] < 2:
            raise VecexploreError("The CSV needs two columns: query and relevant_text.")
        queries, qrels, n_unknown = qrels_from_pairs(frame.iloc[:, :2].itertuples(index=False), eset.texts)
        report = retrieval_report(store, name, queries, session.queries(list(queries)), qrels, k=int(k),
                                  hybrid=hybrid, filters=filters)
        session.remember("retrieval", inputs, (report, n_unknown))
retrieval = session.recall("retrieval", inputs)
if retrieval is not None:
    report, n_unknown = retrieval
    result, text_of = report.result, {point_id(t): t for t in eset.texts}
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

st.header("Compression lab")
st.caption("Qdrant's own quantizations, each built on your vectors in a scratch Qdrant Edge shard, and truncation "
           "to the first dimensions: recall@10 against exact float32 search with 200 of your texts as queries, "
           "bytes per vector, and the median query time. Open marks: the codes alone; filled: with Qdrant's "
           "rescoring of a 4× oversampled shortlist on the original vectors.")
lab_inputs = (eset.model_id, eset.model_version, sel.corpus.fingerprint)
if st.button("Measure compression", key="compress"):
    session.forget("compression")
    with widgets.guard(stop=False):
        bar = st.progress(0.0, text="Building the compressed forms…")
        report = compression_report(eset.vectors, progress=lambda done, total, label: bar.progress(
            done / total, text=f"{label} done ({done} / {total})"))
        bar.empty()
        session.remember("compression", lab_inputs, report)
compression = session.recall("compression", lab_inputs)
if compression is not None:
    rows = pd.DataFrame(compression.rows)
    st.plotly_chart(compression_chart(rows), width="stretch", key="compression_chart")
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(f"{compression.n:,} vectors of {compression.dims} dimensions; bytes are the codes' nominal size. "
               "Query times come from this machine and this corpus size.")
