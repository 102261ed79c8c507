"""Where vecexplore keeps its on-disk state, and the settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

HOME_ENV = "VECEXPLORE_HOME"
ALLOW_DOWNLOAD_ENV = "VECEXPLORE_ALLOW_DOWNLOAD"
WARMUP_ENV = "VECEXPLORE_WARMUP"
MODEL_DIRS_ENV = "VECEXPLORE_MODEL_DIRS"


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


def model_dirs() -> list[Path]:
    """The folders whose sentence-transformers models the app's "Other model" box may load: ``<home>/models``,
    then the absolute folders listed in ``$VECEXPLORE_MODEL_DIRS`` (separated by ``os.pathsep``: ``:`` on Linux
    and macOS; ``~`` is expanded, relative entries are ignored). The command line is not limited to them."""
    extra = [Path(p.strip()).expanduser() for p in os.environ.get(MODEL_DIRS_ENV, "").split(os.pathsep) if p.strip()]
    return [home() / "models", *(p for p in extra if p.is_absolute())]
