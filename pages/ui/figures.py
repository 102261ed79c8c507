"""Figures on the pages: the core's drawing (:mod:`vecexplore.plotting`, :mod:`vecexplore.maps.drawing`) under the
names the pages import, and how many points a page draws."""

from __future__ import annotations

import numpy as np

from vecexplore.maps.drawing import figure
from vecexplore.numeric import seeded_sample
from vecexplore.plotting import HOVER, hover, palette

__all__ = ["DRAW_LIMIT", "HOVER", "drawn_points", "figure", "hover", "palette"]

DRAW_LIMIT = 50_000  # points drawn by default: beyond this the browser slows down and the message grows


def drawn_points(n: int, limit: int | None = DRAW_LIMIT) -> np.ndarray:
    """Which of ``n`` points to draw: all, or a seeded sample of ``limit`` (the same on every rerun)."""
    return seeded_sample(n, limit)
