"""The Projection page's pieces: the map, clusters and faithfulness reports kept per process, and the sections
that show them (quality scores, filter widgets, neighbours, a selection, clusters, where to distrust the map,
downloads), each drawn from a report of :mod:`vecexplore.maps.report`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.ui import resources, widgets
from pages.ui.density import box_range, sample_note
from pages.ui.figures import DRAW_LIMIT, drawn_points, figure
from pages.ui.text import md
from vecexplore import warmup
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.errors import VecexploreError
from vecexplore.files.export import coordinates_frame, to_parquet_bytes, to_tf_projector
from vecexplore.maps.density import check_range
from vecexplore.maps.drawing import density_map
from vecexplore.maps.html import standalone_html
from vecexplore.maps.projection import Projector
from vecexplore.maps.report import ClusterReport, Faithfulness, MapReport, cluster_report, faithfulness, map_report
from vecexplore.maps.selection import MAX_PATTERN, summarise_selection

QUALITY_SAMPLE = 3000
FAITHFUL_SAMPLE = 10_000  # texts scored for faithfulness (exact k-NN among them: ~7 s at 10k on 2 cores)
FILTER_KEYS = ("filter_labels", "filter_clusters", "filter_text")


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=resources.BY_CONTENT)
def map_of(eset: EmbeddingSet, params: tuple, k: int) -> MapReport:
    """The map of a set with the projector's ``params`` (sorted pairs) and its quality, kept per process. A UMAP map
    waits for the app's warm-up worker to compile UMAP rather than compile it a second time."""
    if dict(params)["method"] == "umap":
        warmup.wait_for_umap()
    return map_report(eset, Projector(**dict(params)), k, QUALITY_SAMPLE, cache=resources.projections())


@st.cache_resource(show_spinner="Finding and naming clusters…", max_entries=8, hash_funcs=resources.BY_CONTENT)
def clusters_of(eset: EmbeddingSet, method: str, n_clusters: int | None, granularity: str) -> ClusterReport:
    return cluster_report(eset, method, n_clusters, granularity)


@st.cache_resource(show_spinner="Scoring each text's neighbourhood on the map…", max_entries=8,
                   hash_funcs=resources.BY_CONTENT)
def faithfulness_of(eset: EmbeddingSet, _coords: np.ndarray, params: tuple, k: int) -> Faithfulness:
    """Per-text faithfulness of the map ``map_of(eset, params, …)`` drew (``_coords``, known by ``params``)."""
    return faithfulness(eset, _coords, k, max_points=FAITHFUL_SAMPLE)


def computed_map(eset: EmbeddingSet, wanted: Projector, k: int) -> MapReport:
    """The map ``wanted`` draws of ``eset``. A UMAP or t-SNE map not fitted yet takes a while: a PCA map (a second
    or less) is shown meanwhile, with a status line, and replaced when it is ready."""
    params = tuple(sorted(wanted.get_params().items()))
    if wanted.method == "pca" or resources.projections().get(eset.vectors, wanted) is not None:
        return map_of(eset, params, k)
    method = wanted.method.upper()
    preview = st.empty()
    pca, _ = resources.projections().fit(eset.vectors, Projector("pca", n_components=wanted.n_components))
    with preview.container():
        st.info(f"PCA map shown while {method} computes; it replaces this map when ready.", icon="⏳")
        st.plotly_chart(figure(pca.embedding_, eset.labels, eset.texts, drawn_points(eset.n)), key="preview",
                        config={"displaylogo": False}, width="stretch")
    with st.status(f"Computing the {method} map of {eset.n:,} texts…", expanded=False) as status:
        st.write("The first UMAP in a fresh process loads its compiled code (numba; compiled at set-up, or by the "
                 "app's warm-up when it opens). Maps are kept on disk: the same corpus and settings load at once.")
        report = map_of(eset, params, k)
        status.update(label=f"{method} map ready", state="complete")
    preview.empty()
    return report


