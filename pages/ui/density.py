"""The map of a large corpus on the page: the window a box drawn on the map asks to re-render, and what the map
shows, in words. The drawing itself (density image, sampled points, figure) is
:func:`vecexplore.maps.drawing.density_map`."""

from __future__ import annotations

import numpy as np

from vecexplore.maps.density import DensityImage, Range


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
