"""Shareable links: the sidebar's and the page's main settings live in the URL (``st.query_params``).

A page declares its settings with :func:`page` (before its widgets); the first run of a session restores them
from the URL into the widgets' state, checking each value (a link edited by hand gets a warning naming the
setting, never a traceback), and :func:`publish` (after every run, from ``app.py``) writes the current values
back, so the address bar always holds a link that reopens the same view. A corpus that came from a file or pasted
text is not in the link: opening it says so, and the rest is restored once the text is given again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from pages.ui import settings
from pages.ui.text import md

LIST_SEP = "|"


@dataclass(frozen=True)
class Param:
    """One setting in the URL: the widget's ``key``, its type, and the values allowed (``options``: a sequence
    or a function returning one; ``lo``/``hi``: a numeric range)."""

    key: str
    kind: type = str  # str, int, float, bool or list (of str)
    options: Sequence | Callable[[], Sequence] | None = None
    lo: float = -math.inf
    hi: float = math.inf
    optional: bool = False  # may be empty (None), e.g. a text picked on the map

    @classmethod
    def limited(cls, key: str, kind: type, limit: str) -> Param:
        """A numeric setting declared as ``LIMITS[limit]``: a link may hold what its widget offers
        (:func:`pages.ui.settings.bounds`)."""
        lo, hi = settings.bounds(limit)
        return cls(key, kind, lo=lo, hi=hi)

    def parse(self, raw: str):
        """The URL's text as this setting's value; ValueError with a reason when it is not allowed."""
        if self.optional and raw == "":
            return None
        if self.kind is bool:
            if raw not in ("true", "false"):
                raise ValueError("true or false")
            return raw == "true"
        try:
            value = [v for v in raw.split(LIST_SEP) if v] if self.kind is list else self.kind(raw)
        except ValueError:
            raise ValueError("a whole number" if self.kind is int else "a number") from None
        if self.kind in (int, float) and (not math.isfinite(value) or not self.lo <= value <= self.hi):
            raise ValueError(f"a number from {self.lo:g} to {self.hi:g}")
        allowed = self.options() if callable(self.options) else self.options
        if allowed is not None:
            bad = [v for v in (value if self.kind is list else [value]) if v not in allowed]
            if bad:
                shown = ", ".join(map(str, list(allowed)[:12]))
                raise ValueError(f"one of {shown}")
        return value

    def render(self, value) -> str | None:
        """The value as URL text (None: leave it out)."""
        if value is None:
            return None
        if self.kind is bool:
            return "true" if value else "false"
        if self.kind is list:
            return LIST_SEP.join(map(str, value)) or None
        return str(value)


def opened(key: str) -> str | None:
    """What the URL this session was opened with said about ``key``."""
    return st.session_state.get("_link_opened", {}).get(key) or None


def restore(params: Sequence[Param], scope: str) -> None:
    """On this session's first run of ``scope`` (the sidebar, a page), set each setting the link that opened
    the session holds."""
    st.session_state.setdefault("_link_opened", st.query_params.to_dict())
    done = st.session_state.setdefault("_links_restored", set())
    if scope in done:
        return
    done.add(scope)
    link = st.session_state["_link_opened"]
    for p in params:
        if p.key not in link:
            continue
        raw = link[p.key]
        try:
            st.session_state[p.key] = p.parse(raw)
        except ValueError as exc:
            st.warning(f"The link's {md(p.key)} = {md(repr(raw[:60]))} is not allowed (expected {md(str(exc))}); "
                       "the default is used instead.", icon="🔗")


def leave_pages_directory_mode() -> bool:
    """Switch off Streamlit's older multipage mode, in which a script in ``pages/`` runs on its own, without
    ``app.py`` (sidebar, navigation) around it; True if it was on.

    The one use of Streamlit's private API in the project, and no public way exists (Streamlit 1.67): a folder
    named ``pages/`` beside the entry point turns that mode on when a server starts, and only a call of
    ``st.navigation`` turns it off ("As soon as any session of your app executes the st.navigation command, your
    app will ignore the pages/ directory", st.navigation's documentation). Until then, a link straight to a page
    runs the page alone: Streamlit's maintainers saw it in streamlit/streamlit#10276 (a pages folder + st.navigation
    and a URL path opened directly "completely switch[ed] back to MPAv1") and left the per-process flag as it is;
    their advice is to rename the folder, which this project keeps named ``pages/``. Used by :func:`page` (a link
    opened on a fresh server) and by the tests (``AppTest`` turns the mode back on before every run)."""
    from streamlit.runtime.pages_manager import PagesManager

    was_on = bool(PagesManager.uses_pages_directory)
    PagesManager.uses_pages_directory = False
    return was_on


def _through_the_app() -> None:
    """Make a link straight to a page run the app around it: rerun it through ``app.py``'s navigation."""
    from streamlit import config

    if not config.get_option("global.appTest") and leave_pages_directory_mode():
        st.rerun()


def page(params: Sequence[Param], scope: str) -> None:
    """Declare a page's settings: restore them from the URL (first run only) and publish them. Published here
    too, not only after the run: a widget's new value is already in the session state when its rerun starts,
    and a page may stop early."""
    _through_the_app()
    restore(params, scope)
    st.session_state["_link_params"] = [*st.session_state.get("_link_sidebar", ()), *params]
    publish()


def start_run(sidebar: Sequence[Param]) -> None:
    """Begin a run: the settings to publish are the sidebar's, then whatever the page declares."""
    st.session_state["_link_sidebar"] = st.session_state["_link_params"] = list(sidebar)


def publish() -> None:
    """Write the current values of the declared settings into the URL (the address bar is the share link)."""
    values = {}
    for p in st.session_state.get("_link_params", ()):
        text = p.render(st.session_state.get(p.key))
        if text is not None:
            values[p.key] = text
    if values != st.query_params.to_dict():
        st.query_params.from_dict(values)