def quality_metrics(report: MapReport, n: int) -> None:
    """Trustworthiness and the share of k-NN kept, the method used, and the variance a PCA map shows."""
    m1, m2, m3, m4 = st.columns(4)
    q = report.quality
    if q.k is not None:
        sampled = f" (sample of {q.sample:,})" if n > q.sample else ""
        m1.metric("Trustworthiness", f"{q.trustworthiness:.3f}", help=f"sklearn's trustworthiness at k = {q.k}"
                  f"{sampled}: 1 = every neighbour on the map is a true neighbour.")
        m2.metric(f"Share of {q.k}-NN kept", f"{q.knn_kept:.1%}", help="Of each text's k cosine nearest neighbours "
                  f"in the original space, the share also among its k nearest on the map{sampled}.")
    else:
        m1.metric("Trustworthiness", "n/a", help="Needs at least 5 texts.")
    m3.metric("Method used", report.method.upper())
    ratio = getattr(report.projector, "explained_variance_ratio_", None)
    if ratio is not None:
        m4.metric("Variance shown", f"{sum(ratio):.1%}", help="Share of the variance of the unit-length vectors "
                  "captured by the PCA axes drawn.")
    else:
        m4.metric("Points", f"{n:,}")


def filter_widgets(eset: EmbeddingSet, cluster_of: list[str] | None) -> tuple[list, list, str, bool]:
    """Labels, clusters and a substring or regular expression to keep (the rest stays on the map, greyed)."""
    with st.expander("Filter and select", expanded=any(st.session_state.get(key) for key in FILTER_KEYS)):
        f1, f2, f3, f4 = st.columns([1, 1, 1.2, 0.6])
        labels = f1.multiselect("Labels", sorted(set(eset.labels)) if eset.labels is not None else [],
                                key="filter_labels", disabled=eset.labels is None, placeholder="any label")
        clusters = f2.multiselect("Clusters", sorted(set(cluster_of or [])), key="filter_clusters",
                                  placeholder="any cluster")
        pattern = f3.text_input("Text contains", key="filter_text", placeholder="e.g. goal or ^The",
                                max_chars=MAX_PATTERN)
        regex = f4.toggle("Regular expression", key="filter_regex")
        st.caption("Texts outside the filter stay on the map, greyed. Select texts with the lasso (or a box) on the "
                   "map to list them, see their words and download them.")
    return labels, clusters, pattern, regex


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


def follow_the_map(big: bool) -> list[int]:
    """What was picked on the map at the last rerun: one point becomes the text whose neighbours are listed, and
    (``big``: a density map) a box drawn becomes the next window (``zoom``, kept in the link)."""
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
    return picked


@dataclass(frozen=True)
class Layers:
    """What a map shows over its points: groups to colour (or None), the picked text, named sets of texts to ring,
    the typed text's place, a 0–1 value per text to colour by, the texts the filter keeps, cluster names."""

    groups: list[str] | None
    focus: int | None
    rings: dict[str, np.ndarray]
    query: tuple[str, np.ndarray] | None
    values: tuple[str, np.ndarray] | None
    keep: np.ndarray | None
    names: dict[str, np.ndarray]


def reset_zoom() -> None:
    st.session_state.pop("zoom", None)


def draw_map(eset: EmbeddingSet, coords: np.ndarray, layers: Layers, big: bool, contours: bool) -> None:
    """The map, selectable (click, box, lasso). ``big``: a density image of every point with a sampled clickable
    layer, in the window a box (or the link) asks for; else the points themselves (a seeded sample past
    ``DRAW_LIMIT`` unless the user asks for all), with density ``contours`` under them."""
    rest = (layers.focus, layers.rings, layers.query, layers.values, layers.keep, layers.names)
    select = dict(key="map", on_select="rerun", selection_mode=("points", "box", "lasso"), width="stretch")
    if big:
        zoom = st.session_state.get("zoom")
        with widgets.guard(stop=False):
            try:  # the zoom comes from a box drawn on the map, or a link (a hand-edited one shows the whole map)
                window = (check_range(zoom[:2], "x range"), check_range(zoom[2:], "y range")) if zoom else None
            except VecexploreError:
                window = None  # the whole map
            drawn_map = density_map(coords, window, eset.texts, layers.groups, *rest)
            st.plotly_chart(drawn_map.figure, config={"displaylogo": False}, **select)
            st.caption(f"🔍 {sample_note(drawn_map.image, drawn_map.shown, eset.n)}")
            map_download(drawn_map.figure, eset, f"The shading counts the {drawn_map.image.points_in_window:,} texts "
                         f"in this window; {len(drawn_map.shown):,} of them (a seeded sample) are drawn as points.")
            if zoom:
                st.button("Show the whole map", on_click=reset_zoom, key="reset_zoom")
        return
    drawn = drawn_points(eset.n)
    if eset.n > DRAW_LIMIT:
        if st.checkbox(f"Draw every point ({eset.n:,}; slower to send and to pan)", key="draw_all"):
            drawn = drawn_points(eset.n, None)
        else:
            st.info(f"Drawing a seeded sample of {DRAW_LIMIT:,} of the {eset.n:,} texts to keep the browser "
                    "responsive. Neighbours, metrics and downloads use every text.", icon="🎯")
    fig = figure(coords, layers.groups, eset.texts, drawn, *rest, contours)
    st.plotly_chart(fig, config={"scrollZoom": True, "displaylogo": False}, **select)
    map_download(fig, eset, *([f"A seeded sample of {len(drawn):,} of the {eset.n:,} texts is drawn."]
                              if len(drawn) < eset.n else []))


