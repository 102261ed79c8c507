"""Where vecexplore keeps its on-disk state, and the settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

HOME_ENV = "VECEXPLORE_HOME"
ALLOW_DOWNLOAD_ENV = "VECEXPLORE_ALLOW_DOWNLOAD"
WARMUP_ENV = "VECEXPLORE_WARMUP"
MODEL_DIRS_ENV = "VECEXPLORE_MODEL_DIRS"
DATA_DIRS_ENV = "VECEXPLORE_DATA_DIRS"
QDRANT_ALLOW_ENV = "VECEXPLORE_QDRANT_ALLOW"


def home() -> Path:
    """The folder holding all on-disk state (embedding cache, Qdrant data, exported models).

    ``$VECEXPLORE_HOME`` moves it; otherwise the platform's user data folder is used.
    """
    path = Path(os.environ.get(HOME_ENV) or user_data_dir("vecexplore", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def downloads_allowed() -> bool:
    """Whether hub model ids may be downloaded (off unless ``VECEXPLORE_ALLOW_DOWNLOAD=1``)."""
    return os.environ.get(ALLOW_DOWNLOAD_ENV, "").strip().lower() in {"1", "true", "yes"}


def warmup_enabled() -> bool:
    """Whether the app warms up (compiles UMAP, exports MiniLM) in the background at start (``VECEXPLORE_WARMUP=0``
    turns it off)."""
    return os.environ.get(WARMUP_ENV, "1").strip().lower() not in {"0", "false", "no"}


def _absolute_dirs(env: str) -> list[Path]:
    """The absolute folders listed in ``$env`` (separated by ``os.pathsep``: ``:`` on Linux and macOS; ``~`` is
    expanded, relative entries are ignored)."""
    listed = [Path(p.strip()).expanduser() for p in os.environ.get(env, "").split(os.pathsep) if p.strip()]
    return [p for p in listed if p.is_absolute()]


def model_dirs() -> list[Path]:
    """The folders whose sentence-transformers models the app's "Other model" box may load: ``<home>/models``,
    then the absolute folders listed in ``$VECEXPLORE_MODEL_DIRS``. The command line is not limited to them."""
    return [home() / "models", *_absolute_dirs(MODEL_DIRS_ENV)]


def data_dirs() -> list[Path]:
    """The folders under which the app may open an existing Qdrant collection (a qdrant-client local-mode folder
    or a vecexplore store folder): the absolute folders listed in ``$VECEXPLORE_DATA_DIRS``, none by default. The
    command line is not limited to them."""
    return _absolute_dirs(DATA_DIRS_ENV)


def qdrant_allow() -> list[str]:
    """The URL prefixes of the Qdrant servers whose collections the app may open: ``$VECEXPLORE_QDRANT_ALLOW``
    (comma-separated; set but empty: none), by default the store's own server, ``$VECEXPLORE_QDRANT_URL``, when
    one is set. The command line is not limited to them."""
    listed = os.environ.get(QDRANT_ALLOW_ENV)
    if listed is None:
        listed = os.environ.get("VECEXPLORE_QDRANT_URL", "")
    return [p.strip() for p in listed.split(",") if p.strip()]
