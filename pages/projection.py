"""Projection: the corpus as a 2-D/3-D map that names its regions, says where to distrust it, filters, selects,
and lives in a shareable link."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages.ui import links, map_view, session, settings, widgets
from pages.ui.figures import DRAW_LIMIT
from pages.ui.links import Param
from pages.ui.map_view import Layers
from pages.ui.text import md
from vecexplore.maps.clusters import GRANULARITIES, METHODS
from vecexplore.maps.drawing import name_marks
from vecexplore.maps.neighbors import cosine_neighbors, point_neighbors
from vecexplore.maps.projection import Projector
from vecexplore.maps.report import ClusterReport, Faithfulness
from vecexplore.maps.selection import filter_mask
from vecexplore.validation import LIMITS

PICKER_LIMIT = 5_000  # above this, a text is picked by number (a list of every text would be megabytes)
DENSITY_FROM = 3_000  # the density layer is on by default from this many texts
UMAP_SLOW = 200_000  # above this the map opens on PCA: UMAP took 36 s for 1M texts here (docs/benchmarks-million)
COLOURS = ("label", "cluster", "faithfulness", "none")
FAITHFUL = ("Colour = the share of each text's k nearest neighbours (cosine, original space) that are also among its "
            "k nearest on this map: blue = its neighbourhood survived, red = the map placed it among strangers.")

PARAMS = [Param("method", options=["umap", "pca", "tsne"]), Param("dims", int, options=[2, 3]),
          Param("colour", options=COLOURS), Param.limited("k", int, "map_k"),
          Param.limited("n_neighbors", int, "n_neighbors"), Param.limited("min_dist", float, "min_dist"),
          Param("cluster_method", options=METHODS), Param.limited("n_clusters", int, "map_clusters"),
          Param("granularity", options=GRANULARITIES), Param("show_names", bool), Param("density", bool),
          Param("filter_labels", list), Param("filter_clusters", list), Param("filter_text"),
          Param("filter_regex", bool), Param("focus", int, lo=0, hi=10_000_000, optional=True), Param("query"),
          Param("zoom", list)]

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
k = settings.slider("map_k", "k", "Neighbours k", c4)
with st.expander("Method, clusters and layers"):
    s1, s2, s3, s4 = st.columns(4)
    n_neighbors = settings.slider("n_neighbors", "n_neighbors", "UMAP n_neighbors", s1)
    min_dist = settings.slider("min_dist", "min_dist", "UMAP min_dist", s2)
    cluster_method = s3.radio("Clusters", METHODS, horizontal=True, key="cluster_method",
                              format_func={"kmeans": "k-means", "hdbscan": "HDBSCAN"}.get,
                              help="Found on the original vectors (cosine), not on the map.")
    granularity = s4.radio("Granularity", GRANULARITIES, horizontal=True, key="granularity",
                           help="Fine: about three times as many, smaller clusters.")
    t1, t2, t3 = st.columns(3)
    n_clusters = settings.number("map_clusters", "n_clusters", "k-means clusters (0: choose by silhouette)", t1,
                                 disabled=cluster_method != "kmeans")
    show_names = t2.toggle("Cluster names on the map", True, key="show_names")
    density = t3.toggle("Density layer", eset.n >= DENSITY_FROM, key="density",
                        help="Contours of where the texts are dense, under the points.")

widgets.data_flow(eset, stats, f"{method.upper()} {dims}-D map")
if method == "umap" and eset.n > UMAP_SLOW:
    sample = int(LIMITS["umap_sample"].default)
    st.info(f"UMAP on {eset.n:,} texts is fitted on a seeded sample of {sample:,} texts and the others "
            "are placed from their nearest fitted texts (about 40 s for a million on 2 cores): the PCA map is shown "
            "while it computes.", icon="⏱️")

if colour == "label" and eset.labels is None:
    st.info("This corpus has no labels: colouring by cluster instead.", icon="🎨")
    colour = "cluster"

wanted = Projector(method, n_components=dims, n_neighbors=n_neighbors, min_dist=min_dist)
with widgets.guard():
    report = map_view.computed_map(eset, wanted, k)
proj, coords, used = report.projector, report.coords, report.method
for note in report.notes:
    st.warning(md(note), icon="🔁")

clustered: ClusterReport | None = None
cluster_of: list[str] | None = None
if eset.n > 2:
    with widgets.guard(stop=False):
        clustered = map_view.clusters_of(eset, cluster_method, (n_clusters or None) if cluster_method == "kmeans"
                                         else None, granularity)
        names = clustered.labeler.names_
        cluster_of = [names[c] for c in clustered.labels]
faithful: Faithfulness | None = None
if colour == "faithfulness":
    with widgets.guard(stop=False):
        faithful = map_view.faithfulness_of(eset, coords, tuple(sorted(wanted.get_params().items())), k)
if colour == "faithfulness" and faithful is None:
    colour = "cluster"
groups = eset.labels if colour == "label" else cluster_of if colour == "cluster" else None

label_filter, cluster_filter, pattern, regex = map_view.filter_widgets(eset, cluster_of)
keep = None
with widgets.guard(stop=False):
    mask = filter_mask(eset, label_filter, cluster_filter, cluster_of, pattern, regex)
    if not mask.all():
        keep = mask
        st.caption(f"Filter: {int(mask.sum()):,} of {eset.n:,} texts match.")

map_view.quality_metrics(report, eset.n)
big = eset.n > DRAW_LIMIT and dims == 2
map_slot = st.container()
picked = map_view.follow_the_map(big)

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
    map_view.draw_map(eset, coords, Layers(groups, focus, ring_sets, query_mark, values, keep, centres), big,
                      density and dims == 2)

if typed is not None:
    st.subheader("Nearest neighbours of your text (cosine, original space)")
    if used == "tsne":
        st.caption("t-SNE cannot place new points on its map; the neighbours are still exact.")
    map_view.neighbour_table(eset, *typed)
if focus is not None:
    st.subheader("Nearest neighbours (cosine, original space)")
    st.markdown(f"**#{focus}** — {md(eset.texts[focus])}")
    map_view.neighbour_table(eset, rings, sims)
if len(picked) > 1:
    map_view.show_selection(eset, picked, cluster_of)
if clustered is not None:
    map_view.show_clusters(clustered, granularity, eset.dims)
if faithful is not None:
    map_view.show_faithfulness(faithful)
map_view.downloads(eset, report, cluster_of, faithful)
