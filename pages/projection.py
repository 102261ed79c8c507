"""Projection: the corpus as a 2-D/3-D map, with neighbours from the original space and how far to trust it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages import shell
from pages.figures import figure, hover
from vecexplore.clusters import kmeans_labels
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.export import coordinates_frame, to_parquet_bytes, to_tf_projector
from vecexplore.neighbors import cosine_neighbors, point_neighbors
from vecexplore.projection import Projector, knn_kept, trustworthiness

QUALITY_SAMPLE = 3000


@st.cache_resource(show_spinner=False, max_entries=8)
def project(vectors: np.ndarray, method: str, dims: int, n_neighbors: int, min_dist: float) -> Projector:
    """A fitted projector, shared by reruns and sessions (it is only read after fitting)."""
    return Projector(method, n_components=dims, n_neighbors=n_neighbors, min_dist=min_dist).fit(vectors)


@st.cache_data(show_spinner=False, max_entries=16)
def quality(vectors: np.ndarray, coords: np.ndarray, k: int) -> dict:
    return {"trust": trustworthiness(vectors, coords, k, max_points=QUALITY_SAMPLE),
            "kept": knn_kept(vectors, coords, k, max_points=QUALITY_SAMPLE)}


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
    st.markdown(shell.teaching("projection"))

eset, stats = shell.embeddings()

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

shell.data_flow(eset, stats, f"{method.upper()} {dims}-D map")

with shell.guard():
    if method == "umap":
        with st.status("Computing the UMAP map…", expanded=False) as status:
            st.write("The first UMAP in a fresh process compiles its code (numba); later maps are quick.")
            proj = project(eset.vectors, method, dims, n_neighbors, min_dist)
            status.update(label="UMAP map ready", state="complete")
    else:
        with st.spinner(f"Computing the {method.upper()} map…"):
            proj = project(eset.vectors, method, dims, n_neighbors, min_dist)
coords, used = proj.embedding_, proj.method_
ratio = getattr(proj, "explained_variance_ratio_", None)
for note in proj.notes_:
    st.warning(note, icon="🔁")

if colour == "label" and eset.labels is None:
    st.info("This corpus has no labels: colouring by k-means cluster instead.", icon="🎨")
    colour = "cluster"
groups = None
if colour == "label":
    groups = eset.labels
elif colour == "cluster":
    with shell.guard():
        groups = clusters(eset.vectors, min(n_clusters, eset.n))

picked = selected_points(st.session_state.get("map"))
if picked and picked != st.session_state.get("_last_picked"):
    st.session_state["_last_picked"] = picked
    st.session_state["focus"] = picked[0]

m1, m2, m3, m4 = st.columns(4)
qk = min(k, (eset.n - 1) // 2 - 1)
if qk >= 1 and eset.n >= 5:
    q = quality(eset.vectors, coords, qk)
    sampled = f" (sample of {QUALITY_SAMPLE:,})" if eset.n > QUALITY_SAMPLE else ""
    m1.metric("Trustworthiness", f"{q['trust']:.3f}", help=f"sklearn's trustworthiness at k = {qk}{sampled}: "
              "1 = every neighbour on the map is a true neighbour.")
    m2.metric(f"Share of {qk}-NN kept", f"{q['kept']:.1%}", help="Of each text's k cosine nearest neighbours in "
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
focus = p1.selectbox("Neighbours of a text (or click a point on the map)", range(eset.n), key="focus",
                     format_func=lambda i: f"#{i} · {eset.texts[i][:90]}", index=None, placeholder="Pick a text…")
query = p2.text_input("…or of a new text you type", key="query", placeholder="e.g. The match went to extra time")
rings, sims = np.array([], dtype=int), np.array([])
if focus is not None:
    rings, sims = point_neighbors(eset.vectors, focus, k)
query_mark = None
if query.strip():
    with shell.guard():
        qvec = shell.embed_new([query.strip()])
        q_idx, q_sims = cosine_neighbors(eset.vectors, qvec, k)
        if used != "tsne":
            query_mark = (query.strip(), proj.transform(qvec))

hovers = [hover(t) for t in eset.texts]
with map_slot:
    fig = figure(coords, groups, hovers, focus, q_idx[0] if query.strip() else rings, query_mark,
                 "neighbours of your text" if query.strip() else "neighbours")
    st.plotly_chart(fig, key="map", on_select="rerun", selection_mode=("points", "box", "lasso"),
                    config={"scrollZoom": True, "displaylogo": False}, width="stretch")

if query.strip():
    st.subheader("Nearest neighbours of your text (cosine, original space)")
    if used == "tsne":
        st.caption("t-SNE cannot place new points on its map; the neighbours are still exact.")
    neighbour_table(eset, q_idx[0], q_sims[0])
if focus is not None:
    st.subheader("Nearest neighbours (cosine, original space)")
    st.markdown(f"**#{focus}** — {eset.texts[focus]}")
    neighbour_table(eset, rings, sims)
if len(picked) > 1:
    st.subheader(f"{len(picked):,} points selected on the map")
    chosen = pd.DataFrame({"#": picked, "text": [eset.texts[i] for i in picked]})
    if eset.labels is not None:
        chosen["label"] = [eset.labels[i] for i in picked]
    st.dataframe(chosen, hide_index=True, width="stretch", height=220)

st.subheader("Download")
frame = coordinates_frame(eset, coords, used)
vectors_tsv, metadata_tsv = to_tf_projector(eset)
d1, d2, d3, d4 = st.columns(4)
d1.download_button("Coordinates (CSV)", frame.to_csv(index=False), "coordinates.csv", "text/csv")
d2.download_button("Coordinates (Parquet)", to_parquet_bytes(frame), "coordinates.parquet")
d3.download_button("vectors.tsv", vectors_tsv, "vectors.tsv", "text/tab-separated-values")
d4.download_button("metadata.tsv", metadata_tsv, "metadata.tsv", "text/tab-separated-values")
st.caption("vectors.tsv + metadata.tsv load into projector.tensorflow.org, or back into vecexplore.")
