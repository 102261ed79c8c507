"""Fine-tuned models on this disk: ``<VECEXPLORE_HOME>/models/finetuned/<name>/``, each a sentence-transformers
folder with a ``finetuned.json`` manifest (base model, data hash, settings, version). Their id is
``finetuned/<name>``. A folder without a manifest (a training cancelled or killed while saving) is never listed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from vecexplore.errors import VecexploreError

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


def listed() -> list[dict]:
    """The manifests of every complete fine-tuned model, by name."""
    base = root()
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(base.iterdir()):
        path = folder / MANIFEST
        if folder.name.startswith(".") or not path.is_file():
            continue
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a manifest that cannot be read is not a model to offer
    return found


def folder(model_id_: str) -> Path:
    """The folder of the fine-tuned model ``finetuned/<name>``, or an error listing those that exist."""
    name = model_id_[len(PREFIX):] if is_finetuned(model_id_) else model_id_
    path = root() / check_name(name)
    if not (path / MANIFEST).is_file():
        known = ", ".join(m["id"] for m in listed()) or "none yet"
        raise VecexploreError(f"No fine-tuned model {model_id_!r} in {root()} (fine-tuned models: {known}). "
                              "Fine-tune one on the Fine-tuning page or with `vecexplore finetune`.")
    return path


def manifest(model_id_: str) -> dict:
    return json.loads((folder(model_id_) / MANIFEST).read_text(encoding="utf-8"))
