"""Maps of many points drawn on the server: every point counted into a density image (datashader), and the
seeded sample of points drawn on top of it for hover and click.

A window is ``(x_range, y_range)`` in map coordinates, bounds included on both sides (as datashader and
``numpy.histogram2d`` count them). Rendering a window of a million points takes tens of milliseconds, so a
zoomed window is re-rendered at full resolution rather than stretched."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vecexplore.errors import VecexploreError
from vecexplore.numeric import check_array, seeded_sample

HOWS = ("eq_hist", "log", "cbrt", "linear")  # datashader's ways of mapping counts to colour
CMAP = ("#c6dbef", "#08306b")  # light to dark blue: few to many points
MAX_PIXELS = 4096  # per side
Range = tuple[float, float]


@dataclass(frozen=True)
class DensityImage:
    """One window of a map rendered as an image: ``counts[r, c]`` points fell in pixel (r, c), ``rgba`` is its
    colour. Row 0 is the top of the window (``y_range[1]``), as in any image; column 0 is ``x_range[0]``."""

    rgba: np.ndarray  # (height, width, 4) uint8
    counts: np.ndarray  # (height, width) uint32
    x_range: Range
    y_range: Range
    points_in_window: int
    how: str

    @property
    def width(self) -> int:
        return int(self.counts.shape[1])

    @property
    def height(self) -> int:
        return int(self.counts.shape[0])

    @property
    def max_count(self) -> int:
        """The most points in one pixel."""
        return int(self.counts.max(initial=0))

    def png(self) -> bytes:
        """The image as PNG (fast compression: it is re-rendered on every zoom)."""
        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(self.rgba, "RGBA").save(out, format="PNG", compress_level=1)
        return out.getvalue()


def _xy(coords: np.ndarray) -> np.ndarray:
    xy = check_array(coords, min_rows=1, name="map coordinates", dtype=np.float64)
    if xy.shape[1] != 2:
        raise VecexploreError(f"A density map is drawn from 2-D coordinates; got {xy.shape[1]} columns. "
                              "Compute a 2-D map.")
    return xy


def check_range(values: Sequence[float], name: str) -> Range:
    """``values`` as a ``(low, high)`` range of finite numbers with low < high, or an error naming ``name``."""
    try:
        lo, hi = (float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise VecexploreError(f"The {name} must be two numbers (low, high), got {values!r}.") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise VecexploreError(f"The {name} must be two finite numbers with low < high, got ({lo}, {hi}); "
                              "draw a box with some width and height.")
    return lo, hi


def _rgb(colour: str) -> tuple[int, int, int]:
    """A CSS colour (``#1f77b4``, ``rgb(31,119,180)``, ``navy``) as datashader takes it."""
    from PIL import ImageColor

    try:
        return ImageColor.getrgb(colour)[:3]
    except ValueError as exc:
        raise VecexploreError(f"{colour!r} is not a colour; use a CSS colour such as '#1f77b4'.") from exc


def full_window(coords: np.ndarray, margin: float = 0.02) -> tuple[Range, Range]:
    """The window holding every point, widened by ``margin`` of its span on each side (a span of 0 becomes 1)."""
    xy = _xy(coords)
    out = []
    for column in xy.T:  # one column at a time: numpy reduces an (n, 2) array along axis 0 slowly
        lo, hi = column.min(), column.max()
        pad = margin * (hi - lo) if hi > lo else 0.5
        out.append((float(lo - pad), float(hi + pad)))
    return out[0], out[1]


def in_window(coords: np.ndarray, x_range: Range, y_range: Range) -> np.ndarray:
    """Whether each point lies in the window (bounds included), as the density image counts it."""
    xy = _xy(coords)
    (x0, x1), (y0, y1) = check_range(x_range, "x range"), check_range(y_range, "y range")
    return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def density_image(coords: np.ndarray, x_range: Range | None = None, y_range: Range | None = None,
                  width: int = 1000, height: int = 620, how: str = "eq_hist",
                  groups: Sequence | pd.Categorical | None = None, colours: Sequence[str] | None = None,
                  cmap: Sequence[str] = CMAP) -> DensityImage:
    """Every point of ``coords`` (n × 2) inside the window counted into ``width`` × ``height`` pixels, and
    coloured by count (``how``: eq_hist, log, cbrt or linear) with ``cmap``, or by group: ``groups`` (one per
    point; a ``pandas.Categorical`` is used as is) mixes the ``colours`` of the groups in each pixel, one colour
    per category (in ``categories`` order: sorted, for plain labels). Without a window: the whole map."""
    import datashader as ds
    import datashader.transfer_functions as tf
    import xarray as xr

    xy = _xy(coords)
    if how not in HOWS:
        raise VecexploreError(f"Unknown density scale {how!r}; choose one of {', '.join(HOWS)}.")
    for name, size in (("width", width), ("height", height)):
        if not 1 <= int(size) <= MAX_PIXELS:
            raise VecexploreError(f"The image {name} must be between 1 and {MAX_PIXELS} pixels, got {size}.")
    if x_range is None or y_range is None:
        full_x, full_y = full_window(xy)
        x_range, y_range = x_range or full_x, y_range or full_y
    x_range, y_range = check_range(x_range, "x range"), check_range(y_range, "y range")
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    canvas = ds.Canvas(plot_width=int(width), plot_height=int(height), x_range=x_range, y_range=y_range)
    if groups is None:
        agg = canvas.points(frame, "x", "y", agg=ds.count())
        counts = agg.values
        shaded = tf.shade(agg, cmap=[_rgb(c) for c in cmap], how=how)
    else:
        cats = groups if isinstance(groups, pd.Categorical) else pd.Categorical(np.asarray(groups, dtype=object))
        if len(cats) != len(xy):
            raise VecexploreError(f"{len(cats):,} groups for {len(xy):,} points: give one group per point.")
        if colours is None or len(colours) < len(cats.categories):
            raise VecexploreError(f"Give one colour per group ({len(cats.categories)} groups).")
        # one count per group rather than ds.count_cat, which numba compiles anew for every number of groups
        # (~0.3 s each, longer while UMAP holds the compiler); the counts are the same
        layers = [canvas.points(frame[cats.codes == i], "x", "y", agg=ds.count()) for i in range(len(cats.categories))]
        agg = xr.concat(layers, dim=pd.Index([str(c) for c in cats.categories], name="group"))
        agg = agg.transpose("y", "x", "group")
        counts = agg.values.sum(axis=2, dtype=np.uint32)
        shaded = tf.shade(agg, color_key=[_rgb(c) for c in colours[: len(cats.categories)]], how=how)
    rgba = np.ascontiguousarray(np.asarray(shaded.data, dtype=np.uint32)).view(np.uint8).reshape(*counts.shape, 4)
    return DensityImage(np.flipud(rgba).copy(), np.flipud(counts).astype(np.uint32), x_range, y_range,
                        int(counts.sum()), how)


def sampled_layer(coords: np.ndarray, x_range: Range, y_range: Range, limit: int = 10_000,
                  seed: int = 0) -> np.ndarray:
    """Row indices (increasing) of the points to draw as markers over a window's density image: every point in
    the window, or a seeded sample of ``limit`` of them."""
    if limit < 1:
        raise VecexploreError("Draw at least one point over the density image.")
    inside = np.flatnonzero(in_window(coords, x_range, y_range))
    return inside[seeded_sample(len(inside), limit, seed)]
