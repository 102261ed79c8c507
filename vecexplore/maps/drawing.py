"""The map drawn as a plotly figure, the same for the pages and the benchmarks: the corpus map (points by group or
by value, filtered-out points greyed, cluster names, neighbour rings, the picked and the typed text), and the
density view of a large map: every point of a window counted into a density image coloured like the points, a
seeded sample of points drawn light on top, the axes fixed to the window; and a map report drawn on its own
(:func:`map_figure`, for a file). The core builds the figure; showing it (``st.plotly_chart``) is the page's."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from vecexplore.errors import VecexploreError
from vecexplore.maps.clusters import NOISE_NAME, label_positions
from vecexplore.maps.density import DensityImage, Range, density_image, full_window, sampled_layer
from vecexplore.maps.report import ClusterReport, MapReport
from vecexplore.numeric import seeded_sample
from vecexplore.plotting import HOVER, hover, hovers, palette, plain

RING_COLOURS = ("#111111", "#D62728", "#1F77B4")
MAP_WIDTH, MAP_HEIGHT = 1000, 620  # pixels of the density image at most: about the map's size on a wide page
LAYER = 10_000  # points drawn over the density image at most
FIGURE_POINTS = 100_000  # points a map figure draws one by one; beyond, the density view (2-D) or a sample (3-D)
COLOUR_BY = ("cluster", "label")


def _markers(three_d: bool, xy: np.ndarray, **kwargs) -> go.Scatter3d | go.Scattergl:
    if three_d:
        return go.Scatter3d(x=xy[:, 0], y=xy[:, 1], z=xy[:, 2], mode="markers", **kwargs)
    return go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", **kwargs)


def figure(coords: np.ndarray, groups: list[str] | None, texts: list[str], drawn: np.ndarray | None = None,
           focus: int | None = None, rings: dict[str, np.ndarray] | None = None,
           query: tuple[str, np.ndarray] | None = None, values: tuple[str, np.ndarray] | None = None,
           keep: np.ndarray | None = None, names: dict[str, np.ndarray] | None = None,
           density: bool = False, light: bool = False) -> go.Figure:
    """The map of the points ``drawn`` (default all): one trace per group (or, with ``values`` = (title, one
    number per point in 0–1), one trace coloured by them, NaN grey), the points outside ``keep`` (a boolean mask)
    greyed, ``names`` (cluster name → map position) written on the map, a ``density`` contour under the points;
    then each named set of ``rings`` (e.g. a picked text's neighbours and a typed text's) ringed in its own colour,
    the picked text starred, the query diamond. ``light``: the corpus points small and see-through (drawn over a
    density image)."""
    three_d = coords.shape[1] == 3
    drawn = np.arange(len(coords)) if drawn is None else np.asarray(drawn)
    fig = go.Figure()
    if density and not three_d and len(drawn) > 1:
        fig.add_trace(go.Histogram2dContour(x=coords[drawn, 0], y=coords[drawn, 1], name="density", ncontours=12,
                                            colorscale=[[0, "rgba(255,255,255,0)"], [1, "rgba(8,48,107,0.45)"]],
                                            showscale=False, hoverinfo="skip", contours=dict(coloring="fill"),
                                            line=dict(width=0.5, color="rgba(8,48,107,0.3)")))
    group_of = np.array(groups if groups is not None else ["all"] * len(coords), dtype=object)
    size = 4 if three_d or light else 7 if len(drawn) <= 5_000 else 4 if len(drawn) <= 30_000 else 2.5
    seen = dict(opacity=0.45) if light else {}  # overrides the corpus points' own opacity
    if keep is not None:
        out = drawn[~keep[drawn]]
        if len(out):
            fig.add_trace(_markers(three_d, coords[out], name="filtered out", customdata=out[:, None],
                                   hovertext=hovers(texts, out), hovertemplate=HOVER,
                                   marker=dict(size=size, color="#c8c8c8", opacity=0.35)))
        drawn = drawn[keep[drawn]]
    labels = hovers(texts, drawn)
    if values is not None:
        title, v = values
        shown = np.nan_to_num(v[drawn], nan=-1.0)
        scored = shown >= 0
        for mask, marker in ((~scored, dict(size=size, color="#b0b0b0", opacity=0.5) | seen),
                             (scored, dict(size=size, color=shown[scored], cmin=0, cmax=1, colorscale="RdYlBu",
                                           opacity=0.9, colorbar=dict(title=dict(text=title, side="right"),
                                                                      thickness=14, len=0.8)) | seen)):
            if mask.any():
                idx = drawn[mask]
                fig.add_trace(_markers(three_d, coords[idx], name=title if marker.get("colorbar") else "not scored",
                                       customdata=idx[:, None], hovertext=[labels[i] for i in np.flatnonzero(mask)],
                                       hovertemplate=HOVER, marker=marker))
    else:
        for n, name in enumerate(sorted(set(group_of))):
            pos = np.flatnonzero(group_of[drawn] == name)
            if not len(pos):
                continue
            idx = drawn[pos]
            fig.add_trace(_markers(three_d, coords[idx], name=plain(name), customdata=idx[:, None],
                                   hovertext=[labels[i] for i in pos], hovertemplate=HOVER,
                                   marker=dict(size=size, color=palette(n), opacity=0.8) | seen))
    for name, xy in (names or {}).items():
        if three_d:
            fig.add_trace(go.Scatter3d(x=[xy[0]], y=[xy[1]], z=[xy[2]], mode="text", text=[plain(name)],
                                       name="cluster name", showlegend=False, hoverinfo="skip",
                                       textfont=dict(size=13, color="#111")))
        else:
            fig.add_annotation(x=xy[0], y=xy[1], text=plain(name), showarrow=False, bgcolor="rgba(255,255,255,0.75)",
                               font=dict(size=13, color="#111"), borderpad=2)
    marks = [(label, np.asarray(idx, dtype=int), dict(size=13 + 5 * n, color="rgba(0,0,0,0)",
                                                      line=dict(color=RING_COLOURS[n % len(RING_COLOURS)], width=2)))
             for n, (label, idx) in enumerate((rings or {}).items())]
    marks.append(("selected", np.array([] if focus is None else [focus], dtype=int),
                  dict(size=18 if not three_d else 9, symbol="diamond" if three_d else "star", color="#FFD700",
                       line=dict(color="#111", width=1))))
    for label, idx, style in marks:
        if len(idx):
            fig.add_trace(_markers(three_d, coords[idx], name=label, customdata=idx[:, None], marker=style,
                                   hovertext=hovers(texts, idx), hovertemplate=HOVER))
    if query is not None:
        fig.add_trace(_markers(three_d, query[1], name="your text", hovertext=[hover(query[0])], hovertemplate=HOVER,
                               marker=dict(size=16 if not three_d else 8, symbol="diamond", color="#111")))
    fig.update_layout(height=620, margin=dict(l=10, r=10, t=30, b=10), legend=dict(itemsizing="constant"),
                      dragmode="pan" if three_d else "lasso", uirevision="map")
    if not three_d:
        fig.update_xaxes(showticklabels=False, title=None)
        fig.update_yaxes(showticklabels=False, title=None, scaleanchor="x")
    return fig


def canvas(x_range: Range, y_range: Range, max_width: int = MAP_WIDTH, max_height: int = MAP_HEIGHT) -> tuple[int, int]:
    """Image ``(width, height)`` in pixels for a window drawn with equal scales on both axes: square pixels, as
    large as fits in ``max_width`` × ``max_height``."""
    aspect = (y_range[1] - y_range[0]) / (x_range[1] - x_range[0])
    width = min(max_width, max_height / aspect)
    return max(1, round(width)), max(1, round(min(max_height, width * aspect)))


def density_figure(image: DensityImage, coords: np.ndarray, texts: list[str], shown: np.ndarray,
                   groups: list[str] | None = None, focus: int | None = None,
                   rings: dict[str, np.ndarray] | None = None, query: tuple[str, np.ndarray] | None = None,
                   values: tuple[str, np.ndarray] | None = None, keep: np.ndarray | None = None,
                   names: dict[str, np.ndarray] | None = None) -> go.Figure:
    """``figure`` (the corpus map: hover texts, ``customdata[0]`` = row index, rings, the picked text, the typed
    text, colour by value, filter, cluster names) of the points ``shown``, drawn light over ``image`` placed at its
    window's map coordinates. The axes show exactly that window; the drag mode is box select, whose box
    ``box_range`` reads back."""
    fig = figure(coords, groups, texts, shown, focus, rings, query, values, keep, names, light=True)
    (x0, x1), (y0, y1) = image.x_range, image.y_range
    fig.add_layout_image(source="data:image/png;base64," + base64.b64encode(image.png()).decode(), xref="x",
                         yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0, sizing="stretch", layer="below")
    fig.update_xaxes(range=[x0, x1], autorange=False, constrain="domain", showgrid=False, zeroline=False)
    fig.update_yaxes(range=[y0, y1], autorange=False, constrain="domain", showgrid=False, zeroline=False)
    fig.update_layout(dragmode="select", uirevision=f"density {x0} {x1} {y0} {y1}", plot_bgcolor="white")
    return fig


def name_marks(coords: np.ndarray, labels: np.ndarray, names: dict[int, str]) -> dict[str, np.ndarray]:
    """Where each cluster's name is written on the map (``names``: cluster → name; noise is not named)."""
    return {names[c]: xy for c, xy in label_positions(coords, labels).items() if names[c] != NOISE_NAME}


