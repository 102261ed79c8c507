"""Figures shared by pages: the palette, hover labels, the corpus map with highlighted points."""

from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from pages.ui.text import plain
from vecexplore.numeric import seeded_sample

PALETTE = qualitative.Plotly + qualitative.D3 + qualitative.Set2
DRAW_LIMIT = 50_000  # points drawn by default: beyond this the browser slows down and the message grows
RING_COLOURS = ("#111111", "#D62728", "#1F77B4")
HOVER = "%{hovertext}<extra>%{fullData.name}</extra>"  # the trace name comes from data, never from the template


def palette(i: int) -> str:
    """The colour of the i-th group, the same on every page."""
    return PALETTE[i % len(PALETTE)]


def drawn_points(n: int, limit: int | None = DRAW_LIMIT) -> np.ndarray:
    """Which of ``n`` points to draw: all, or a seeded sample of ``limit`` (the same on every rerun)."""
    return seeded_sample(n, limit)


def hover(text: str, limit: int = 300) -> str:
    """A hover label: the text shortened, wrapped, and escaped (it is shown as text, never as HTML)."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return "<br>".join(plain(line) for line in textwrap.wrap(short, 70)) or "(empty)"


def hovers(texts: list[str], index: np.ndarray) -> list[str]:
    """Hover labels of the texts at ``index``; shorter when there are many (they are most of what is sent)."""
    limit = 300 if len(index) <= 10_000 else 120
    return [hover(texts[i], limit) for i in index]


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
