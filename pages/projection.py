"""Projection: the corpus as a 2-D/3-D map that names its regions, says where to distrust it, filters, selects,
and lives in a shareable link."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages.ui import links, resources, session, widgets
from pages.ui.density import box_range, sample_note
from pages.ui.figures import DRAW_LIMIT, drawn_points, figure
from pages.ui.links import Param
from pages.ui.text import md
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.files.export import coordinates_frame, to_parquet_bytes, to_tf_projector
from vecexplore.maps.clusters import GRANULARITIES, METHODS
from vecexplore.maps.density import check_range
from vecexplore.maps.drawing import density_map, name_marks
from vecexplore.maps.neighbors import cosine_neighbors, point_neighbors
from vecexplore.maps.projection import Projector
from vecexplore.maps.report import ClusterReport, Faithfulness, MapReport, cluster_report, faithfulness, map_report
from vecexplore.maps.selection import MAX_PATTERN, filter_mask, summarise_selection
from vecexplore.validation import LIMITS

QUALITY_SAMPLE = 3000
PICKER_LIMIT = 5_000  # above this, a text is picked by number (a list of every text would be megabytes)
DENSITY_FROM = 3_000  # the density layer is on by default from this many texts
UMAP_SLOW = 200_000  # above this the map opens on PCA: UMAP took 222 s for 1M texts here (docs/benchmarks-million)
FAITHFUL_SAMPLE = 10_000  # texts scored for faithfulness (exact k-NN among them: ~7 s at 10k on 2 cores)
COLOURS = ("label", "cluster", "faithfulness", "none")
FAITHFUL = ("Colour = the share of each text's k nearest neighbours (cosine, original space) that are also among its "
            "k nearest on this map: blue = its neighbourhood survived, red = the map placed it among strangers.")

PARAMS = [Param("method", options=["umap", "pca", "tsne"]), Param("dims", int, options=[2, 3]),
          Param("colour", options=COLOURS), Param("k", int, lo=3, hi=30),
          Param("n_neighbors", int, lo=2, hi=100), Param("min_dist", float, lo=0.0, hi=1.0),
          Param("cluster_method", options=METHODS), Param("n_clusters", int, lo=0, hi=LIMITS["clusters"].hi),
          Param("granularity", options=GRANULARITIES), Param("show_names", bool), Param("density", bool),
          Param("filter_labels", list), Param("filter_clusters", list), Param("filter_text"),
          Param("filter_regex", bool), Param("focus", int, lo=0, hi=10_000_000, optional=True), Param("query"),
          Param("zoom", list)]


@st.cache_resource(show_spinner=False, max_entries=8)
def map_of(_eset: EmbeddingSet, space: tuple, params: tuple, k: int) -> MapReport:
    """The map of a set and its quality, kept per process; keyed by the set's space and corpus (``space``), so
    the vectors are not hashed on every rerun."""
    return map_report(_eset, Projector(**dict(params)), k, QUALITY_SAMPLE, cache=resources.projections())


@st.cache_resource(show_spinner="Finding and naming clusters…", max_entries=8)
def clusters_of(_eset: EmbeddingSet, space: tuple, method: str, n_clusters: int | None,
                granularity: str) -> ClusterReport:
    return cluster_report(_eset, method, n_clusters, granularity)


@st.cache_resource(show_spinner="Scoring each text's neighbourhood on the map…", max_entries=8)
def faithfulness_of(_eset: EmbeddingSet, _coords: np.ndarray, space: tuple, params: tuple, k: int) -> Faithfulness:
    return faithfulness(_eset, _coords, k, max_points=FAITHFUL_SAMPLE)


def neighbour_table(eset: EmbeddingSet, idx: np.ndarray, sims: np.ndarray) -> None:
    table = pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "#": idx, "cosine": np.round(sims, 4),
                          "text": [eset.texts[i] for i in idx]})
    if eset.labels is not None:
        table.insert(3, "label", [eset.labels[i] for i in idx])
    st.dataframe(table, hide_index=True, width="stretch")


def selected_points(event_state) -> list[int]:
    """Row indices of the points picked on the map (click, box or lasso): each point's ``customdata[0]``, which
    the browser sends as a list, a number, or (from a typed array) an object keyed "0", "1", …"""
    points = (event_state or {}).get("selection", {}).get("points", [])
    out = []
    for p in points:
        data = p.get("customdata")
        if isinstance(data, dict):
            data = data.get("0")
        elif isinstance(data, list | tuple):
            data = data[0] if data else None
        if isinstance(data, int | float):
            out.append(int(data))
    return list(dict.fromkeys(out))


def reset_zoom() -> None:
    st.session_state.pop("zoom", None)


st.title("🗺️ Projection")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("projection"))
links.page(PARAMS, "projection")

eset, stats = session.embeddings()
if st.session_state.get("focus") is not None and st.session_state["focus"] >= eset.n:
    st.session_state["focus"] = None  # a link made on a larger corpus

c1, c2, c3, c4 = st.columns([1.2, 0.8, 1.6, 1.1])
method = c1.radio("Method", ["umap", "pca", "tsne"], format_func=str.upper, horizontal=True, key="method",
                  index=1 if eset.n > UMAP_SLOW else 0)
dims = c2.radio("Dimensions", [2, 3], horizontal=True, key="dims", format_func=lambda d: f"{d}-D")
colour = c3.radio("Colour by", COLOURS, horizontal=True, key="colour", index=0 if eset.labels is not None else 1)
k = c4.slider("Neighbours k", 3, 30, 10, key="k", help="For the neighbour list, the faithfulness colour and both "
              "quality scores.")
with st.expander("Method, clusters and layers"):
    s1, s2, s3, s4 = st.columns(4)
    n_neighbors = s1.slider("UMAP n_neighbors", 2, 100, 15, key="n_neighbors")
    min_dist = s2.slider("UMAP min_dist", 0.0, 1.0, 0.1, 0.05, key="min_dist")
    cluster_method = s3.radio("Clusters", METHODS, horizontal=True, key="cluster_method",
                              format_func={"kmeans": "k-means", "hdbscan": "HDBSCAN"}.get,
                              help="Found on the original vectors (cosine), not on the map.")
    granularity = s4.radio("Granularity", GRANULARITIES, horizontal=True, key="granularity",
                           help="Fine: about three times as many, smaller clusters.")
    t1, t2, t3 = st.columns(3)
    n_clusters = t1.number_input("k-means clusters (0: choose by silhouette)", 0, int(LIMITS["clusters"].hi), 0,
                                 key="n_clusters", disabled=cluster_method != "kmeans")
    show_names = t2.toggle("Cluster names on the map", True, key="show_names")
    density = t3.toggle("Density layer", eset.n >= DENSITY_FROM, key="density",
                        help="Contours of where the texts are dense, under the points.")

widgets.data_flow(eset, stats, f"{method.upper()} {dims}-D map")
if method == "umap" and eset.n > UMAP_SLOW:
    st.info(f"UMAP on {eset.n:,} texts takes minutes on a small server (about 4 minutes for a million on 2 cores): "
            "the PCA map is shown while it computes.", icon="⏱️")

if colour == "label" and eset.labels is None:
    st.info("This corpus has no labels: colouring by cluster instead.", icon="🎨")
    colour = "cluster"

wanted = Projector(method, n_components=dims, n_neighbors=n_neighbors, min_dist=min_dist)
params = tuple(sorted(wanted.get_params().items()))
space = session.space_key(eset)
with widgets.guard():
    if method != "pca" and resources.projections().get(eset.vectors, wanted) is None:
        # the map is usable at once: PCA (a second or less) while UMAP / t-SNE computes
        preview = st.empty()
        pca, _ = resources.projections().fit(eset.vectors, Projector("pca", n_components=dims))
        with preview.container():
            st.info(f"PCA map shown while {method.upper()} computes; it replaces this map when ready.", icon="⏳")
            st.plotly_chart(figure(pca.embedding_, eset.labels, eset.texts, drawn_points(eset.n)), key="preview",
                            config={"displaylogo": False}, width="stretch")
        with st.status(f"Computing the {method.upper()} map of {eset.n:,} texts…", expanded=False) as status:
            st.write("The first UMAP in a fresh process compiles its code (numba; the app starts that in the "
                     "background when it opens). Maps are kept on disk: the same corpus and settings load at once.")
            report = map_of(eset, space, params, k)
            status.update(label=f"{method.upper()} map ready", state="complete")
        preview.empty()
    else:
        report = map_of(eset, space, params, k)
proj, coords, used = report.projector, report.coords, report.method
ratio = getattr(proj, "explained_variance_ratio_", None)
for note in report.notes:
    st.warning(md(note), icon="🔁")

clustered: ClusterReport | None = None
cluster_of: list[str] | None = None
if eset.n > 2:
    with widgets.guard(stop=False):
        clustered = clusters_of(eset, space, cluster_method, (n_clusters or None) if cluster_method == "kmeans"
                                else None, granularity)
        names = clustered.labeler.names_
        cluster_of = [names[c] for c in clustered.labels]
faithful: Faithfulness | None = None
if colour == "faithfulness":
    with widgets.guard(stop=False):
        faithful = faithfulness_of(eset, coords, space, params, k)
if colour == "faithfulness" and faithful is None:
    colour = "cluster"
groups = eset.labels if colour == "label" else cluster_of if colour == "cluster" else None

with st.expander("Filter and select", expanded=any(st.session_state.get(key) for key in
                                                   ("filter_labels", "filter_clusters", "filter_text"))):
    f1, f2, f3, f4 = st.columns([1, 1, 1.2, 0.6])
    label_filter = f1.multiselect("Labels", sorted(set(eset.labels)) if eset.labels is not None else [],
                                  key="filter_labels", disabled=eset.labels is None, placeholder="any label")
    cluster_filter = f2.multiselect("Clusters", sorted(set(cluster_of or [])), key="filter_clusters",
                                    placeholder="any cluster")
    pattern = f3.text_input("Text contains", key="filter_text", placeholder="e.g. goal or ^The",
                            max_chars=MAX_PATTERN)
    regex = f4.toggle("Regular expression", key="filter_regex")
    st.caption("Texts outside the filter stay on the map, greyed. Select texts with the lasso (or a box) on the "
               "map to list them, see their words and download them.")
keep = None
with widgets.guard(stop=False):
    mask = filter_mask(eset, label_filter, cluster_filter, cluster_of, pattern, regex)
    if not mask.all():
        keep = mask
        st.caption(f"Filter: {int(mask.sum()):,} of {eset.n:,} texts match.")

m1, m2, m3, m4 = st.columns(4)
q = report.quality
if q.k is not None:
    sampled = f" (sample of {q.sample:,})" if eset.n > q.sample else ""
    m1.metric("Trustworthiness", f"{q.trustworthiness:.3f}", help=f"sklearn's trustworthiness at k = {q.k}{sampled}: "
              "1 = every neighbour on the map is a true neighbour.")
    m2.metric(f"Share of {q.k}-NN kept", f"{q.knn_kept:.1%}", help="Of each text's k cosine nearest neighbours in "
              f"the original space, the share also among its k nearest on the map{sampled}.")
else:
    m1.metric("Trustworthiness", "n/a", help="Needs at least 5 texts.")
m3.metric("Method used", used.upper())
if ratio is not None:
    m4.metric("Variance shown", f"{sum(ratio):.1%}", help="Share of the variance of the unit-length vectors "
              "captured by the PCA axes drawn.")
else:
    m4.metric("Points", f"{eset.n:,}")

big = eset.n > DRAW_LIMIT and dims == 2
map_slot = st.container()
picked = selected_points(st.session_state.get("map"))
if picked and picked != st.session_state.get("_last_picked"):
    st.session_state["_last_picked"] = picked
    if len(picked) == 1:
        st.session_state["focus"] = picked[0]
if big:
    window = box_range(st.session_state.get("map"))
    if window is not None and st.session_state.get("_last_box") != window:
        st.session_state["_last_box"] = window
        st.session_state["zoom"] = [repr(v) for v in (*window[0], *window[1])]

p1, p2 = st.columns(2)
if eset.n <= PICKER_LIMIT:
    focus = p1.selectbox("Neighbours of a text (or click a point on the map)", range(eset.n), key="focus",
                         format_func=lambda i: f"#{i} · {eset.texts[i][:90]}", index=None, placeholder="Pick a text…")
else:
    focus = p1.number_input(f"Neighbours of text # (0–{eset.n - 1:,}; or click a point on the map)", 0, eset.n - 1,
                            value=None, key="focus", placeholder="Type a number…")
query = p2.text_input("…or of a new text you type", key="query", placeholder="e.g. The match went to extra time")
rings, sims = np.array([], dtype=int), np.array([])
if focus is not None:
    rings, sims = point_neighbors(eset.vectors, focus, k)
typed = query_mark = None  # the typed text's neighbours (indices, cosines) and its place on the map
if query.strip():
    with widgets.guard(stop=False):  # a text the model cannot see is refused; the map is still drawn
        qvec = session.embed_query([query.strip()])
        q_idx, q_sims = cosine_neighbors(eset.vectors, qvec, k)
        typed = (q_idx[0], q_sims[0])
        if used != "tsne":
            query_mark = (query.strip(), proj.transform(qvec))

ring_sets = {"neighbours": rings}
if typed is not None:
    ring_sets["neighbours of your text"] = typed[0]
centres = {}
if clustered is not None and show_names and coords.shape[0] == len(clustered.labels):
    centres = name_marks(coords, clustered.labels, names)
values = ("k-NN kept", faithful.per_point()) if faithful is not None else None
with map_slot:
    if colour == "faithfulness":
        st.caption(f"🎨 {FAITHFUL.replace('k nearest', f'{faithful.k} nearest')}")
    if big:
        zoom = st.session_state.get("zoom")
        with widgets.guard(stop=False):
            try:  # the zoom comes from a box drawn on the map, or a link (a hand-edited one shows the whole map)
                window = (check_range(zoom[:2], "x range"), check_range(zoom[2:], "y range")) if zoom else None
            except VecexploreError:
                window = None  # the whole map
            drawn_map = density_map(coords, window, eset.texts, groups, focus, ring_sets, query_mark, values, keep,
                                    centres)
            st.plotly_chart(drawn_map.figure, key="map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                            config={"displaylogo": False}, width="stretch")
            st.caption(f"🔍 {sample_note(drawn_map.image, drawn_map.shown, eset.n)}")
            if zoom:
                st.button("Show the whole map", on_click=reset_zoom, key="reset_zoom")
    else:
        drawn = drawn_points(eset.n)
        if eset.n > DRAW_LIMIT:
            if st.checkbox(f"Draw every point ({eset.n:,}; slower to send and to pan)", key="draw_all"):
                drawn = drawn_points(eset.n, None)
            else:
                st.info(f"Drawing a seeded sample of {DRAW_LIMIT:,} of the {eset.n:,} texts to keep the browser "
                        "responsive. Neighbours, metrics and downloads use every text.", icon="🎯")
        fig = figure(coords, groups, eset.texts, drawn, focus, ring_sets, query_mark, values, keep, centres,
                     density and dims == 2)
        st.plotly_chart(fig, key="map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                        config={"scrollZoom": True, "displaylogo": False}, width="stretch")

if typed is not None:
    st.subheader("Nearest neighbours of your text (cosine, original space)")
    if used == "tsne":
        st.caption("t-SNE cannot place new points on its map; the neighbours are still exact.")
    neighbour_table(eset, *typed)
if focus is not None:
    st.subheader("Nearest neighbours (cosine, original space)")
    st.markdown(f"**#{focus}** — {md(eset.texts[focus])}")
    neighbour_table(eset, rings, sims)

if len(picked) > 1:
    st.subheader(f"{len(picked):,} texts selected on the map")
    chosen = summarise_selection(eset, picked, cluster_of)
    if chosen.top_words:
        st.markdown("**Most distinctive words of the selection:** " + md(", ".join(chosen.top_words)))
    st.dataframe(chosen.table, hide_index=True, width="stretch", height=240)
    e1, e2 = st.columns(2)
    e1.download_button("Selection (CSV)", chosen.table.to_csv(index=False), "selection.csv", "text/csv",
                       on_click="ignore", key="selection_csv")
    e2.download_button("Selection (Parquet)", to_parquet_bytes(chosen.table), "selection.parquet",
                       on_click="ignore", key="selection_parquet")

if clustered is not None:
    st.subheader("Clusters")
    fitted = clustered.labeler
    how = (f"k-means, k = {fitted.k_}" + (" chosen by silhouette" if fitted.k_scores_ else "")
           if fitted.method == "kmeans" else f"HDBSCAN, min cluster size {fitted.min_cluster_size_}")
    purity = ("" if clustered.purity is None else
              f" · purity against the labels {clustered.purity.overall:.1%} (share of texts in their cluster's "
              "majority label)")
    st.caption(f"{how} · {granularity} · {fitted.n_clusters_} clusters, found on the original {eset.dims}-d "
               f"vectors and named by their most distinctive words (class-based TF-IDF){purity}.")
    for note in fitted.notes_:
        st.caption(md(note))
    rows = clustered.clusters()
    table = pd.DataFrame({"cluster": [r["name"] for r in rows], "size": [r["size"] for r in rows],
                          "top words": [", ".join(r["top_words"]) for r in rows],
                          "central texts": [" ‖ ".join(r["central_texts"]) for r in rows]})
    if clustered.purity is not None:
        table["majority label"] = [r["majority_label"] for r in rows]
        table["purity"] = [r["purity"] for r in rows]
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "purity": st.column_config.ProgressColumn("purity", format="percent", min_value=0.0, max_value=1.0)})

if faithful is not None:
    st.subheader("Where to distrust the map")
    st.caption(f"Mean share of {faithful.k}-NN kept {faithful.mean:.1%}; {faithful.share_below_half:.1%} of the "
               "scored texts keep fewer than half of their true neighbours on the map.")
    for note in faithful.notes:
        st.caption(md(note))
    worst = faithful.worst(10)
    st.dataframe(pd.DataFrame({"#": [w["index"] for w in worst], "text": [w["text"] for w in worst],
                               "k-NN kept": [w["kept"] for w in worst],
                               "true neighbours (original space)": [" ‖ ".join(w["true_neighbours"][:5])
                                                                    for w in worst]}),
                 hide_index=True, width="stretch")

st.subheader("Download")
d1, d2, d3, d4 = st.columns(4)  # files are made when clicked (a 100k-text vectors.tsv is hundreds of MB)


def coordinates() -> pd.DataFrame:
    frame = coordinates_frame(eset, coords, used)
    if cluster_of is not None:
        frame["cluster"] = cluster_of
    if faithful is not None:
        frame["knn_kept"] = faithful.per_point()
    return frame


d1.download_button("Coordinates (CSV)", lambda: coordinates().to_csv(index=False), "coordinates.csv", "text/csv",
                   on_click="ignore")
d2.download_button("Coordinates (Parquet)", lambda: to_parquet_bytes(coordinates()), "coordinates.parquet",
                   on_click="ignore")
d3.download_button("vectors.tsv", lambda: to_tf_projector(eset)[0], "vectors.tsv", "text/tab-separated-values",
                   on_click="ignore")
d4.download_button("metadata.tsv", lambda: to_tf_projector(eset)[1], "metadata.tsv", "text/tab-separated-values",
                   on_click="ignore")
st.caption("vectors.tsv + metadata.tsv load into projector.tensorflow.org, or back into vecexplore.")