@dataclass(frozen=True)
class DensityMap:
    """One window of a large map, drawn: the ``figure`` to show, its density ``image``, the rows ``shown`` as
    points, and the seconds spent counting and colouring the image (``density_s``)."""

    figure: go.Figure
    image: DensityImage
    shown: np.ndarray
    density_s: float


def density_map(coords: np.ndarray, window: tuple[Range, Range] | None, texts: list[str],
                groups: list[str] | None = None, focus: int | None = None,
                rings: dict[str, np.ndarray] | None = None, query: tuple[str, np.ndarray] | None = None,
                values: tuple[str, np.ndarray] | None = None, keep: np.ndarray | None = None,
                names: dict[str, np.ndarray] | None = None, limit: int = LAYER) -> DensityMap:
    """The density view of ``window`` (None: the whole map): the image at :func:`canvas` size, coloured by
    ``groups`` in the points' palette (one colour scale without groups), ``limit`` points of the window sampled
    on top, and :func:`density_figure` of them with the map's marks (``focus``, ``rings``, ``query``,
    ``values``, ``keep``, ``names``: see :func:`figure`)."""
    start = time.perf_counter()
    window = window or full_window(coords)
    cats = None if groups is None else pd.Categorical(groups)  # the density coloured like the points
    image = density_image(coords, *window, *canvas(*window), groups=cats,
                          colours=None if cats is None else [palette(i) for i in range(len(cats.categories))])
    density_s = time.perf_counter() - start
    shown = sampled_layer(coords, *window, limit=limit)
    fig = density_figure(image, coords, texts, shown, groups, focus, rings, query, values, keep, names)
    return DensityMap(fig, image, shown, density_s)


