"""Shared fixtures: offline mode, a throw-away VECEXPLORE_HOME, and models loaded once per test session."""

import os
import re
import tempfile
from pathlib import Path

# Before anything imports huggingface_hub: the tests must pass with no hub access.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["VECEXPLORE_WARMUP"] = "0"  # no background warm-up thread competing with the tests for the CPU
_OWN_HOME = "VECEXPLORE_HOME" not in os.environ
if _OWN_HOME:
    os.environ["VECEXPLORE_HOME"] = tempfile.mkdtemp(prefix="vecexplore-test-home-")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# ONNX exports and the distilled model are content-addressed (weights digest + export format): one copy in the
# checkout serves every test run and every test server, instead of an export per run.
MODELS = ROOT / ".cache" / "test-models"


def share_models(home: Path) -> None:
    """Point ``home/models`` at the checkout's shared model folder."""
    MODELS.mkdir(parents=True, exist_ok=True)
    if not (home / "models").exists():
        (home / "models").symlink_to(MODELS, target_is_directory=True)


if _OWN_HOME:  # never touch a data folder the person running the tests chose
    share_models(Path(os.environ["VECEXPLORE_HOME"]))


@pytest.fixture(scope="session")
def minilm():
    from vecexplore.encoders import MiniLMEncoder

    return MiniLMEncoder()


@pytest.fixture(scope="session")
def glove():
    from vecexplore.encoders import GloveEncoder

    return GloveEncoder()


@pytest.fixture(scope="session")
def topics():
    from vecexplore.files.corpus import load_demo

    return load_demo("topics")


@pytest.fixture(scope="session")
def topic_eset(minilm, topics):
    """The topics demo embedded by MiniLM, once per test session."""
    from vecexplore.cache import embed

    return embed(topics.texts, minilm, labels=topics.labels)[0]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA} (it sits beside the project in CI)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch):
    """Run AppTest the way the server runs after its first script run.

    The project has a top-level ``pages/`` folder (the pages that ``app.py`` registers with ``st.navigation``).
    Streamlit's server treats the folder as the old ``pages/`` directory only until ``st.navigation`` is first
    called; AppTest turns that mode back on before every run (when it makes the run's pages manager), which would
    run a page without ``app.py`` around it. The app's own switch, ``links.leave_pages_directory_mode``, turns it
    off again (why no public way exists: its docstring).
    """
    import streamlit.testing.v1.app_test as app_test

    from pages.ui.links import leave_pages_directory_mode

    class NavigationPagesManager(app_test.PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            leave_pages_directory_mode()

    monkeypatch.setattr(app_test, "PagesManager", NavigationPagesManager)


@pytest.fixture(scope="session")
def minilm_onnx():
    """all-MiniLM-L6-v2 on the default backend (exported to ONNX once per test session's VECEXPLORE_HOME)."""
    from vecexplore.encoders import MINILM_ID, load_encoder

    return load_encoder(MINILM_ID)


# --- The generated reliability table: every hostile input the suite tries, where, and what the user sees. ---

RELIABILITY = ROOT / "docs" / "reliability.md"
_HOSTILE: list[tuple[str, str, str]] = []
_TMP = re.compile(r"(?:/tmp|/var/folders)/\S*?/(?=[^/\s]+(?:\s|$|[.,:;'\"]))")


def _clean(text: str) -> str:
    """One line, temporary folders shortened (they differ on every run)."""
    return _TMP.sub("…/", " ".join(str(text).split()))


@pytest.fixture
def hostile(request):
    """``hostile(where, given, seen)``: record that ``given`` was tried at ``where`` and the user saw ``seen``."""

    def record(where: str, given: str, seen: str) -> None:
        assert seen, f"{where}: {given!r} showed the user nothing"
        _HOSTILE.append((where, _clean(given), _clean(seen)))

    return record


def _cell(text: str, code: bool = False) -> str:
    """A table cell that shows ``text`` literally: a code span (pipes escaped, as GFM tables need) or escaped
    Markdown."""
    if code:
        fence = "``" if "`" in text else "`"
        return f"{fence} {text.replace('|', chr(92) + '|')} {fence}"
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>$:&])", r"\\\1", text)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (the browser tests screenshot a failed page)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_sessionfinish(session, exitstatus):
    """With ``VECEXPLORE_RELIABILITY=1`` (``make reliability``), rewrite docs/reliability.md after a full, green run
    of the suite; ``make test`` and filtered runs leave the tree as it was."""
    opt = session.config.option
    args = [Path(a).resolve() for a in session.config.args]
    full = not opt.keyword and not opt.markexpr and all(a == ROOT / "tests" for a in args)
    if not (os.environ.get("VECEXPLORE_RELIABILITY") == "1" and full and exitstatus == 0 and _HOSTILE):
        return
    rows = sorted(set(_HOSTILE))
    lines = ["# Reliability: hostile inputs and what a user sees", "",
             "Generated by the test suite (`make reliability`; tests/conftest.py) — not written by hand. Each row is "
             "one hostile input a test fed to the app, the CLI or the core, where, and the message the user got. Every "
             "row passed: no traceback, no script run, no text rendered as Markdown/HTML.", "",
             f"{len(rows)} inputs.", "", "| where | hostile input | what the user sees |", "|---|---|---|"]
    lines += [f"| {_cell(w)} | {_cell(g, code=True)} | {_cell(s)} |" for w, g, s in rows]
    RELIABILITY.write_text("\n".join(lines) + "\n", encoding="utf-8")
