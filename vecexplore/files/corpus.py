"""Reading corpora: pasted lines, uploaded tables, TF-Projector exports, and the shipped demo corpora."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from vecexplore.errors import VecexploreError
from vecexplore.files.rows import decode_text, json_lines
from vecexplore.numeric import seeded_sample

TABLE_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".parquet")
LONG_TEXT_CHARS = 10_000

DEMOS: dict[str, tuple[str, str]] = {
    "topics": ("demo_topics.csv", "300 short sentences on five topics: sport, cooking, space, finance, health"),
    "senses": ("demo_senses.csv", "60 sentences using bank / bat / apple in two senses each"),
    "words": ("demo_words.txt", "about 500 common words: capitals, gender pairs, plurals, tenses, opposites"),
}


@dataclass
class Corpus:
    """Texts to embed, optional labels, and notes on what was cleaned on the way in."""

    texts: list[str]
    labels: list[str] | None = None
    name: str = "corpus"
    notes: list[str] = field(default_factory=list)
    vectors: np.ndarray | None = None  # precomputed (TF-Projector import, a user's own vectors)
    columns: list[dict] | None = None  # the table's other columns, one dict per text (search payload)
    vector_info: dict | None = None  # what precomputed vectors are (files/vectors.py): their set's info
    skipped: int = 0  # rows of the file left out on the way in (blank or missing texts)

    def __len__(self) -> int:
        return len(self.texts)

    @cached_property
    def fingerprint(self) -> str:
        """A digest of everything the corpus holds (texts, labels, vectors, other columns): equal corpora, and
        only they, share it."""
        digest = hashlib.sha256()
        for text in self.texts:
            digest.update(text.encode() + b"\x1e")
        digest.update(repr(self.labels).encode())
        if self.vectors is not None:
            digest.update(np.ascontiguousarray(self.vectors).tobytes())
        if self.columns is not None:
            digest.update(json.dumps(self.columns, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]

    def _subset(self, index: Sequence[int], note: str) -> Corpus:
        return Corpus(
            [self.texts[i] for i in index],
            None if self.labels is None else [self.labels[i] for i in index],
            self.name,
            [*self.notes, note],
            None if self.vectors is None else self.vectors[list(index)],
            None if self.columns is None else [self.columns[i] for i in index],
            self.vector_info,
            self.skipped,
        )

    def sample(self, max_texts: int, seed: int = 0) -> Corpus:
        """At most ``max_texts`` texts, drawn reproducibly, original order kept."""
        if len(self) <= max_texts:
            return self
        idx = seeded_sample(len(self), max_texts, seed)
        return self._subset(idx.tolist(), f"Sampled {max_texts:,} of {len(self):,} texts (seed {seed}).")

    def recombined(self, n: int, parts: int = 3, seed: int = 0) -> Corpus:
        """``n`` distinct longer texts, each ``parts`` texts of one label joined (seeded): a large corpus with
        the same topics, for trying the app at scale. Unlabelled corpora are treated as one label."""
        labels = self.labels if self.labels is not None else ["all"] * len(self)
        groups: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(label, []).append(i)
        capacity = sum(len(g) ** parts for g in groups.values() if len(g) >= parts)
        if n > capacity // 2:
            raise VecexploreError(f"{len(self):,} texts cannot make {n:,} distinct combinations of {parts}.")
        rng = np.random.default_rng(seed)
        names = [k for k, g in groups.items() if len(g) >= parts]
        sizes = np.array([len(groups[k]) for k in names], dtype=float)
        seen: dict[str, str] = {}
        while len(seen) < n:
            label = names[rng.choice(len(names), p=sizes / sizes.sum())]
            text = " ".join(self.texts[i] for i in rng.choice(groups[label], size=parts, replace=False))
            seen.setdefault(text, label)
        return Corpus(list(seen), list(seen.values()) if self.labels is not None else None,
                      f"{self.name} ×{n:,}", [f"{n:,} texts made of {parts} {self.name} texts each (seed {seed})."])

    def duplicate_count(self) -> int:
        return len(self.texts) - len(set(self.texts))

    def drop_duplicates(self) -> Corpus:
        seen: set[str] = set()
        keep = [i for i, t in enumerate(self.texts) if not (t in seen or seen.add(t))]
        dropped = len(self) - len(keep)
        return self._subset(keep, f"Dropped {dropped:,} duplicate texts.") if dropped else self


def _finish(texts: pd.Series, labels: pd.Series | None, name: str, vectors: np.ndarray | None = None,
            extra: pd.DataFrame | None = None) -> Corpus:
    """Drop blank/NaN texts (with a note), stringify labels, check what is left."""
    notes: list[str] = []
    as_text = texts.astype("string").str.strip()
    keep = as_text.notna() & (as_text != "")
    if (~keep).any():
        notes.append(f"Dropped {int((~keep).sum()):,} blank or missing texts.")
    kept_texts = as_text[keep].tolist()
    kept_labels = None
    if labels is not None:
        kept_labels = labels[keep].astype("string").fillna("(none)").tolist()
    if not kept_texts:
        raise VecexploreError(f"{name} has no texts: every row is empty. Add at least one line of text.")
    long = sum(len(t) > LONG_TEXT_CHARS for t in kept_texts)
    if long:
        notes.append(f"{long:,} texts are longer than {LONG_TEXT_CHARS:,} characters; models may truncate them.")
    kept_vectors = vectors if vectors is None or keep.all() else vectors[keep.to_numpy()]  # no copy if all kept
    columns = None
    if extra is not None and len(extra.columns):
        columns = extra[keep.to_numpy()].astype("string").fillna("").to_dict("records")
    corpus = Corpus(kept_texts, kept_labels, name, notes, kept_vectors, columns, skipped=int((~keep).sum()))
    if corpus.duplicate_count():
        corpus.notes.append(f"{corpus.duplicate_count():,} texts are exact duplicates (kept; they share a point).")
    return corpus


def from_lines(text: str, name: str = "pasted text") -> Corpus:
    """One text per non-blank line."""
    return _finish(pd.Series(text.splitlines(), dtype="string"), None, name)


def read_table(name: str, data: bytes) -> pd.DataFrame:
    """Parse an uploaded file by its suffix into a table (``.txt`` → one ``text`` column)."""
    suffix = Path(name).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise VecexploreError(f"{name}: unsupported file type {suffix or '(none)'}; use one of "
                              + ", ".join(TABLE_SUFFIXES) + ".")
    if not data:
        raise VecexploreError(f"{name} is empty.")
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(io.BytesIO(data))
            return frame.set_axis([str(c) for c in frame.columns], axis=1)
        content = decode_text(data, name)
        if suffix == ".txt":
            return pd.DataFrame({"text": content.splitlines()})
        if suffix == ".jsonl":
            return pd.DataFrame.from_records([row for _, row in json_lines(content, name)])
        return pd.read_csv(io.StringIO(content), sep="\t" if suffix == ".tsv" else ",", dtype=str,
                           keep_default_na=False, na_values=[""])
    except VecexploreError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for a malformed file
        raise VecexploreError(f"Cannot read {name} as {suffix[1:]}: {exc}") from exc


def from_table(frame: pd.DataFrame, text_col: str, label_col: str | None = None,
               name: str = "table", vectors: np.ndarray | None = None) -> Corpus:
    """A corpus from one text column and an optional label column of ``frame`` (and the rows' ``vectors``, when
    they come with the table: the text column then only names the points)."""
    for col in (text_col, label_col):
        if col is not None and col not in frame.columns:
            raise VecexploreError(f"{name} has no column {col!r}; its columns are: "
                                  + ", ".join(map(str, frame.columns)) + ".")
    others = frame[[c for c in frame.columns if c not in (text_col, label_col)]]
    corpus = _finish(frame[text_col], None if label_col is None else frame[label_col], name, vectors, others)
    if vectors is None and not holds_words(frame[text_col]):
        corpus.notes.insert(0, f"Column {text_col!r} holds no words (only numbers, dates or codes): they are embedded "
                               "as text. Choose the column with the texts if this is not it.")
    return corpus


def holds_words(column: pd.Series) -> bool:
    """Whether a column holds text: at least half of its non-empty values contain a letter (numbers, dates and
    codes such as ``0.75`` or ``2024-01-01`` do not)."""
    if not (pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column)):
        return False
    values = column.dropna().astype(str).str.strip()
    values = values[values != ""]
    return len(values) > 0 and values.str.contains(r"[^\W\d_]", regex=True).mean() >= 0.5


def guess_text_column(frame: pd.DataFrame) -> str | None:
    """The column most likely to hold the texts: one named 'text', 'sentence'… if present, else the column of
    words with the longest values; None when no column holds words (the user must choose)."""
    for col in frame.columns:
        if str(col).lower() in {"text", "sentence", "document", "content", "body"}:
            return col
    lengths = {c: frame[c].astype(str).str.len().mean() for c in frame.columns if holds_words(frame[c])}
    return max(lengths, key=lengths.get) if lengths else None


def read_tf_metadata(metadata_tsv: bytes) -> pd.DataFrame:
    """``metadata.tsv``: one column without header (→ ``text``), or several columns under a header row."""
    lines = decode_text(metadata_tsv, "metadata.tsv").splitlines()
    if lines and "\t" not in lines[0]:
        return pd.DataFrame({"text": lines})
    return pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", dtype=str, keep_default_na=False,
                       na_values=[""], quoting=3)


def read_tf_projector(vectors_tsv: bytes, metadata_tsv: bytes | None = None, text_col: str | None = None,
                      label_col: str | None = None, name: str = "TF-Projector import") -> Corpus:
    """Precomputed vectors in TensorFlow Projector format: ``vectors.tsv`` (tab-separated numbers, no header)
    and ``metadata.tsv`` (one column without header, or several columns with a header row)."""
    try:
        vectors = np.loadtxt(io.StringIO(decode_text(vectors_tsv, "vectors.tsv")), delimiter="\t", dtype=np.float64,
                             ndmin=2)
    except ValueError as exc:
        raise VecexploreError(f"vectors.tsv must hold only tab-separated numbers, one row per point: {exc}") from exc
    if vectors.size == 0:
        raise VecexploreError("vectors.tsv is empty.")
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        raise VecexploreError(f"vectors.tsv has NaN or infinite values in {int(bad.sum())} rows "
                              f"(first: row {int(np.flatnonzero(bad)[0]) + 1}); fix them before importing.")
    if metadata_tsv is None:
        texts = pd.Series([f"point {i}" for i in range(len(vectors))], dtype="string")
        return _finish(texts, None, name, vectors.astype(np.float32))
    meta = read_tf_metadata(metadata_tsv)
    if len(meta) != len(vectors):
        raise VecexploreError(f"metadata.tsv has {len(meta)} rows but vectors.tsv has {len(vectors)}: "
                              "they must match one to one (a multi-column metadata.tsv needs a header row).")
    text_col = text_col or meta.columns[0]
    for col in (text_col, label_col):
        if col is not None and col not in meta.columns:
            raise VecexploreError(f"metadata.tsv has no column {col!r}; its columns are: "
                                  + ", ".join(map(str, meta.columns)) + ".")
    return _finish(meta[text_col], None if label_col is None else meta[label_col], name,
                   vectors.astype(np.float32))


def load_demo(key: str) -> Corpus:
    """One of the shipped demo corpora (see ``DEMOS``)."""
    if key not in DEMOS:
        raise VecexploreError(f"Unknown demo corpus {key!r}; choose one of: " + ", ".join(DEMOS) + ".")
    filename = DEMOS[key][0]
    data = resources.files("vecexplore.data").joinpath(filename).read_bytes()
    frame = read_table(filename, data)
    return from_table(frame, "text", "label" if "label" in frame.columns else None, name=f"demo: {key}")


def load_file(path: str | Path, text_col: str | None = None, label_col: str | None = None) -> Corpus:
    """A corpus from a file on disk (used by the CLI)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VecexploreError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    frame = read_table(path.name, data)
    text_col = text_col or guess_text_column(frame)
    if text_col is None:
        raise VecexploreError(f"No column of {path.name} holds words (columns: {', '.join(map(str, frame.columns))}): "
                              "name the column to embed with --text-col.")
    return from_table(frame, text_col, label_col, name=path.name)