def _groups(report: MapReport, clusters: ClusterReport | None, colour_by: str) -> list[str] | None:
    """Each text's group for ``colour_by``: its cluster's name (None without clusters) or its label."""
    if colour_by not in COLOUR_BY:
        raise VecexploreError(f"Colour a map by one of {', '.join(COLOUR_BY)}, not {colour_by!r}.")
    if colour_by == "label":
        if report.eset.labels is None:
            raise VecexploreError("This corpus has no labels: colour the map by cluster.")
        return list(report.eset.labels)
    return None if clusters is None else [clusters.labeler.names_[c] for c in clusters.labels]


def hover_chars(n: int, max_hover_chars: int) -> int:
    """How much of each text a map figure of ``n`` texts shows on hover: ``max_hover_chars``, at most what
    :func:`vecexplore.plotting.hovers` keeps (300; 120 on a map of more than 10,000 texts)."""
    return min(max_hover_chars, 300 if n <= 10_000 else 120)


def map_figure(report: MapReport, clusters: ClusterReport | None = None, colour_by: str = "cluster",
               max_hover_chars: int = 300) -> go.Figure:
    """The map of ``report`` on its own (for a file): its points coloured by ``colour_by`` ("cluster":
    ``clusters``' names, one colour without them; "label": the set's labels), the clusters' names written at their
    centres, each point's text on hover (escaped, shortened to :func:`hover_chars`), the method and the map's
    quality in the title. Up to ``FIGURE_POINTS`` points are drawn one by one; beyond, the density view of
    :func:`density_map` (2-D) or a seeded sample (3-D). :func:`map_notes` says what it shows."""
    coords, n = report.coords, report.eset.n
    groups = _groups(report, clusters, colour_by)
    names = {} if clusters is None else name_marks(coords, clusters.labels, clusters.labeler.names_)
    limit = hover_chars(n, max_hover_chars)
    texts = [t if len(t) <= limit else t[:limit] + "…" for t in report.eset.texts]
    if n > FIGURE_POINTS and coords.shape[1] == 2:
        fig = density_map(coords, None, texts, groups, names=names).figure
    else:
        fig = figure(coords, groups, texts, seeded_sample(n, FIGURE_POINTS), names=names)
    q = report.quality
    quality = "" if q.k is None else f" · trustworthiness {q.trustworthiness:.3f} · {q.knn_kept:.1%} of {q.k}-NN kept"
    fig.update_layout(title=plain(f"{report.method.upper()} map of {n:,} texts{quality}"), margin=dict(t=50))
    return fig.update_layout(dragmode="zoom") if coords.shape[1] == 2 else fig


