"""A map as one file: a plotly figure written as a single self-contained HTML page (plotly.js inlined; nothing is
fetched when it opens: no CDN, font or MathJax) with a title, notes, and a search box that rings the points whose
text contains what is typed. User text stays text: the figures escape it (:func:`vecexplore.plotting.plain`), the
page escapes the title and notes, and the search data is JSON that cannot close its ``<script>``."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from vecexplore.maps.drawing import map_figure, map_notes
from vecexplore.maps.report import ClusterReport, MapReport

SEARCH_CHARS = 1_000  # characters of each corpus text the search box looks in
SEARCH_TEXTS = 10_000  # points searched in their corpus text at most; past this, in their hover label (file size)
POINTS = ("scatter", "scattergl", "scatter3d")  # the traces the search looks in (not contours, images, names)
DIV = "map"

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1rem 1.5rem; color: #222; }}
h1 {{ font-size: 1.4rem; margin: 0 0 .5rem; }}
ul.notes {{ color: #555; font-size: .9rem; margin: 0 0 .75rem; padding-left: 1.2rem; }}
.search {{ margin: .5rem 0; }}
.search input {{ width: 24rem; max-width: 70vw; padding: .3rem .5rem; font-size: 1rem; }}
#matches {{ margin-left: .75rem; font-weight: 600; }}
</style>
</head>
<body>
<h1>{title}</h1>
<ul class="notes">{notes}</ul>
<div class="search"><label>Search the texts <input id="search" type="search" autocomplete="off"
placeholder="a word or a phrase (any case)"></label><span id="matches" aria-live="polite"></span></div>
{plot}
<script>
(function () {{
  const SEARCH = {search};  // per searchable trace: its number, its points' corpus rows and texts (or null)
  const RING = {ring};  // the trace that rings the matches
  const AXES = {axes};
  const TYPED = {{f8: Float64Array, f4: Float32Array, i4: Int32Array, u4: Uint32Array, i2: Int16Array,
                 u2: Uint16Array, i1: Int8Array, u1: Uint8Array}};
  const plot = document.getElementById("{div}");
  const box = document.getElementById("search");
  const count = document.getElementById("matches");
  const lower = [], coords = [];
  function plain(label) {{  // a hover label (escaped HTML) as the text it shows
    return String(label).replace(/<br\s*\/?>/gi, " ").replace(/<[^>]*>/g, "").replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }}
  function values(a) {{  // a plotly data array: a list, or {{dtype, bdata}} (a typed array in base64)
    if (a == null || Array.isArray(a) || ArrayBuffer.isView(a)) return a || [];
    return new TYPED[a.dtype](Uint8Array.from(atob(a.bdata), c => c.charCodeAt(0)).buffer);
  }}
  function search() {{
    const q = box.value.trim().toLowerCase();
    const ringed = AXES.map(() => []);
    const found = new Set();
    if (q) SEARCH.forEach((s, n) => {{
      const trace = plot.data[s.trace];
      lower[n] = lower[n] || (s.texts || [...values(trace.hovertext || trace.text)].map(plain))
        .map(t => t.toLowerCase());
      coords[n] = coords[n] || AXES.map(k => values(trace[k]));
      lower[n].forEach((text, j) => {{
        if (!text.includes(q)) return;
        found.add(s.rows ? s.rows[j] : s.trace + ":" + j);
        AXES.forEach((k, a) => ringed[a].push(coords[n][a][j]));
      }});
    }});
    const update = {{}};
    AXES.forEach((k, a) => {{ update[k] = [ringed[a]]; }});
    Plotly.restyle(plot, update, [RING]);
    count.textContent = q ? found.size + (found.size === 1 ? " match" : " matches") : "";
  }}
  box.addEventListener("input", search);
}})();
</script>
</body>
</html>
"""


def script_json(value: object) -> str:
    """``value`` as JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` (so no ``</script>``)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _rows(trace: go.BaseTraceType) -> list[int] | None:
    """Each point's corpus row: ``customdata[0]`` when the trace carries row numbers, else None."""
    if trace.customdata is None:
        return None
    data = np.asarray(trace.customdata)
    data = data[:, 0] if data.ndim == 2 else data
    return data.astype(int).tolist() if data.ndim == 1 and np.issubdtype(data.dtype, np.number) else None


