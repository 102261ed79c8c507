"""The report card on the page: verdict, warnings, the task picked for the pictures, the card's tables, the forest
plot and quality-vs-speed, and the downloads (Markdown, HTML, JSON)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from pages.ui.text import md
from vecexplore.choosing.card import TASK_ORDER, sections, to_html, to_markdown
from vecexplore.choosing.figures import forest, quality_vs_speed

SHOWN_FIRST = ("Verdict", "Warnings", "Tasks")


def default_task(card: dict) -> str:
    """Retrieval when the card has it, else classification, else its first task."""
    kinds = [t for t in TASK_ORDER if t in card["rankings"]]
    return next((t for t in ("retrieval", "classification") if t in kinds), kinds[0])


def show(card: dict) -> None:
    """Draw ``card`` (a :meth:`ChoiceReport.to_dict`)."""
    parts = {s.title: s for s in sections(card)}
    verdict = parts["Verdict"].sentences
    st.success(md(verdict[0]), icon="🏆")
    for sentence in verdict[1:]:
        st.markdown("- " + md(sentence))
    for warning in parts.get("Warnings").sentences if "Warnings" in parts else []:
        st.warning(md(warning), icon="👀")
    with st.expander("The tasks, and how they were built", expanded=False):
        for sentence in parts["Tasks"].sentences:
            st.markdown("- " + md(sentence))

    kinds = [t for t in TASK_ORDER if t in card["rankings"]]
    st.session_state.setdefault("choose_task", default_task(card))
    if st.session_state["choose_task"] not in kinds:
        st.session_state["choose_task"] = default_task(card)
    task = st.radio("Pictures for the task", kinds, horizontal=True, key="choose_task")
    left, right = st.columns(2)
    left.plotly_chart(forest(card, task), width="stretch", key="choose_forest")
    right.plotly_chart(quality_vs_speed(card, task), width="stretch", key="choose_pareto")

    for title, section in parts.items():
        if title in SHOWN_FIRST:
            continue
        st.subheader(md(title))
        for sentence in section.sentences:
            st.caption(md(sentence))
        if section.rows:
            st.dataframe(pd.DataFrame(section.rows, columns=section.header), hide_index=True, width="stretch")

    figures = [forest(card, t) for t in kinds] + [quality_vs_speed(card, t) for t in kinds]
    d1, d2, d3 = st.columns(3)
    d1.download_button("Download the card (Markdown)", to_markdown(card), "report-card.md", "text/markdown",
                       key="choose_md")
    d2.download_button("Download the card (HTML)", to_html(card, figures), "report-card.html", "text/html",
                       key="choose_html")
    d3.download_button("Download the card (JSON)", json.dumps(card, indent=1, default=str), "report-card.json",
                       "application/json", key="choose_json")