def map_notes(report: MapReport, clusters: ClusterReport | None = None, colour_by: str = "cluster",
              max_hover_chars: int = 300) -> list[str]:
    """What :func:`map_figure` of the same arguments shows, in words: how to read its quality, the colours, what
    is drawn of a large map, how much of each text the hover shows; then the report's notes."""
    eset, q, n = report.eset, report.quality, report.eset.n
    notes = [] if q.k is None else [
        f"Trustworthiness (1: every neighbour on the map is a true neighbour) and the share of each text's {q.k} "
        "nearest neighbours (cosine, original space) kept on the map say how far to trust it."]
    if clusters is not None:
        notes.append(f"{clusters.labeler.n_clusters_} clusters found on the original vectors, named by their most "
                     "distinctive words" + (" (the colours)." if colour_by == "cluster" else "."))
    if colour_by == "label":
        notes.append("Colours: the texts' labels.")
    if n > FIGURE_POINTS and report.coords.shape[1] == 2:
        notes.append(f"The shading counts all {n:,} texts; a seeded sample of at most {LAYER:,} is drawn as points "
                     "you can hover, and the search box looks among those.")
    elif n > FIGURE_POINTS:
        notes.append(f"A seeded sample of {FIGURE_POINTS:,} of the {n:,} texts is drawn; the search box looks "
                     "among those.")
    limit = hover_chars(n, max_hover_chars)
    if any(len(t) > limit for t in eset.texts):
        notes.append(f"Hover labels show the first {limit:,} characters of each text.")
    return notes + list(report.notes)
