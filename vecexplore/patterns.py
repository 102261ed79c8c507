"""A user's regular expression, run in time proportional to the text (RE2), never by a backtracking engine.

Python's ``re`` backtracks: ``(\\w+\\s?)*$`` on one ordinary sentence runs for hours while holding the GIL, so one
shared link froze every session of the server and it ignored SIGTERM. RE2 (the ``pyre2`` package, imported as
``re2``) matches in linear time and releases the GIL while it matches. It has no backreferences, look-around,
possessive or atomic groups; pyre2 would quietly run such a pattern with Python's ``re`` instead, so that fallback
is made an error here and the user is told which construct to rewrite.

One difference from Python's ``re`` remains: RE2's ``\\b`` counts only ASCII letters, digits and ``_`` as word
characters (``\\w``, ``\\d`` and ``\\s`` are Unicode-aware, as in ``re``).
"""

from __future__ import annotations

import re

import re2

from vecexplore.errors import VecexploreError

MAX_PATTERN = 500  # characters of a user's pattern

# pyre2's fallback setting is one module-wide value; nothing else in the app uses re2, and it is only ever set to
# this. compile_user_pattern also refuses a fallback pattern itself, so it does not depend on the setting.
re2.set_fallback_notification(re2.FALLBACK_EXCEPTION)

_SWITCH_OFF = "or switch 'Regular expression' off to search for the characters as typed"

# (what RE2's error message contains, the construct named for the user, how to do without it)
_CONSTRUCTS: tuple[tuple[str, str, str], ...] = (
    ("Backreferences not supported", "backreferences like \\1",
     "write the repeated text out (e.g. (ab)\\1 → abab)"),
    ("operator: (?P", "named backreferences like (?P=name)", "write the repeated text out"),
    ("operator: (?=", "look-ahead (?=…)/(?!…)", "match the text that follows as part of the pattern "
     "(e.g. goal(?= kick) → goal kick)"),
    ("operator: (?!", "look-ahead (?=…)/(?!…)", "match the text that follows as part of the pattern, or list "
     "what may follow in a class such as [^s]"),
    ("operator: (?<", "look-behind (?<=…)/(?<!…)", "match the text before as part of the pattern "
     "(e.g. (?<=red )wine → red wine)"),
    ("operator: (?>", "atomic groups (?>…)", "use a plain group (?:…), which RE2 never backtracks into"),
    ("bad repetition operator", "possessive quantifiers like a++ or a*+",
     "use the plain quantifier (a+, a*), which RE2 never backtracks into"),
    ("operator: (?(", "conditionals (?(1)…|…)", "write both alternatives out with |"),
    ("operator: (?#", "comments (?#…)", "delete the comment"),
    ("operator: (?x", "the verbose flag (?x)", "delete the flag and the spaces it ignored"),
    ("operator: (?", "the group or flag", "use only the groups and flags RE2 knows: (?:…), (?P<name>…), (?i), (?m), "
     "(?s)"),
    ("invalid repetition size", "a repetition count over 1,000", "use + or * instead of {n} past 1,000"),
    ("\\W and \\S not supported inside character classes", "\\W, \\S or \\D inside […]",
     "write a negated class instead (e.g. [\\W] → [^\\w])"),
    ("invalid escape sequence", "the escape", "write the character itself, or \\x{…} for a code point"),
    ("pattern too large", "a pattern this large", "use + or * instead of long counted repetitions"),
)


def _refusal(reason: str) -> VecexploreError:
    """The error for a pattern that Python's ``re`` accepts and RE2 cannot run (``reason``: RE2's message)."""
    for marker, what, rewrite in _CONSTRUCTS:
        if marker in reason:
            token = reason.split(": ", 1)[-1]
            detail = f" {token}" if what == "the escape" else f" {token}…)" if what == "the group or flag" else ""
            return VecexploreError(
                f"The text filter uses {what}{detail}, which the filter cannot run: it matches with RE2, in time "
                f"proportional to the text, and RE2 does not support it. To filter anyway, {rewrite}, {_SWITCH_OFF}.")
    return VecexploreError(f"The text filter uses a construct RE2 cannot run ({reason}); the filter matches with RE2, "
                           f"in time proportional to the text. Rewrite the pattern without it, {_SWITCH_OFF}.")


def compile_user_pattern(pattern: str, ignore_case: bool = True):
    """``pattern`` compiled by RE2 (case-insensitive unless ``ignore_case`` is False): its ``search`` runs in time
    linear in the text. A pattern longer than :data:`MAX_PATTERN`, not valid, or using a construct RE2 lacks
    raises a :class:`VecexploreError` that names the construct and says how to do without it."""
    if len(pattern) > MAX_PATTERN:
        raise VecexploreError(f"The text filter is {len(pattern):,} characters long; keep it under {MAX_PATTERN}.")
    flags = re2.IGNORECASE if ignore_case else 0
    try:
        compiled = re2.compile(pattern, flags)
    except re.error as exc:  # RE2 refused it: invalid anywhere, or valid only for a backtracking engine
        reason = str(exc)
    else:
        if not isinstance(compiled, re2.FallbackPattern):
            return compiled
        reason = "a construct only a backtracking engine runs"
    try:
        re.compile(pattern, re.IGNORECASE if ignore_case else 0)  # parsing is linear; only matching backtracks
    except (re.error, RecursionError, OverflowError) as exc:
        raise VecexploreError(f"The text filter is not a valid regular expression ({exc}); {_SWITCH_OFF[3:]}.") \
            from None
    raise _refusal(reason) from None
