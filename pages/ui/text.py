"""The one rule for showing a user's text: always as text, never as Markdown, HTML, LaTeX or a link.

Streamlit renders Markdown (with LaTeX, emoji and colour directives, and GitHub's autolinks) in ``st.markdown``,
captions, alerts, headers, widget labels and metric values; plotly renders a subset of HTML in hover labels,
legends, titles and text marks. Every string that can carry user text goes through :func:`md` or :func:`plain`
before it reaches one of those (``plain`` is the core's, :mod:`vecexplore.plotting`, which draws the
figures).
"""

from __future__ import annotations

import re

from vecexplore.plotting import plain

__all__ = ["md", "plain"]

_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")  # every ASCII punctuation character
_AUTOLINK = re.compile(r"(?i)(?<=www)\.|(?<=:)//|@")  # what GitHub-flavoured Markdown turns into a link
_JOINER = "\u2060"  # WORD JOINER: invisible, and breaks the autolink patterns


def md(text: object) -> str:
    """``text`` for a Markdown context, shown literally: whitespace runs collapsed to one space, ASCII punctuation
    as numeric character references (so no emphasis, link, image, heading, list, table, HTML, LaTeX or directive
    can form), and a word joiner inside ``www.``, ``://`` and ``@`` (which GitHub-flavoured Markdown would
    otherwise autolink even when escaped)."""
    flat = " ".join(str(text).split())
    flat = _AUTOLINK.sub(lambda m: _JOINER + m.group(), flat)
    return _PUNCT.sub(lambda m: f"&#{ord(m.group())};", flat)
