"""Fine-tuned models on this disk: ``<VECEXPLORE_HOME>/models/finetuned/<name>/``, each a sentence-transformers
folder with a ``finetuned.json`` manifest (base model, data hash, settings, version). Their id is
``finetuned/<name>``. A folder without a manifest (a training cancelled or killed while saving) is never listed.
A model trained in a browser session under the name the lab suggested is private to that session; one given a
typed name, or trained from the command line, is shared (``vecexplore.owners``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path

from vecexplore.errors import VecexploreError
from vecexplore.owners import created_by, may_see, needs_confirmation

PREFIX = "finetuned/"
MANIFEST = "finetuned.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def root() -> Path:
    """The folder holding every fine-tuned model."""
    from vecexplore.config import home

    return home() / "models" / "finetuned"


def check_name(name: str) -> str:
    """``name`` stripped, if it can name a folder on every system (letters, digits, ``.``, ``_``, ``-``)."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise VecexploreError(f"{name!r} cannot name a model: use 1-64 letters, digits, '.', '_' or '-', starting "
                              "with a letter or digit (e.g. minilm-cooking).")
    return name


def is_finetuned(model_id: str) -> bool:
    return model_id.startswith(PREFIX)


def model_id(name: str) -> str:
    return PREFIX + check_name(name)


def listed(viewer: str | None = None) -> list[dict]:
    """The manifests of the complete fine-tuned models ``viewer`` (a session id; None: the command line) may
    see, by name."""
    base = root()
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(base.iterdir()):
        path = folder / MANIFEST
        if folder.name.startswith(".") or not path.is_file():
            continue
        try:
            manifest_ = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a manifest that cannot be read is not a model to offer
        if may_see(manifest_.get("owner", ""), manifest_.get("shared", True), viewer):
            found.append(manifest_)
    return found


def folder(model_id_: str) -> Path:
    """The folder of the fine-tuned model ``finetuned/<name>``, or an error listing those that exist."""
    name = model_id_[len(PREFIX):] if is_finetuned(model_id_) else model_id_
    path = root() / check_name(name)
    if not (path / MANIFEST).is_file():
        raise missing(model_id_)
    return path


def missing(model_id_: str) -> VecexploreError:
    """The error for a fine-tuned model that does not exist, or is another session's: it names the shared ones."""
    known = ", ".join(m["id"] for m in listed() if m.get("shared", True)) or "none shared yet"
    return VecexploreError(f"No fine-tuned model {model_id_!r} in {root()} (shared fine-tuned models: {known}). "
                           "Fine-tune one on the Fine-tuning page or with `vecexplore finetune`.")


def manifest(model_id_: str) -> dict:
    return json.loads((folder(model_id_) / MANIFEST).read_text(encoding="utf-8"))


def stamp(model_id_: str) -> str:
    """What, beside its id, tells a model's weights apart in a cache key: a fine-tuned model's version (a deleted
    name can come back with other weights); "" for any other model."""
    return manifest(model_id_)["version"] if is_finetuned(model_id_) else ""


def delete(model_id_: str, viewer: str | None = None, confirmed: bool = False) -> None:
    """Remove the fine-tuned model ``model_id_``. A session (``viewer``) cannot reach another session's private
    model, and must confirm to remove a shared model it did not make. The folder is renamed out of the listing
    first, so no one ever sees half a model."""
    path = folder(model_id_)
    found = manifest(model_id_)
    owner = found.get("owner", "")
    if not may_see(owner, found.get("shared", True), viewer):
        raise missing(model_id_)  # the same answer as for a model that does not exist
    if needs_confirmation(owner, viewer, confirmed):
        raise VecexploreError(f"{model_id_!r} was made by {created_by(owner, viewer)}: deleting it removes it for "
                              "everyone who uses it. Confirm that you mean this model first.")
    gone = path.with_name(f".deleted-{path.name}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(path, gone)
    except OSError as exc:
        raise VecexploreError(f"Cannot delete {model_id_!r}: {exc.strerror or exc}.") from exc
    shutil.rmtree(gone, ignore_errors=True)
