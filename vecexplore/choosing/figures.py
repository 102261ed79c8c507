"""The report card's pictures (plotly; drawn by the page and inlined in the HTML card): a forest plot of each
metric with its intervals, and quality against speed with the Pareto front."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vecexplore.choosing.names import METRIC_NAMES, PRIMARY, TASK_OF


def forest(card: dict, task: str) -> go.Figure:
    """Every metric of ``task``: each model's score (dot) and 95% interval (bar), best of the ranking on top."""
    models = {m["model"]: m for m in card["models"]}
    order = [*card["rankings"][task], *[m["model"] for m in card["models"] if m["baseline"]]]
    metrics = [k for k in METRIC_NAMES if TASK_OF[k] == task and any(k in models[m]["metrics"] for m in order)]
    fig = make_subplots(rows=1, cols=len(metrics), shared_yaxes=True, subplot_titles=[METRIC_NAMES[k]
                                                                                       for k in metrics])
    for col, key in enumerate(metrics, 1):
        shown = [m for m in order if key in models[m]["metrics"]]
        values = [models[m]["metrics"][key] for m in shown]
        fig.add_trace(go.Scatter(
            x=[v["value"] for v in values], y=shown, mode="markers", marker=dict(size=10, color="#1f77b4"),
            error_x=dict(type="data", symmetric=False, array=[v["high"] - v["value"] for v in values],
                         arrayminus=[v["value"] - v["low"] for v in values]),
            name=METRIC_NAMES[key], showlegend=False,
            hovertemplate="%{y}: %{x:.3f}<extra>" + METRIC_NAMES[key] + "</extra>"), row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=120 + 40 * len(order), margin=dict(l=10, r=10, t=50, b=30),
                      title=f"{task}: score and 95% interval per model")
    return fig


def pareto_front(speed: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both speed and quality (at least as good on both, better on
    one), fastest first."""
    front = [i for i in range(len(speed))
             if not any((speed[j] >= speed[i] and quality[j] >= quality[i]) and
                        (speed[j] > speed[i] or quality[j] > quality[i]) for j in range(len(speed)))]
    return np.array(sorted(front, key=lambda i: -speed[i]), dtype=int)


def quality_vs_speed(card: dict, task: str) -> go.Figure:
    """``task``'s primary metric (with its interval) against texts per second (log scale); bubble area ∝ bytes
    per vector; the Pareto front joined by a line."""
    key = PRIMARY[task]
    rows = [m for m in card["models"] if not m["baseline"] and key in m["metrics"] and m["cost"]]
    speed = np.array([m["cost"]["texts_per_s"] for m in rows], dtype=float)
    quality = np.array([m["metrics"][key]["value"] for m in rows], dtype=float)
    size = np.array([m["cost"]["bytes_per_vector"] for m in rows], dtype=float)
    fig = go.Figure()
    front = pareto_front(speed, quality)
    if len(front) > 1:
        fig.add_trace(go.Scatter(x=speed[front], y=quality[front], mode="lines", name="Pareto front",
                                 line=dict(dash="dash", color="#888"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=speed, y=quality, mode="markers+text", text=[m["model"] for m in rows], textposition="top center",
        name="models", marker=dict(size=12 + 40 * np.sqrt(size / max(size.max(), 1)), color="#1f77b4",
                                   opacity=0.6, line=dict(color="#1f3b73", width=1)),
        error_y=dict(type="data", symmetric=False, array=[m["metrics"][key]["high"] - q for m, q in zip(
            rows, quality, strict=True)], arrayminus=[q - m["metrics"][key]["low"] for m, q in zip(
                rows, quality, strict=True)]),
        customdata=size, hovertemplate="%{text}<br>%{x:,.0f} texts/s<br>" + METRIC_NAMES[key]
        + " %{y:.3f}<br>%{customdata:,.0f} bytes/vector<extra></extra>"))
    fig.update_xaxes(type="log", title="texts per second on this machine (log scale)")
    fig.update_yaxes(title=f"{METRIC_NAMES[key]} ({task})")
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=60, b=40), showlegend=False,
                      title="Quality against speed<br><sup>bubble area: bytes per vector · dashed: the Pareto front"
                            "</sup>")
    return fig
