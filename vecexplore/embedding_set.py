"""The one data type every analysis works on: texts, labels and vectors, tagged with the model that made them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vecexplore.errors import VecexploreError

_META_KEY = b"vecexplore"


@dataclass(frozen=True, eq=False)
class EmbeddingSet:
    """Texts with their vectors and the id/version of the model that produced them.

    Vectors from different models (or versions of one model) live in different spaces;
    ``model_id`` and ``model_version`` travel with the vectors so they are never mixed.
    """

    texts: list[str]
    vectors: np.ndarray
    model_id: str
    model_version: str
    labels: list[str] | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        vectors = np.asarray(self.vectors)
        if vectors.ndim != 2:
            raise VecexploreError(f"Vectors must be a 2-D array (texts × dims), got shape {vectors.shape}.")
        if len(self.texts) != vectors.shape[0]:
            raise VecexploreError(
                f"{len(self.texts)} texts but {vectors.shape[0]} vectors: each text needs exactly one vector."
            )
        if self.labels is not None and len(self.labels) != len(self.texts):
            raise VecexploreError(f"{len(self.labels)} labels for {len(self.texts)} texts.")
        if not np.isfinite(vectors).all():
            bad = int((~np.isfinite(vectors)).any(axis=1).sum())
            raise VecexploreError(f"{bad} vectors contain NaN or infinite values; fix or drop those rows.")
        object.__setattr__(self, "vectors", np.ascontiguousarray(vectors, dtype=np.float32))
        object.__setattr__(self, "texts", list(self.texts))
        if self.labels is not None:
            object.__setattr__(self, "labels", [str(x) for x in self.labels])

    @property
    def n(self) -> int:
        return len(self.texts)

    @property
    def dims(self) -> int:
        return int(self.vectors.shape[1])

    def normalized(self) -> np.ndarray:
        """Unit-length copies of the vectors (zero vectors stay zero)."""
        return l2_normalize(self.vectors)

    def subset(self, index: Sequence[int] | np.ndarray) -> EmbeddingSet:
        idx = np.asarray(index, dtype=int)
        labels = None if self.labels is None else [self.labels[i] for i in idx]
        return EmbeddingSet(
            [self.texts[i] for i in idx], self.vectors[idx], self.model_id, self.model_version, labels, self.info
        )

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"text": self.texts})
        if self.labels is not None:
            frame["label"] = self.labels
        frame["vector"] = list(self.vectors)
        return frame

    def to_parquet(self, path: str | Path) -> None:
        """Write texts, labels and vectors; the model tag is kept in the file's metadata."""
        table = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
        meta = {"model_id": self.model_id, "model_version": self.model_version, "dims": self.dims}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta)})
        pq.write_table(table, path)

    @classmethod
    def from_parquet(cls, path: str | Path) -> EmbeddingSet:
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise VecexploreError(f"Cannot read {path} as Parquet: {exc}") from exc
        raw = (table.schema.metadata or {}).get(_META_KEY)
        if raw is None or "vector" not in table.column_names:
            raise VecexploreError(f"{path} was not written by vecexplore (no model tag or no 'vector' column).")
        meta = json.loads(raw)
        frame = table.to_pandas()
        vectors = np.stack(frame["vector"].to_numpy()) if len(frame) else np.zeros((0, meta["dims"]))
        labels = frame["label"].astype(str).tolist() if "label" in frame else None
        return cls(frame["text"].tolist(), vectors, meta["model_id"], meta["model_version"], labels)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows are left at zero instead of becoming NaN."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)
