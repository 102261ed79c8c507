"""Vectors a user already has, read into a :class:`Corpus` with the vectors as given (float32, not normalised): a
Parquet or Arrow table with a column of number lists, a ``.npy``/``.npz`` array with a metadata table beside it,
or a folder written by ``datasets``' ``save_to_disk``. Every check is made here, once, with a message that says
what to fix; the rest of vecexplore takes the vectors as they come (see ``pipeline.imported_set``)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vecexplore.errors import VecexploreError
from vecexplore.files import corpus as corpora
from vecexplore.files.corpus import Corpus

TABLE_SUFFIXES = (".parquet", ".arrow", ".feather")
ARRAY_SUFFIXES = (".npy", ".npz")
SUFFIXES = TABLE_SUFFIXES + ARRAY_SUFFIXES
METADATA_SUFFIXES = (".csv", ".parquet", ".tsv")  # looked for beside an array, in this order
METRICS = ("cosine", "dot", "euclidean")
SOURCE = "user vectors"
MAX_FILE_BYTES = 4 * 2**30  # 2.8M × 384 float32 vectors; the app's uploads stop at 1 GB (.streamlit/config.toml)
GUESS_ROWS = 10_000  # the text column is guessed from the first rows
BATCH_ROWS = 65_536  # a Parquet vector column is decoded this many rows at a time, straight into the array
UNIT_TOLERANCE = 1e-3  # how far from 1 a vector's length may be and still count as unit length

Source = Path | bytes  # a path on disk (a file or a datasets folder), or an upload's bytes


def only_vectors(path: Path) -> bool:
    """Whether ``path`` can only hold vectors (an array, an Arrow file or a folder), never texts to embed."""
    return path.is_dir() or path.suffix.lower() in (*ARRAY_SUFFIXES, ".arrow", ".feather")


def holds_vectors(path: Path, vectors_col: str | None = None, embed: bool = False) -> bool:
    """Whether a file is read as a user's own vectors: with ``vectors_col`` named, a file that only holds vectors
    (.npy, .npz, .arrow, a datasets folder), or a Parquet file with a column of vectors whose texts are not to be
    embedded (``embed``: a model was named to embed them)."""
    if vectors_col or only_vectors(path):
        return True
    return path.suffix.lower() == ".parquet" and not embed and path.is_file() and bool(choices(path.name, path))


def choices(name: str, source: Source) -> list[str]:
    """What may hold the vectors: a table's columns of number lists, an ``.npz``'s arrays ([] for a ``.npy``)."""
    if _suffix(name, source) in ARRAY_SUFFIXES:
        loaded = _load_array(name, source)
        return list(loaded.files) if isinstance(loaded, np.lib.npyio.NpzFile) else []
    return vector_columns(_schema(_open_table(name, source)))


def read(name: str, source: Source, vectors_col: str | None = None) -> tuple[pd.DataFrame | None, np.ndarray]:
    """The checked (n, dims) float32 vectors of a file, and its other columns (None for an array): from a table,
    only the vector column (``vectors_col``, or the one column of number lists) and the columns that are not
    vectors are read, the vectors copied once into their array."""
    _check_size(name, len(source) if isinstance(source, bytes) else _size(source))
    if _suffix(name, source) in ARRAY_SUFFIXES:
        return None, _array_vectors(name, _load_array(name, source), vectors_col)
    table = _open_table(name, source)
    schema = _schema(table)
    col = vector_column(name, schema, vectors_col)
    others = [c for c in schema.names if c not in vector_columns(schema)]
    parquet = isinstance(table, pq.ParquetFile)
    try:
        vectors = _list_vectors(name, col, table.metadata.num_rows if parquet else table.num_rows,
                                (b.column(0) for b in table.iter_batches(BATCH_ROWS, columns=[col])) if parquet
                                else table.column(col).chunks)
        frame = (table.read(columns=others) if parquet else table.select(others)).to_pandas().reset_index(drop=True)
    except (OSError, pa.ArrowException) as exc:
        raise VecexploreError(f"Cannot read {name}: {exc}") from exc
    return frame.set_axis([str(c) for c in frame.columns], axis=1), vectors


def vectors_corpus(vectors: np.ndarray, frame: pd.DataFrame | None, name: str, text_col: str | None = None,
                   label_col: str | None = None, metric: str = "cosine", metadata: str | None = None) -> Corpus:
    """A corpus of ``vectors`` whose texts and labels are columns of ``frame`` (one row per vector; the file's own
    columns, or the ``metadata`` file's). The text column is guessed when not named; where no column holds words,
    the points are named "row 0", "row 1"…"""
    if metric not in METRICS:
        raise VecexploreError(f"Unknown metric {metric!r}: choose one of {', '.join(METRICS)}.")
    notes = []
    if frame is None:
        frame = pd.DataFrame(index=range(len(vectors)))
        notes.append(f"{name} came without a metadata table, so the points are named by row (row 0, row 1…): put a "
                     f"{'/'.join(METADATA_SUFFIXES)} table with the texts beside it, one row per vector.")
    elif len(frame) != len(vectors):
        raise VecexploreError(f"{metadata or name} has {len(frame):,} rows but {name} holds {len(vectors):,} vectors: "
                              "they must match one to one, in the same order.")
    text_col = text_col or corpora.guess_text_column(frame.head(GUESS_ROWS))
    has_texts = text_col is not None
    if not has_texts:  # no column is called "text" (guess_text_column would have taken it)
        frame, text_col = frame.assign(text=[f"row {i}" for i in range(len(frame))]), "text"
        notes = notes or [f"No column of {metadata or name} holds words, so the points are named by row (row 0, "
                          "row 1…); name the text column to show texts."]
    corpus = corpora.from_table(frame, text_col, label_col, name, vectors)
    corpus.notes[:0] = notes
    corpus.vector_info = {"source": SOURCE, "file": name, "dims": int(vectors.shape[1]), "metric": metric,
                          "normalised": unit_length(corpus.vectors), "text_column": text_col if has_texts else None}
    return corpus


def open_vectors(path: str | Path, vectors_col: str | None = None, text_col: str | None = None,
                 label_col: str | None = None, metadata: str | Path | None = None,
                 metric: str = "cosine") -> Corpus:
    """A user's vectors from disk (used by the command line): a Parquet/Arrow file, a ``datasets`` folder, or a
    ``.npy``/``.npz`` array with its ``metadata`` table (default: a .csv/.parquet/.tsv of the same name beside it,
    if there is one). ``vectors_col`` names the vector column, or the array of an ``.npz``."""
    path = Path(path)
    if not path.exists():
        raise VecexploreError(f"{path} does not exist: give a vector file ({', '.join(SUFFIXES)}) or a folder "
                              "written by datasets' save_to_disk.")
    is_array = path.suffix.lower() in ARRAY_SUFFIXES
    if metadata is not None and not is_array:
        raise VecexploreError(f"A metadata table goes with a .npy or .npz array; {path.name} holds its own columns.")
    frame, vectors = read(path.name, path, vectors_col)
    meta = (Path(metadata) if metadata is not None else metadata_beside(path)) if is_array else None
    if meta is not None:
        try:
            frame = corpora.read_table(meta.name, meta.read_bytes())
        except OSError as exc:
            raise VecexploreError(f"Cannot read the metadata table {meta}: {exc.strerror or exc}.") from exc
    return vectors_corpus(vectors, frame, path.name, text_col, label_col, metric, None if meta is None else meta.name)


def metadata_beside(path: Path) -> Path | None:
    """The metadata table of an array: the first of ``<stem>.csv``, ``.parquet``, ``.tsv`` that exists."""
    return next((p for p in (path.with_suffix(s) for s in METADATA_SUFFIXES) if p.is_file()), None)


def vector_columns(schema: pa.Schema) -> list[str]:
    """The columns holding lists of numbers (list, large list or fixed-size list)."""
    return [f.name for f in schema if _is_list(f.type) and _is_number(f.type.value_type)]


def vector_column(name: str, schema: pa.Schema, wanted: str | None = None) -> str:
    """The column holding the vectors: ``wanted`` (checked), else the one column of number lists."""
    if wanted is not None:
        return _checked_column(name, schema, wanted)
    found = vector_columns(schema)
    if len(found) == 1:
        return found[0]
    if found:
        raise VecexploreError(f"{name} has {len(found)} columns of vectors ({', '.join(found)}): name the one to open "
                              "(--vectors-col on the command line).")
    raise VecexploreError(f"No column of {name} holds vectors (lists of numbers); its columns are: "
                          f"{', '.join(schema.names) or '(none)'}. Store each vector as a list of floats in one column "
                          "(pandas: df['embedding'] = list(vectors)).")


def unit_length(vectors: np.ndarray) -> bool:
    """Whether every vector has length 1 (within :data:`UNIT_TOLERANCE`)."""
    squared = np.einsum("ij,ij->i", vectors, vectors)
    return bool(np.all(np.abs(np.sqrt(squared) - 1) <= UNIT_TOLERANCE))


def _suffix(name: str, source: Source) -> str:
    return "" if isinstance(source, Path) and source.is_dir() else Path(name).suffix.lower()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def _check_size(name: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise VecexploreError(f"{name} takes {size / 2**20:,.0f} MiB; vecexplore opens vector files up to "
                              f"{MAX_FILE_BYTES / 2**20:,.0f} MiB. Keep a sample of the rows, or store the vectors as "
                              "float32 (half the size of float64).")


def _is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _checked_column(name: str, schema: pa.Schema, col: str) -> str:
    if col not in schema.names:
        raise VecexploreError(f"{name} has no column {col!r}; its columns are: {', '.join(schema.names)}.")
    kind = schema.field(col).type
    if _is_list(kind) and _is_number(kind.value_type):
        return col
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        raise VecexploreError(f"Column {col!r} of {name} holds text, not lists of numbers: vectors written as strings "
                              f"such as '[0.1, 0.2]' must be parsed first (e.g. df[{col!r}].map(json.loads)) and saved "
                              "as lists of floats.")
    what = f"lists of {kind.value_type}" if _is_list(kind) else f"one {kind} value per row"
    raise VecexploreError(f"Column {col!r} of {name} holds {what}, not vectors of numbers: choose the column with "
                          "the vectors, or save each vector as a list of floats.")


def _open_table(name: str, source: Source) -> pq.ParquetFile | pa.Table:
    """A Parquet file (read column by column later), or the table of an Arrow file or ``datasets`` folder (memory-
    mapped from disk: reading it copies nothing)."""
    if isinstance(source, Path) and source.is_dir():
        return _dataset_table(source)
    suffix = _suffix(name, source)
    if suffix not in TABLE_SUFFIXES:
        raise VecexploreError(f"{name}: unsupported file type {suffix or '(none)'}; open one of "
                              f"{', '.join(SUFFIXES)}, or a folder written by datasets' "
                              "save_to_disk.")
    handle = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
    try:
        if suffix == ".parquet":
            return pq.ParquetFile(handle)
        handle = pa.memory_map(handle) if isinstance(handle, str) else handle
        try:
            return pa.ipc.open_file(handle).read_all()
        except pa.ArrowInvalid:  # not the file format: the stream format (what datasets writes)
            handle.seek(0)
            return pa.ipc.open_stream(handle).read_all()
    except (OSError, pa.ArrowException) as exc:
        raise VecexploreError(f"Cannot read {name} as {suffix[1:]}: {exc}") from exc


def _dataset_table(path: Path) -> pa.Table:
    from datasets import Dataset, load_from_disk

    try:
        data = load_from_disk(str(path))
    except (OSError, ValueError) as exc:  # FileNotFoundError for a folder that is not a dataset
        raise VecexploreError(f"{path.name} is not a folder written by datasets' save_to_disk ({exc}): give the "
                              "folder that holds dataset_info.json and the .arrow files.") from exc
    if not isinstance(data, Dataset):
        raise VecexploreError(f"{path.name} holds several splits ({', '.join(data)}): give the folder of one, e.g. "
                              f"{path / next(iter(data))}.")
    return data.with_format("arrow")[:]


def _schema(table: pq.ParquetFile | pa.Table) -> pa.Schema:
    return table.schema_arrow if isinstance(table, pq.ParquetFile) else table.schema


def _list_vectors(name: str, col: str, n: int, chunks: Iterable[pa.Array]) -> np.ndarray:
    """``n`` rows of number lists, given a chunk at a time, as an (n, dims) float32 array (each chunk copied once
    into it), after checking every row has a vector as long as row 0's."""
    if not n:
        raise VecexploreError(f"{name} has no rows: there are no vectors to open.")
    vectors, start = None, 0
    for chunk in (c for c in chunks if len(c)):
        if chunk.null_count:
            row = start + int(np.flatnonzero(pc.is_null(chunk).to_numpy(zero_copy_only=False))[0])
            raise VecexploreError(f"Row {row} of {name} has no vector in column {col!r}: fill or drop the rows "
                                  "without one.")
        lengths = pc.list_value_length(chunk).to_numpy()
        if vectors is None:
            vectors = _allocated(name, col, n, int(lengths[0]))
        differ = np.flatnonzero(lengths != vectors.shape[1])
        if differ.size:
            raise VecexploreError(f"The vectors in column {col!r} of {name} differ in length: row 0 has "
                                  f"{vectors.shape[1]} numbers but row {start + int(differ[0])} has "
                                  f"{lengths[differ[0]]}. Every vector must have the same number of dimensions.")
        values = chunk.flatten().to_numpy(zero_copy_only=False)
        vectors[start:start + len(chunk)] = values.reshape(len(chunk), vectors.shape[1])
        start += len(chunk)
    return _finite(name, vectors)


def _allocated(name: str, col: str, n: int, dims: int) -> np.ndarray:
    if not dims:
        raise VecexploreError(f"The vectors in column {col!r} of {name} are empty lists.")
    return np.empty((n, dims), np.float32)


def _load_array(name: str, source: Source) -> np.ndarray | np.lib.npyio.NpzFile:
    """A ``.npy`` array (memory-mapped from disk) or an ``.npz`` archive; never a pickle."""
    disk_npy = isinstance(source, Path) and _suffix(name, source) == ".npy"
    try:
        return np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False,
                       mmap_mode="r" if disk_npy else None)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        if "Object arrays" in str(exc) or "Python objects" in str(exc):
            raise VecexploreError(f"{name} holds Python objects (strings, or vectors of different lengths), not a 2-D "
                                  "array of numbers: save one with np.save(path, vectors.astype('float32')).") from exc
        raise VecexploreError(f"Cannot read {name} as {Path(name).suffix[1:]}: {exc}") from exc


