"""Writing maps and vectors out: coordinates as CSV/Parquet, vectors as TensorFlow Projector TSV."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from vecexplore.embedding_set import EmbeddingSet


def coordinates_frame(eset: EmbeddingSet, coords: np.ndarray, method: str) -> pd.DataFrame:
    """One row per text: its map coordinates, text and label, tagged with the model and method."""
    frame = pd.DataFrame(coords, columns=["x", "y", "z"][: coords.shape[1]])
    frame.insert(0, "text", eset.texts)
    if eset.labels is not None:
        frame.insert(1, "label", eset.labels)
    frame["model_id"] = eset.model_id
    frame["model_version"] = eset.model_version
    frame["method"] = method
    return frame


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _tsv_cell(value: str) -> str:
    return " ".join(str(value).split())  # tabs and newlines would break the TSV


def to_tf_projector(eset: EmbeddingSet) -> tuple[str, str]:
    """``vectors.tsv`` and ``metadata.tsv`` contents, as projector.tensorflow.org loads them."""
    buf = io.StringIO()
    np.savetxt(buf, eset.vectors, delimiter="\t", fmt="%.7g")
    if eset.labels is None:
        metadata = "\n".join(_tsv_cell(t) for t in eset.texts) + "\n"
    else:
        metadata = "text\tlabel\n" + "".join(
            f"{_tsv_cell(t)}\t{_tsv_cell(lab)}\n" for t, lab in zip(eset.texts, eset.labels, strict=True))
    return buf.getvalue(), metadata
