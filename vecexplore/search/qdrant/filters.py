"""Payload filters the page and the CLI share: one value, several values, or a numeric range on any field."""

from __future__ import annotations

import math
from dataclasses import dataclass

from vecexplore.errors import VecexploreError


@dataclass(frozen=True)
class FieldFilter:
    """``field`` equals one of ``values``, or lies in ``[lo, hi]`` (either end open when ``None``)."""

    field: str
    values: tuple[str | int | bool, ...] = ()
    lo: float | None = None
    hi: float | None = None

    def __post_init__(self) -> None:
        if not self.field:
            raise VecexploreError("A filter needs a field name.")
        ranged = self.lo is not None or self.hi is not None
        if ranged == bool(self.values):
            raise VecexploreError(f"Filter on {self.field!r}: give either values or a range, not both or neither.")
        for end in (self.lo, self.hi):
            if end is not None and not math.isfinite(end):
                raise VecexploreError(f"Filter on {self.field!r}: range ends must be finite numbers.")
        if self.lo is not None and self.hi is not None and self.lo > self.hi:
            raise VecexploreError(f"Filter on {self.field!r}: the range {self.lo:g}..{self.hi:g} is empty.")

    @property
    def is_range(self) -> bool:
        return not self.values

    def describe(self) -> str:
        if self.is_range:
            lo, hi = ("" if end is None else f"{end:g}" for end in (self.lo, self.hi))
            return f"{self.field} in {lo}..{hi}"
        return f"{self.field} = " + " | ".join(map(str, self.values))


def _number(text: str, item: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise VecexploreError(f"In filter {item!r}, {text!r} is not a number.") from None


def parse_filter(item: str) -> FieldFilter:
    """``label=Sports`` (one value), ``label=Sports|World`` (any of them), ``year=2000..2010`` (a numeric range,
    ``2000..`` or ``..2010`` open-ended)."""
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise VecexploreError(f"A filter takes field=value, field=a|b or field=lo..hi (got {item!r}).")
    if ".." in value:
        lo, _, hi = value.partition("..")
        return FieldFilter(key, lo=_number(lo, item), hi=_number(hi, item))
    return FieldFilter(key, values=tuple(v for v in value.split("|")))
