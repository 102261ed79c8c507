"""Search: index the corpus into a tagged Qdrant collection, search it, see the hits on the map, measure it."""

from __future__ import annotations

import streamlit as st

from pages.ui import collection_view, links, resources, search_view, session, settings, widgets
from pages.ui.links import Param
from pages.ui.text import md
from vecexplore.errors import VecexploreError
from vecexplore.files.pairs import QUERIES, read_pairs
from vecexplore.pipeline import IMPORTED_ID
from vecexplore.search.compression import compression_report
from vecexplore.search.qdrant.backend import DISTANCES
from vecexplore.search.qdrant.filters import FieldFilter
from vecexplore.search.report import qrels_from_pairs, retrieval_report, search_report
from vecexplore.search.store import HNSW_MIN_POINTS, default_name

st.title("🔎 Search")
links.page([Param("collection"), Param("distance", options=list(DISTANCES)), Param("search_query"),
            Param.limited("search_k", int, "search_k"), Param("hybrid", bool),
            Param("exact", bool)], "search")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("search"))
collection_view.open_collection()

eset, stats = session.embeddings()
widgets.data_flow(eset, stats, "Qdrant collection → search")
sel = st.session_state.selection
imported = eset.model_id.startswith(f"{IMPORTED_ID}:")  # opened without their model
check = None
if imported:
    eset, check = search_view.named_model(eset)
    imported = check is None
query_model = None if check is None else check.model_id
me = session.session_id()
default = default_name(sel.corpus.name, eset.model_id, sel.corpus.fingerprint, me)
with widgets.guard():
    store = resources.store(me)
    shown, hidden = store.collections(), store.n_hidden()

st.header("Collections")
st.caption(f"In the {md(store.where)}.")
session.show_flash()
search_view.offer_legacy_import(store)
search_view.collections_table(shown, hidden)
search_view.track_default(default, store)
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
listed = {r["name"]: r for r in shown}
with st.expander("Share, rename or delete a collection of yours"):
    search_view.manage_collections(store, listed)
with st.expander("Copy a collection to a Qdrant server, or back"):
    search_view.copy_collection(store, listed, me)

st.header("Search")
if name not in listed:
    st.info(f"Index the corpus into {md(name)} first.", icon="👆")
    st.stop()
s1, s2, s3 = st.columns([3, 1, 1])
if imported:
    st.info("These vectors were imported without their model, so a typed query cannot be embedded in their space. "
            "Search by example instead: pick a text of the corpus and find its neighbours in the collection; or name "
            "the model that made them above.", icon="🧭")
    example = s1.selectbox("Query: a text of the corpus", range(eset.n), key="search_example", index=None,
                           format_func=lambda i: f"#{i} · {eset.texts[i][:90]}", placeholder="Pick a text…")
    query = "" if example is None else eset.texts[example]
else:
    example = None
    query = s1.text_input("Query", key="search_query", placeholder="e.g. how to keep bread fresh")
k = settings.number("search_k", "search_k", "k", s2)
hybrid = s3.toggle("Hybrid (dense + BM25)", key="hybrid")
exact = s3.toggle("Exact", key="exact", help="Score every vector instead of walking the HNSW graph (collections "
                  f"under {HNSW_MIN_POINTS:,} points are always exact).")
tag = store.tag(name)
if hybrid:
    st.caption(f"Keyword half: {md(tag.bm25_settings.describe())}; fused with the dense ranking by reciprocal "
               "rank fusion (k = 60).")
filters: list[FieldFilter] = []
with widgets.guard(stop=False):
    filters = search_view.filter_widgets(store, name)
if query.strip():
    with widgets.guard(stop=False):
        qset = eset.subset([example]) if imported else session.queries([query.strip()], query_model)
        hits = search_report(store, name, qset, k=int(k), hybrid=hybrid, filters=filters, exact=exact).hits
        search_view.show_hits(hits, eset, qset, query.strip(), hybrid, filters)

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
        judged = read_pairs(qfile.getvalue(), qfile.name, QUERIES)
        queries, qrels, n_unknown = qrels_from_pairs(zip(judged.anchors, judged.positives, strict=True), eset.texts)
        report = retrieval_report(store, name, queries, session.queries(list(queries), query_model), qrels, k=int(k),
                                  hybrid=hybrid, notes=judged.notes, filters=filters)
        session.remember("retrieval", inputs, (report, n_unknown))
retrieval = session.recall("retrieval", inputs)
if retrieval is not None:
    search_view.show_retrieval(*retrieval, eset.texts)

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
    search_view.show_compression(compression)
