"""Opening the search store: Qdrant Edge embedded in this process by default, a Qdrant server when a URL is given.

Folders written by older versions (qdrant-client's local mode: ``meta.json`` and ``collection/`` in the store
folder) are found by :func:`legacy_collections` and copied into Qdrant Edge by :func:`import_legacy`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from vecexplore.config import home
from vecexplore.errors import VecexploreError
from vecexplore.search.store import Store

QDRANT_URL_ENV = "VECEXPLORE_QDRANT_URL"
QDRANT_KEY_ENV = "VECEXPLORE_QDRANT_API_KEY"
LEGACY_BACKUP = "local-mode-imported"


def store_folder(path: str | Path | None = None) -> Path:
    return Path(path) if path is not None else home() / "qdrant"


def server_store(url: str) -> Store:
    """The Qdrant server at ``url`` (API key from ``$VECEXPLORE_QDRANT_API_KEY``)."""
    from qdrant_client import QdrantClient

    from vecexplore.search.qdrant.server import ServerBackend

    client = QdrantClient(url=url, api_key=os.environ.get(QDRANT_KEY_ENV) or None, timeout=30)
    return Store(ServerBackend(client, url))


def open_store(url: str | None = None, path: str | Path | None = None) -> Store:
    """The Qdrant server at ``url`` (or ``$VECEXPLORE_QDRANT_URL``), else Qdrant Edge in ``path`` (default
    ``<VECEXPLORE_HOME>/qdrant``), one handle per folder and process."""
    from vecexplore.search.qdrant.edge import EdgeBackend

    url = url or os.environ.get(QDRANT_URL_ENV)
    if url:
        return server_store(url)
    return Store(EdgeBackend.open(store_folder(path)))


def legacy_collections(path: str | Path | None = None) -> list[str]:
    """Collections an older vecexplore left in qdrant-client's local-mode format in the store folder."""
    folder = store_folder(path)
    if not (folder / "meta.json").is_file():
        return []
    return sorted(p.name for p in (folder / "collection").glob("*") if p.is_dir())


def import_legacy(target: Store, path: str | Path | None = None) -> list[dict]:
    """Copy every local-mode collection of the store folder into ``target`` (the same names, tags, vectors and
    payload; a name that exists already in ``target`` is skipped), then move the old files aside into
    ``local-mode-imported/`` so that they are not offered again."""
    from qdrant_client import QdrantClient

    from vecexplore.search.qdrant.server import ServerBackend

    folder = store_folder(path)
    names = legacy_collections(folder)
    if not names:
        return []
    try:
        client = QdrantClient(path=str(folder))
    except RuntimeError as exc:
        raise VecexploreError(f"The old Qdrant folder {folder} is open in another process; close it and retry.") \
            from exc
    except Exception as exc:
        raise VecexploreError(f"The old Qdrant folder {folder} cannot be read ({type(exc).__name__}: {exc}). "
                              "Move it aside; its collections will have to be indexed again.") from exc
    old = Store(ServerBackend(client, str(folder)))
    results = []
    try:
        for name in names:
            if target.backend.exists(name):
                results.append({"collection": name, "skipped": "a collection of that name exists already"})
                continue
            try:
                results.append(old.copy(name, target))
            except VecexploreError as exc:
                results.append({"collection": name, "skipped": str(exc)})
    finally:
        client.close()
    backup = folder / LEGACY_BACKUP
    backup.mkdir(exist_ok=True)
    for item in ("meta.json", "collection", ".lock"):
        if (folder / item).exists():
            shutil.move(str(folder / item), str(backup / item))
    return results
