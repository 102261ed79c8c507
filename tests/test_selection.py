"""The map's text filter: a user's regular expression runs in time linear in the text (RE2), matches what Python's
``re`` matches on ordinary patterns, and a construct RE2 cannot run is named to the user."""

import re
import threading
import time

import numpy as np
import pytest

from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import DEMOS, load_demo
from vecexplore.maps.selection import text_mask
from vecexplore.patterns import MAX_PATTERN, compile_user_pattern

# Patterns that Python's re backtracks on for hours (the first on any ordinary sentence), and a text that makes
# the others explode: nested quantifiers over the same characters, then a tail that fails the match.
EVIL = [r"(\w+\s?)*$", r"(\w+\s?)*!$", r"(a+)+$", r"(a|aa)+$", r"(a|a?)+$", r"(.*a){12}$",
        r"^(([a-z])+.)+[A-Z]([a-z])+$", r"(x+x+)+y"]
EVIL_TEXT = "a" * 40 + "!" + " word" * 30 + " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

# Ordinary patterns: RE2 must give Python's mask on the demo texts.
BENIGN = [r"goal", r"^the", r"\.$", r"bank|rate", r"\bbread\b", r"\d+", r"[A-Z]{2,}\.", r"ing\b", r"\w+ing \w+",
          r"^[^aeiou]", r"(team|match).*(won|lost)", r"\s\w{2}\s", r"harbou?r", r"(?i)SPACE", r"\bthe\b.*\bthe\b",
          r"[.,;:!?]\s*$", r"^.{0,30}$", r"[^\x00-\x7f]", r"(?:very )+", r"\w{12,}", r"e{2}", r"^\w+ \w+ \w+\.$",
          r"caf\w", r"\w+é\w*", r"Ü"]
# The demos are ASCII; a few accented texts check that \w and case folding reach past ASCII as in re (RE2's \b
# does not: see vecexplore/patterns.py).
ACCENTED = ["Le café est très bon.", "Die Übung in der Straße 42.", "Un résumé naïf, déjà vu."]

# Constructs RE2 has no linear-time way to run: each is refused with its name.
UNSUPPORTED = {
    r"(goal)\s+\1": "backreferences like \\1",
    r"(?P<w>\w+) (?P=w)": "named backreferences like (?P=name)",
    r"goal(?= kick)": "look-ahead (?=…)/(?!…)",
    r"goal(?! kick)": "look-ahead (?=…)/(?!…)",
    r"(?<=red )wine": "look-behind (?<=…)/(?<!…)",
    r"(?<!red )wine": "look-behind (?<=…)/(?<!…)",
    r"\w++": "possessive quantifiers like a++ or a*+",
    r"(?>goal|goals)": "atomic groups (?>…)",
    r"(?#a comment)goal": "comments (?#…)",
    r"(?x) goal  kick": "the verbose flag (?x)",
    r"x{1001}": "a repetition count over 1,000",
    r"[\W\d]": "\\W, \\S or \\D inside […]",
    r"caf\u00e9": "the escape \\u",
}


@pytest.fixture(scope="module")
def demo_texts() -> list[str]:
    return [t for name in DEMOS for t in load_demo(name).texts] + ACCENTED


def test_catastrophic_patterns_run_in_linear_time(demo_texts):
    texts = [*demo_texts[:300], EVIL_TEXT]
    for pattern in EVIL:
        start = time.perf_counter()
        mask = text_mask(texts, pattern, regex=True)
        took = time.perf_counter() - start
        assert took < 0.5, f"{pattern!r} took {took:.2f} s on {len(texts)} texts"
        assert mask.dtype == bool and len(mask) == len(texts)
    assert text_mask(texts, r"(\w+\s?)*$", regex=True).all()  # matches (the empty tail) without backtracking


def test_matching_releases_the_gil():
    """A long match in one thread leaves the others running (what keeps the server's event loop alive)."""
    compiled = compile_user_pattern(r"(\w+\s?)*$")
    text = "word " * 100_000  # a match with its groups: ~0.3 s in one call
    ticks = []
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    other = threading.Thread(target=tick)
    other.start()
    start = time.perf_counter()
    found = compiled.search(text)
    took = time.perf_counter() - start
    done.set()
    other.join()
    assert found.span() == (0, len(text)) and took < 5
    # had the match held the GIL, the other thread could not have ticked while it ran
    during = [t for t in ticks if start < t < start + took]
    assert len(during) >= 10, (took, len(during))


@pytest.mark.parametrize("pattern", BENIGN)
def test_benign_patterns_match_like_python_re(demo_texts, pattern):
    expected = np.array([re.search(pattern, t, re.IGNORECASE) is not None for t in demo_texts])
    assert (text_mask(demo_texts, pattern, regex=True) == expected).all()


def test_the_benign_patterns_are_not_trivial(demo_texts):
    counts = [int(text_mask(demo_texts, p, regex=True).sum()) for p in BENIGN]
    assert sum(0 < c < len(demo_texts) for c in counts) >= len(BENIGN) - 1, counts


@pytest.mark.parametrize("pattern", list(UNSUPPORTED))
def test_unsupported_constructs_are_named(pattern, hostile):
    re.compile(pattern)  # valid for Python's re: only the engine differs
    with pytest.raises(VecexploreError) as refused:
        text_mask(["a red wine", "goal kick"], pattern, regex=True)
    message = str(refused.value)
    assert UNSUPPORTED[pattern] in message
    assert "switch 'Regular expression' off" in message and "RE2" in message
    hostile("core: text filter (regular expression)", pattern, message)


def test_invalid_and_overlong_patterns(hostile):
    with pytest.raises(VecexploreError, match="not a valid regular expression") as refused:
        text_mask(["x"], "([a-z", regex=True)
    hostile("core: text filter (regular expression)", "([a-z", str(refused.value))
    with pytest.raises(VecexploreError, match=f"keep it under {MAX_PATTERN}"):
        compile_user_pattern("a" * (MAX_PATTERN + 1))


def test_plain_text_and_empty_filters_are_unchanged():
    texts = ["The Goal", "(\\w+\\s?)*$ literally", "nothing"]
    assert text_mask(texts, "goal").tolist() == [True, False, False]
    assert text_mask(texts, r"(\w+\s?)*$").tolist() == [False, True, False]  # not a regex: the characters as typed
    assert text_mask(texts, "").all()
