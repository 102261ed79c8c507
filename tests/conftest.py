"""Shared fixtures: offline mode, a throw-away VECEXPLORE_HOME, and models loaded once per test session."""

import os
import tempfile
from pathlib import Path

# Before anything imports huggingface_hub: the tests must pass with no hub access.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["VECEXPLORE_WARMUP"] = "0"  # no background warm-up thread competing with the tests for the CPU
os.environ.setdefault("VECEXPLORE_HOME", tempfile.mkdtemp(prefix="vecexplore-test-home-"))

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


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
    from vecexplore.corpus import load_demo

    return load_demo("topics")


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
    called; AppTest resets that flag before every run, which would run a page without ``app.py`` around it.
    """
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.pages_manager import PagesManager

    class NavigationPagesManager(PagesManager):
        def __init__(self, *args, **kwargs):
            PagesManager.uses_pages_directory = False
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(app_test, "PagesManager", NavigationPagesManager)


@pytest.fixture(scope="session")
def minilm_onnx():
    """all-MiniLM-L6-v2 on the default backend (exported to ONNX once per test session's VECEXPLORE_HOME)."""
    from vecexplore.encoders import MINILM_ID, load_encoder

    return load_encoder(MINILM_ID)
