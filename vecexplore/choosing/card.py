"""The report card as a document: sections of sentences and tables built once from the card's JSON
(:meth:`ChoiceReport.to_dict`), written as Markdown or as one self-contained HTML page (the figures inline)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from vecexplore.choosing.names import METRIC_NAMES, PRIMARY, TASK_OF

TASK_ORDER = ("retrieval", "classification", "clustering", "similarity")


@dataclass
class Section:
    title: str
    sentences: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _interval(m: dict | None) -> str:
    return "—" if not m else f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


def _num(value: float | None, fmt: str = ".3g") -> str:
    return "—" if value is None else format(value, fmt)


def ranked_rows(card: dict, task: str) -> tuple[list[str], list[list[str]]]:
    """One task's table: the models in the task's ranking (then the BM25 baseline), each metric with its interval."""
    models = {m["model"]: m for m in card["models"]}
    order = [*card["rankings"][task], *[m["model"] for m in card["models"] if m["baseline"]]]
    metrics = [k for k in METRIC_NAMES if any(k in models[m]["metrics"] for m in order)
               and TASK_OF[k] == task]
    rows = [[str(i + 1) if not models[m]["baseline"] else "baseline", m,
             *[_interval(models[m]["metrics"].get(k)) for k in metrics]]
            for i, m in enumerate(order) if any(k in models[m]["metrics"] for k in metrics)]
    return ["rank", "model", *[METRIC_NAMES[k] + (" (primary)" if k == PRIMARY[task] else "") for k in metrics]], rows


def cost_rows(card: dict) -> tuple[list[str], list[list[str]]]:
    header = ["model", "backend", "texts/s (range)", "ms/text", "one query (ms)", "load (s)", "peak memory (MiB)",
              "size on disk (MB)", "max tokens", "dims", "bytes/vector f32 · int8 · binary",
              "recall@10 kept int8 · binary (rescored)", "whole corpus: time · float32 storage"]
    rows = []
    for m in card["models"]:
        c = m["cost"]
        if not c:
            continue
        q = c.get("quantization_recall") or {}
        kept = " · ".join(f"{q[f]['recall']:.2f} ({q[f]['recall_rescored']:.2f})" for f in ("int8", "binary")
                          if f in q) or "—"
        b = c["bytes"]
        p = c["projected"]
        rows.append([m["model"], c["backend"], f"{c['texts_per_s']:,.0f} ({c['texts_per_s_low']:,.0f}–"
                     f"{c['texts_per_s_high']:,.0f})", f"{c['ms_per_text']:.3g}", f"{c['query_ms']:.3g}",
                     _num(c["load_s"], ".2f"), f"{c['peak_mib']:,.0f}", _num(c["model_mb"], ",.1f"),
                     _num(c["max_seq_length"], "d"), str(c["dims"]),
                     f"{b['float32']:,} · {b['int8']:,} · {b['binary']:,}", kept,
                     f"{p['seconds']:,.1f} s · {p['storage_mb']['float32']:,.2f} MB"])
    return header, rows


def sections(card: dict) -> list[Section]:
    """Everything the card says, in reading order."""
    env = card.get("environment") or {}
    out = [Section("Verdict", [*card["verdict"], *card.get("budgets", [])]),
           Section("Warnings", list(card.get("warnings", []))),
           Section("Tasks", [f"{t['description']} (n = {t['n']:,}; primary metric: {METRIC_NAMES[t['primary_metric']]})"
                             + "".join(f" {note}" for note in t["notes"]) for t in card["tasks"]] + card["notes"])]
    for task in [t for t in TASK_ORDER if t in card["rankings"]]:
        header, rows = ranked_rows(card, task)
        out.append(Section(f"Ranking: {task}", [
            "Order: models no other model beats by a detectable difference on the primary metric first, ties to the "
            "cheaper (more texts/s, then fewer bytes per vector); BM25 is a baseline, outside the ranking."],
            header, rows))
    header, rows = cost_rows(card)
    reused = [m["model"] for m in card["models"] if (m["cost"] or {}).get("reused")]
    out.append(Section("Costs, measured in this run", [
        f"On {env.get('cpu', 'this CPU')} ({env.get('cores', '?')} cores). texts/s: the median of timed runs on the "
        "user's texts without the cache (range in brackets); peak memory: what the process grew by while loading "
        "and timing the model (0 when it was already in memory); whole corpus: the time to embed it at that speed "
        "and its float32 vectors' size.", *([f"Measured by an earlier card in this server process (same model, "
                                              f"backend and corpus) and reused: {', '.join(reused)}."] if reused
                                             else [])], header, rows))
    fit_keys = sorted({k for m in card["models"] for k in m["fit"]})
    out.append(Section("Fit: what each model cannot see", [], ["model", *fit_keys], [
        [m["model"], *[_num(m["fit"].get(k)) if not isinstance(m["fit"].get(k), list) else ", ".join(m["fit"][k])
                       for k in fit_keys]] for m in card["models"] if not m["baseline"]]))
    out.append(Section("Differences between models", [
        "Each row: a − b with its Bonferroni-widened interval and the Holm-adjusted p; detectable when the interval "
        "excludes 0."], ["task", "metric", "a", "b", "a − b [interval]", "p (Holm)", "detectable"], [
        [d["task"], METRIC_NAMES[d["metric"]], d["a"], d["b"], _interval(d), f"{d['p_holm']:.3g}",
         "yes" if d["detectable"] else "no"] for d in card["differences"]]))
    if card["disagreements"]:
        out.append(Section("Where the top two disagree most", [], ["task", "item", "a", "b"], [
            [d["task"], d["item"], f"{d['a']}: {d['a_score']:.2f}", f"{d['b']}: {d['b_score']:.2f}"]
            for d in card["disagreements"]]))
    out.append(Section("How this was measured", [
        card["method"], f"n per task: {', '.join(f'{k} {v:,}' for k, v in card['n'].items())}; "
        f"{card['resamples']:,} resamples; seed {card['seed']}.",
        f"Machine: {env.get('cpu', '?')}, {env.get('cores', '?')} cores, Python {env.get('python', '?')}; "
        + ", ".join(f"{k} {v}" for k, v in (env.get("versions") or {}).items()) + "."]))
    return [s for s in out if s.sentences or s.rows]


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(card: dict) -> str:
    """The card as Markdown."""
    lines = ["# Which model for these texts? A report card", ""]
    for s in sections(card):
        lines += [f"## {s.title}", ""]
        lines += [f"- {_md_cell(t)}" for t in s.sentences]
        if s.sentences:
            lines.append("")
        if s.rows:
            lines += ["| " + " | ".join(map(_md_cell, s.header)) + " |", "|" + "---|" * len(s.header),
                      *["| " + " | ".join(map(_md_cell, r)) + " |" for r in s.rows], ""]
    return "\n".join(lines)


def to_html(card: dict, figures: Sequence = ()) -> str:
    """The card as one HTML page; ``figures`` (plotly figures) are drawn inline, plotly.js included once, so the
    page opens without a network."""
    import plotly.io as pio

    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Report card</title><style>"
             "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;"
             "text-align:left;font-size:14px}</style></head><body>",
             "<h1>Which model for these texts? A report card</h1>"]
    for s in sections(card):
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        if s.sentences:
            parts.append("<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in s.sentences) + "</ul>")
        if s.rows:
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in s.header) + "</tr>"
                         + "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                                   for r in s.rows) + "</table>")
    for n, fig in enumerate(figures):
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=n == 0))
    parts.append("</body></html>")
    return "\n".join(parts)
