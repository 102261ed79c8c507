"""The map of a large corpus: a density image of every point rendered on the server, a seeded sample of points
on top (hover, click, box select), and the window a box selection asks to re-render."""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go

from pages.ui.figures import figure
from vecexplore.maps.density import DensityImage, Range

MAP_WIDTH, MAP_HEIGHT = 1000, 620  # pixels of the density image at most: about the map's size on a wide page


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


def box_range(event_state) -> tuple[Range, Range] | None:
    """The window of the last box drawn on the map, ``((x0, x1), (y0, y1))`` in increasing order, from a
    ``st.plotly_chart`` selection state (``{"selection": {"box": [{"x": [..], "y": [..]}, ...]}}``); None when
    no box, or a box with no width or height, was drawn."""
    boxes = ((event_state or {}).get("selection") or {}).get("box") or []
    if not boxes:
        return None
    box = boxes[-1]
    try:
        xs = sorted(float(v) for v in box.get("x", []))
        ys = sorted(float(v) for v in box.get("y", []))
    except (TypeError, ValueError):
        return None
    if len(xs) != 2 or len(ys) != 2 or not np.isfinite(xs + ys).all() or xs[0] == xs[1] or ys[0] == ys[1]:
        return None
    return (xs[0], xs[1]), (ys[0], ys[1])


def sample_note(image: DensityImage, shown: np.ndarray, n: int) -> str:
    """What the map shows, in words: the density counts every text in the window; the points are a sample."""
    where = "" if image.points_in_window == n else f", {image.points_in_window:,} of them in this window"
    drawn = ("every one of them is drawn as a point" if len(shown) == image.points_in_window else
             f"{len(shown):,} of them (a seeded sample) are drawn as points you can hover and click")
    return (f"The shading counts all {n:,} texts{where} ({image.width}×{image.height} pixels, up to "
            f"{image.max_count:,} texts in one pixel); {drawn}. Draw a box to zoom: that window is re-drawn at full "
            "resolution.")