def _array_vectors(name: str, loaded: np.ndarray | np.lib.npyio.NpzFile, array: str | None) -> np.ndarray:
    """The checked float32 copy of an array (of an ``.npz``: ``array``, or its only one)."""
    if isinstance(loaded, np.lib.npyio.NpzFile):
        names = list(loaded.files)
        if array is None and len(names) != 1:
            raise VecexploreError(f"{name} holds {len(names)} arrays ({', '.join(names) or 'none'}): name the one with "
                                  "the vectors (--vectors-col on the command line).")
        if array is not None and array not in names:
            raise VecexploreError(f"{name} has no array {array!r}; its arrays are: {', '.join(names)}.")
        loaded = loaded[array or names[0]]
    if loaded.dtype.kind not in "iuf":
        raise VecexploreError(f"{name} holds {loaded.dtype} values, not numbers: save the vectors as a float array.")
    if loaded.ndim != 2:
        raise VecexploreError(f"{name} holds an array of shape {loaded.shape}; vectors must be a 2-D array, one row "
                              "per text (e.g. vectors.reshape(len(vectors), -1)).")
    if not loaded.shape[0]:
        raise VecexploreError(f"{name} has no rows: there are no vectors to open.")
    if not loaded.shape[1]:
        raise VecexploreError(f"The vectors of {name} have 0 dimensions.")
    in_memory = np.array(loaded, np.float32) if isinstance(loaded, np.memmap) else loaded.astype(np.float32, copy=False)
    return _finite(name, in_memory)


def _finite(name: str, vectors: np.ndarray) -> np.ndarray:
    """``vectors``, or a refusal naming how many hold a NaN, an infinity or a missing number, and the first."""
    bad = ~np.isfinite(vectors.sum(axis=1, dtype=np.float64))  # a float64 sum of float32 numbers cannot overflow
    if bad.any():
        raise VecexploreError(f"{name} has missing, NaN or infinite numbers in {int(bad.sum()):,} of {len(vectors):,} "
                              f"vectors (first: row {int(np.flatnonzero(bad)[0])}): fix or drop those rows first.")
    return vectors
