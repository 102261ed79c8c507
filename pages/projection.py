"""Projection: the corpus as a 2-D/3-D map, with neighbours from the original space and how far to trust it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages.ui import resources, session, widgets
from pages.ui.figures import DRAW_LIMIT, drawn_points, figure
from pages.ui.text import md
from vecexplore.clusters import kmeans_labels
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.export import coordinates_frame, to_parquet_bytes, to_tf_projector
from vecexplore.neighbors import cosine_neighbors, point_neighbors
from vecexplore.projection import Projector
from vecexplore.reports.maps import MapReport, map_report

QUALITY_SAMPLE = 3000
PICKER_LIMIT = 5_000  # above this, a text is picked by number (a list of every text would be megabytes)


@st.cache_resource(show_spinner=False, max_entries=8)
def map_of(_eset: EmbeddingSet, space: tuple, params: tuple, k: int) -> MapReport:
    """The map of a set and its quality, kept per process; keyed by the set's space and corpus (``space``), so
    the vectors are not hashed on every rerun."""
    return map_report(_eset, Projector(**dict(params)), k, QUALITY_SAMPLE, cache=resources.projections())


@st.cache_data(show_spinner="Clustering…", max_entries=8)
def clusters(vectors: np.ndarray, n_clusters: int) -> list[str]:
    return [f"cluster {c}" for c in kmeans_labels(vectors, n_clusters)]


def neighbour_table(eset: EmbeddingSet, idx: np.ndarray, sims: np.ndarray) -> None:
    table = pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "#": idx, "cosine": np.round(sims, 4),
                          "text": [eset.texts[i] for i in idx]})
    if eset.labels is not None:
        table.insert(3, "label", [eset.labels[i] for i in idx])
    st.dataframe(table, hide_index=True, width="stretch")


def selected_points(event_state) -> list[int]:
    """Row indices of the points picked on the map (click, box or lasso)."""
    points = (event_state or {}).get("selection", {}).get("points", [])
    out = []
    for p in points:
        data = p.get("customdata")
        if data is not None:
            out.append(int(data[0] if isinstance(data, list | tuple) else data))
    return list(dict.fromkeys(out))


st.title("🗺️ Projection")
with st.expander("What am I looking at?"):
    st.markdown(widgets.teaching("projection"))

eset, stats = session.embeddings()

c1, c2, c3, c4 = st.columns([1.2, 0.8, 1.2, 1.2])
method = c1.radio("Method", ["umap", "pca", "tsne"], format_func=str.upper, horizontal=True, key="method")
dims = c2.radio("Dimensions", [2, 3], horizontal=True, key="dims", format_func=lambda d: f"{d}-D")
colour = c3.radio("Colour by", ["label", "cluster", "none"], horizontal=True, key="colour",
                  index=0 if eset.labels is not None else 1)
k = c4.slider("Neighbours k", 3, 30, 10, key="k", help="For the neighbour list and both quality scores.")
with st.expander("Method settings"):
    s1, s2, s3 = st.columns(3)
    n_neighbors = s1.slider("UMAP n_neighbors", 2, 100, 15, key="n_neighbors")
    min_dist = s2.slider("UMAP min_dist", 0.0, 1.0, 0.1, 0.05, key="min_dist")
    n_clusters = s3.slider("k-means clusters", 2, 20, 5, key="n_clusters")

widgets.data_flow(eset, stats, f"{method.upper()} {dims}-D map")

if colour == "label" and eset.labels is None:
    st.info("This corpus has no labels: colouring by k-means cluster instead.", icon="🎨")
    colour = "cluster"
groups = None
if colour == "label":
    groups = eset.labels
elif colour == "cluster" and eset.n > 2:  # fewer texts: no clusters to find, and no map either (below)
    with widgets.guard():
        groups = clusters(eset.vectors, min(n_clusters, eset.n))

drawn = drawn_points(eset.n)
if eset.n > DRAW_LIMIT:
    if st.checkbox(f"Draw every point ({eset.n:,}; slower to send and to pan)", key="draw_all"):
        drawn = drawn_points(eset.n, None)
    else:
        st.info(f"Drawing a seeded sample of {DRAW_LIMIT:,} of the {eset.n:,} texts to keep the browser "
                "responsive. Neighbours, metrics and downloads use every text.", icon="🎯")

wanted = Projector(method, n_components=dims, n_neighbors=n_neighbors, min_dist=min_dist)
params = tuple(sorted(wanted.get_params().items()))
with widgets.guard():
    if method != "pca" and resources.projections().get(eset.vectors, wanted) is None:
        # the map is usable at once: PCA (a second or less) while UMAP / t-SNE computes
        preview = st.empty()
        pca, _ = resources.projections().fit(eset.vectors, Projector("pca", n_components=dims))
        with preview.container():
            st.info(f"PCA map shown while {method.upper()} computes; it replaces this map when ready.", icon="⏳")
            st.plotly_chart(figure(pca.embedding_, groups, eset.texts, drawn), key="preview",
                            config={"displaylogo": False}, width="stretch")
        with st.status(f"Computing the {method.upper()} map of {eset.n:,} texts…", expanded=False) as status:
            st.write("The first UMAP in a fresh process compiles its code (numba; the app starts that in the "
                     "background when it opens). Maps are kept on disk: the same corpus and settings load at once.")
            report = map_of(eset, session.space_key(eset), params, k)
            status.update(label=f"{method.upper()} map ready", state="complete")
        preview.empty()
    else:
        report = map_of(eset, session.space_key(eset), params, k)
proj, coords, used = report.projector, report.coords, report.method
ratio = getattr(proj, "explained_variance_ratio_", None)
for note in report.notes:
    st.warning(md(note), icon="🔁")

picked = selected_points(st.session_state.get("map"))
if picked and picked != st.session_state.get("_last_picked"):
    st.session_state["_last_picked"] = picked
    st.session_state["focus"] = picked[0]

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

map_slot = st.container()
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
with map_slot:
    fig = figure(coords, groups, eset.texts, drawn, focus, ring_sets, query_mark)
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
    st.subheader(f"{len(picked):,} points selected on the map")
    chosen = pd.DataFrame({"#": picked, "text": [eset.texts[i] for i in picked]})
    if eset.labels is not None:
        chosen["label"] = [eset.labels[i] for i in picked]
    st.dataframe(chosen, hide_index=True, width="stretch", height=220)

st.subheader("Download")
d1, d2, d3, d4 = st.columns(4)  # files are made when clicked (a 100k-text vectors.tsv is hundreds of MB)
d1.download_button("Coordinates (CSV)", lambda: coordinates_frame(eset, coords, used).to_csv(index=False),
                   "coordinates.csv", "text/csv", on_click="ignore")
d2.download_button("Coordinates (Parquet)", lambda: to_parquet_bytes(coordinates_frame(eset, coords, used)),
                   "coordinates.parquet", on_click="ignore")
d3.download_button("vectors.tsv", lambda: to_tf_projector(eset)[0], "vectors.tsv", "text/tab-separated-values",
                   on_click="ignore")
d4.download_button("metadata.tsv", lambda: to_tf_projector(eset)[1], "metadata.tsv", "text/tab-separated-values",
                   on_click="ignore")
st.caption("vectors.tsv + metadata.tsv load into projector.tensorflow.org, or back into vecexplore.")
