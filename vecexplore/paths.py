"""Where a path a browser session gives really leads, and whether that lies under the folders the server allows:
symlinks are resolved first, so a link cannot lead out, and a path must be given in full (no ``~``, no ``..``).
The one rule of the model box (``encoders.typed_model``) and of the collections the app opens
(``search.collections.allowed_source``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path


def resolved(path: Path) -> Path | None:
    """``path`` with its symlinks resolved (None when it cannot be: a NUL byte, a loop, a name too long)."""
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError):
        return None


def resolved_dirs(paths: Iterable[Path]) -> list[Path]:
    """The folders ``paths`` lead to, resolved, each once, in order (those that cannot be resolved left out)."""
    return list(dict.fromkeys(p for p in map(resolved, paths) if p is not None))


def full_path(text: str) -> bool:
    """Whether ``text`` is a full path: absolute, with no ``..`` (a ``~`` is not absolute)."""
    return text.startswith("/") and ".." not in Path(text).parts


def within(path: Path | None, roots: Sequence[Path]) -> bool:
    """Whether the resolved ``path`` lies in (or is) one of the resolved folders ``roots``."""
    return path is not None and any(path.is_relative_to(root) for root in roots)


def contained(text: str, roots: Sequence[Path]) -> Path | None:
    """The resolved path of ``text`` when it is a full path leading under one of ``roots``; else None."""
    real = resolved(Path(text)) if full_path(text) else None
    return real if within(real, roots) else None