def _searchable(trace: go.BaseTraceType, texts: Sequence[str] | None) -> bool:
    """A trace of points, each with a text: a hover label, or a corpus row when ``texts`` are given."""
    labels = trace.hovertext if trace.hovertext is not None else trace.text
    return trace.type in POINTS and "markers" in (trace.mode or "markers") and (
        texts is not None and _rows(trace) is not None or labels is not None and not isinstance(labels, str))


def searched(fig: go.Figure, texts: Sequence[str] | None) -> list[dict]:
    """What the search box looks in, per trace of points with text: the trace's number, its points' corpus
    ``rows`` (None: not known), and their corpus ``texts`` (the first ``SEARCH_CHARS`` characters; None: the page
    reads their hover labels, as it does past ``SEARCH_TEXTS`` points, so a big map's texts are not sent twice)."""
    traces = [(n, trace, _rows(trace)) for n, trace in enumerate(fig.data) if _searchable(trace, texts)]
    by_text = texts is not None and sum(len(trace.x) for _, trace, _ in traces) <= SEARCH_TEXTS
    return [{"trace": n, "rows": rows, "texts": [texts[i][:SEARCH_CHARS] for i in rows]
             if by_text and rows is not None else None} for n, trace, rows in traces]


def standalone_html(fig: go.Figure, title: str, texts: list[str] | None = None, notes: Sequence[str] = ()) -> str:
    """``fig`` as one self-contained HTML page: plotly.js inlined, no request when opened, ``title`` and ``notes``
    as text, and a search box that rings the points whose text contains what is typed (case-insensitive) and says
    how many texts match. ``texts``: the corpus by row, for the points that carry their row in ``customdata[0]``
    (the maps of :mod:`vecexplore.maps.drawing` and the pages); see :func:`searched`."""
    fig = go.Figure(fig)
    three_d = any(trace.type == "scatter3d" for trace in fig.data)
    search = searched(fig, texts)
    if any(s["rows"] is not None and s["texts"] is None for s in search):
        notes = [*notes, "The search box looks in what each point's hover label shows."]
    ring = dict(name="search matches", hoverinfo="skip", showlegend=False)
    fig.add_trace(go.Scatter3d(x=[], y=[], z=[], mode="markers", marker=dict(size=9, symbol="circle-open",
                                                                              color="#111"), **ring)
                  if three_d else
                  go.Scattergl(x=[], y=[], mode="markers", marker=dict(size=15, color="rgba(0,0,0,0)",
                                                                       line=dict(color="#111", width=2.5)), **ring))
    plot = pio.to_html(fig, include_plotlyjs=True, full_html=False, include_mathjax=False, div_id=DIV,
                       config={"displaylogo": False, "scrollZoom": True})
    return PAGE.format(title=html.escape(title), notes="".join(f"<li>{html.escape(n)}</li>" for n in notes),
                       plot=plot, search=script_json(search), ring=len(fig.data) - 1, div=DIV,
                       axes=script_json(["x", "y", "z"] if three_d else ["x", "y"]))


def map_page(report: MapReport, clusters: ClusterReport | None = None, colour_by: str | None = None) -> str:
    """The map of ``report`` (:func:`map_figure`, ``clusters`` named on it) as one HTML page, with what it shows in
    its notes (:func:`map_notes`). ``colour_by`` None: by label when the set has labels, else by cluster (as the
    Projection page opens)."""
    eset = report.eset
    colour_by = colour_by or ("label" if eset.labels is not None else "cluster")
    title = f"{report.method.upper()} map of {eset.n:,} texts · {eset.model_id}"
    return standalone_html(map_figure(report, clusters, colour_by), title, eset.texts,
                           map_notes(report, clusters, colour_by))


def write_page(path: str | Path, page: str) -> int:
    """Write ``page`` to ``path`` as UTF-8; returns its size in bytes."""
    return Path(path).write_bytes(page.encode("utf-8"))
