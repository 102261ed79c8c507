"""What every plotly figure shares: the palette of groups, and user text made safe for plotly (hover labels,
legend names, text marks). The pages' figures and the map drawing (:mod:`vecexplore.maps.drawing`) use it."""

from __future__ import annotations

import html
import textwrap

import numpy as np
from plotly.colors import qualitative

PALETTE = qualitative.Plotly + qualitative.D3 + qualitative.Set2
HOVER = "%{hovertext}<extra>%{fullData.name}</extra>"  # the trace name comes from data, never from the template


def palette(i: int) -> str:
    """The colour of the i-th group, the same on every page."""
    return PALETTE[i % len(PALETTE)]


def plain(text: object) -> str:
    """``text`` for plotly (hover labels, legend names, titles, text marks): ``&``, ``<`` and ``>`` escaped, so no
    tag forms. Quotes are left alone: plotly would show ``&quot;`` literally."""
    return html.escape(str(text), quote=False)


def hover(text: str, limit: int = 300) -> str:
    """A hover label: the text shortened, wrapped, and escaped (it is shown as text, never as HTML)."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return "<br>".join(plain(line) for line in textwrap.wrap(short, 70)) or "(empty)"


def hovers(texts: list[str], index: np.ndarray) -> list[str]:
    """Hover labels of the texts at ``index``; shorter when there are many (they are most of what is sent)."""
    limit = 300 if len(index) <= 10_000 else 120
    return [hover(texts[i], limit) for i in index]
