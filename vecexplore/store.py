"""Opening the Qdrant store: embedded on disk by default, a Qdrant server when a URL is given."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

from qdrant_client import QdrantClient

from vecexplore.config import HOME_ENV, home
from vecexplore.errors import VecexploreError

QDRANT_URL_ENV = "VECEXPLORE_QDRANT_URL"
QDRANT_KEY_ENV = "VECEXPLORE_QDRANT_API_KEY"


def open_client(url: str | None = None, path: str | Path | None = None) -> QdrantClient:
    """A Qdrant client: the server at ``url`` (or ``$VECEXPLORE_QDRANT_URL``), else embedded local mode in
    ``path`` (default ``<VECEXPLORE_HOME>/qdrant``). Local mode locks its folder: open one client per process."""
    url = url or os.environ.get(QDRANT_URL_ENV)
    if url:
        return QdrantClient(url=url, api_key=os.environ.get(QDRANT_KEY_ENV) or None)
    folder = Path(path) if path is not None else home() / "qdrant"
    try:
        return QdrantClient(path=str(folder))
    except RuntimeError as exc:
        raise VecexploreError(
            f"The embedded Qdrant folder {folder} is already open in another process (or client). Close it, or "
            f"run a Qdrant server and set {QDRANT_URL_ENV}=http://host:6333 so several processes can share it."
        ) from exc
    except (sqlite3.DatabaseError, ValueError, OSError, pickle.UnpicklingError) as exc:
        raise VecexploreError(
            f"The embedded Qdrant folder {folder} is damaged and cannot be opened ({type(exc).__name__}: {exc}). "
            f"Move it aside (its collections will have to be indexed again) or set {HOME_ENV} to another folder."
        ) from exc
