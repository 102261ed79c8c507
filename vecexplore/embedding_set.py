"""The one data type every analysis works on: texts, labels and vectors, tagged with the model that made them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vecexplore.errors import VecexploreError
from vecexplore.numeric import check_array, l2_normalize

_META_KEY = b"vecexplore"


@dataclass(frozen=True, eq=False)
class EmbeddingSet:
    """Texts with their vectors and the id/version of the model that produced them.

    Vectors from different models (or versions of one model, or after different transforms) live in different
    spaces; ``model_id``, ``model_version`` and ``info["transform"]`` travel with the vectors so they are never
    mixed (see :func:`same_space`). ``info`` is read-only: :meth:`with_info` returns a copy with more of it.
    """

    texts: list[str]
    vectors: np.ndarray
    model_id: str
    model_version: str
    labels: list[str] | None = None
    info: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        vectors = check_array(self.vectors, min_rows=0, dtype=np.float32)
        if len(self.texts) != vectors.shape[0]:
            raise VecexploreError(
                f"{len(self.texts)} texts but {vectors.shape[0]} vectors: each text needs exactly one vector."
            )
        if self.labels is not None and len(self.labels) != len(self.texts):
            raise VecexploreError(f"{len(self.labels)} labels for {len(self.texts)} texts.")
        object.__setattr__(self, "vectors", np.ascontiguousarray(vectors))
        object.__setattr__(self, "texts", list(self.texts))
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))
        if self.labels is not None:
            object.__setattr__(self, "labels", [str(x) for x in self.labels])

    @property
    def fingerprint(self) -> str:
        """What tells this set apart from any other: its space (model id, version, transform) and a hash of its
        texts, labels and vectors. Computed once per set (a pass over the vectors' bytes: about a second for a
        million 384-d vectors), so caches can be keyed by content rather than by hand-picked tags."""
        kept = self.__dict__.get("_fingerprint")
        if kept is None:
            digest = hashlib.blake2b(digest_size=16)
            for part in (self.model_id, self.model_version, self.transform, self.texts, self.labels,
                         [self.vectors.dtype.str, *self.vectors.shape]):
                digest.update(json.dumps(part).encode())
                digest.update(b"\x00")
            digest.update(self.vectors.data)  # C-contiguous (see __post_init__)
            kept = digest.hexdigest()
            object.__setattr__(self, "_fingerprint", kept)
        return kept

    @property
    def transform(self) -> str:
        """What the vectors went through after the model (``"none"``, or a transform's spec)."""
        return self.info.get("transform", "none")

    def with_info(self, **updates) -> EmbeddingSet:
        """The same set with ``updates`` added to its ``info``."""
        return replace(self, info={**self.info, **updates})

    def with_vectors(self, vectors: np.ndarray, transform: str) -> EmbeddingSet:
        """The same texts with new vectors, made by ``transform`` (its spec is recorded: another space)."""
        return replace(self, vectors=vectors, info={**self.info, "transform": transform})

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
        return replace(self, texts=[self.texts[i] for i in idx], vectors=self.vectors[idx], labels=labels)

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"text": self.texts})
        if self.labels is not None:
            frame["label"] = self.labels
        frame["vector"] = list(self.vectors)
        return frame

    def to_parquet(self, path: str | Path) -> None:
        """Write texts, labels and vectors; the model tag is kept in the file's metadata."""
        table = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
        meta = {"model_id": self.model_id, "model_version": self.model_version, "dims": self.dims,
                "transform": self.transform}
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
        info = {"transform": meta["transform"]} if meta.get("transform", "none") != "none" else {}
        return cls(frame["text"].tolist(), vectors, meta["model_id"], meta["model_version"], labels, info)


def same_space(a: EmbeddingSet, b: EmbeddingSet, what: str = "Both sets") -> None:
    """Refuse to compare vectors of two different spaces (model, version or transform), naming both."""
    mine, theirs = (a.model_id, a.model_version, a.transform), (b.model_id, b.model_version, b.transform)
    if mine != theirs:
        def name(tag: tuple[str, str, str]) -> str:
            return f"{tag[0]} ({tag[1]}" + ("" if tag[2] == "none" else f", transform {tag[2]}") + ")"

        raise VecexploreError(f"{what} must come from the same model, version and transform: {name(mine)} vs "
                              f"{name(theirs)}. Vectors of different spaces are not comparable.")