def map_download(fig: go.Figure, eset: EmbeddingSet, *notes: str) -> None:
    """The map as shown, as one HTML file that opens offline with a search box (made when clicked)."""
    st.download_button("Download the map (HTML)", lambda: standalone_html(
        fig, f"Map of {eset.n:,} texts · {eset.model_id}", eset.texts, notes), "map.html", "text/html",
        on_click="ignore", key="map_html")


def neighbour_table(eset: EmbeddingSet, idx: np.ndarray, sims: np.ndarray) -> None:
    table = pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "#": idx, "cosine": np.round(sims, 4),
                          "text": [eset.texts[i] for i in idx]})
    if eset.labels is not None:
        table.insert(3, "label", [eset.labels[i] for i in idx])
    st.dataframe(table, hide_index=True, width="stretch")


def show_selection(eset: EmbeddingSet, picked: list[int], cluster_of: list[str] | None) -> None:
    """The texts selected on the map, their most distinctive words, and the selection to download."""
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


def show_clusters(clustered: ClusterReport, granularity: str, dims: int) -> None:
    """How the clusters were found, then one row per cluster: size, top words, central texts, purity."""
    st.subheader("Clusters")
    fitted = clustered.labeler
    how = (f"k-means, k = {fitted.k_}" + (" chosen by silhouette" if fitted.k_scores_ else "")
           if fitted.method == "kmeans" else f"HDBSCAN, min cluster size {fitted.min_cluster_size_}")
    purity = ("" if clustered.purity is None else
              f" · purity against the labels {clustered.purity.overall:.1%} (share of texts in their cluster's "
              "majority label)")
    st.caption(f"{how} · {granularity} · {fitted.n_clusters_} clusters, found on the original {dims}-d "
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


def show_faithfulness(faithful: Faithfulness) -> None:
    """The mean share of k-NN kept, and the worst-placed texts with their true neighbours."""
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


def downloads(eset: EmbeddingSet, report: MapReport, cluster_of: list[str] | None,
              faithful: Faithfulness | None) -> None:
    """The coordinates (with cluster and faithfulness) and a TF-Projector export; files are made when clicked (a
    100k-text vectors.tsv is hundreds of MB)."""
    st.subheader("Download")
    d1, d2, d3, d4 = st.columns(4)

    def coordinates() -> pd.DataFrame:
        frame = coordinates_frame(eset, report.coords, report.method)
        if cluster_of is not None:
            frame["cluster"] = cluster_of
        if faithful is not None:
            frame["knn_kept"] = faithful.per_point()
        return frame

    d1.download_button("Coordinates (CSV)", lambda: coordinates().to_csv(index=False), "coordinates.csv",
                       "text/csv", on_click="ignore")
    d2.download_button("Coordinates (Parquet)", lambda: to_parquet_bytes(coordinates()), "coordinates.parquet",
                       on_click="ignore")
    d3.download_button("vectors.tsv", lambda: to_tf_projector(eset)[0], "vectors.tsv", "text/tab-separated-values",
                       on_click="ignore")
    d4.download_button("metadata.tsv", lambda: to_tf_projector(eset)[1], "metadata.tsv",
                       "text/tab-separated-values", on_click="ignore")
    st.caption("vectors.tsv + metadata.tsv load into projector.tensorflow.org, or back into vecexplore.")
