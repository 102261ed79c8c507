"""A page's numeric widgets, drawn from their one declaration in :data:`vecexplore.validation.LIMITS`.

``slider``/``number`` take a setting's name and the widget's key: the range the widget offers (``Limit.widget``),
its default, step and help all come from the declaration, and :meth:`pages.ui.links.Param.limited` accepts the same
range from a link. A bound that depends on the data (whitening keeps at most the set's dims) is passed as ``hi``:
the widget, its default and a value restored from a link are clamped to it when drawn.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from vecexplore.validation import LIMITS, Limit


def kind(name: str) -> type:
    """int for a whole-number setting, float for the others (what the widget returns)."""
    limit = LIMITS[name]
    values = (limit.lo, limit.hi, limit.default, limit.step, *limit.widget)
    return float if any(isinstance(v, float) for v in values if v is not None) else int


def bounds(name: str) -> tuple[float, float]:
    """The range a widget offers for ``name`` (and a link may hold): ``Limit.widget``, in the setting's kind."""
    lo, hi = LIMITS[name].widget
    cast = kind(name)
    return (lo if math.isinf(lo) else cast(lo)), (hi if math.isinf(hi) else cast(hi))


def default(name: str) -> float | None:
    limit = LIMITS[name]
    return None if limit.default is None else kind(name)(limit.default)


def _arguments(name: str, key: str, hi: float | None, slider: bool) -> dict[str, Any]:
    """The widget's range, value, step and help; a value restored from a link is clamped into the range."""
    limit: Limit = LIMITS[name]
    low, high = bounds(name)
    value = default(name)
    if hi is not None:  # a bound of the data: the default and a linked value stop there too
        high = min(high, hi)
        value = None if value is None else min(value, high)
        if slider and high <= low:  # a slider needs two different ends
            high = low + (1 if kind(name) is int else limit.step or 1.0)
    kept = st.session_state.get(key)
    if isinstance(kept, int | float) and not low <= kept <= high:
        st.session_state[key] = min(max(kept, low), high)
    arguments: dict[str, Any] = dict(min_value=None if math.isinf(low) else low,
                                     max_value=None if math.isinf(high) else high, value=value, key=key)
    if limit.step is not None:
        arguments["step"] = kind(name)(limit.step)
    if limit.help:
        arguments["help"] = limit.help
    return arguments


def slider(name: str, key: str, label: str, where: Any = st, hi: float | None = None, **options: Any) -> Any:
    """A slider for setting ``name`` under ``key`` (``where``: a column or container; ``hi``: a bound of the data;
    ``options``: the rest of ``st.slider``'s, e.g. ``disabled``)."""
    return where.slider(label, **{**_arguments(name, key, hi, slider=True), **options})


def number(name: str, key: str, label: str, where: Any = st, hi: float | None = None, **options: Any) -> Any:
    """A number box for setting ``name`` under ``key`` (as :func:`slider`)."""
    return where.number_input(label, **{**_arguments(name, key, hi, slider=False), **options})
