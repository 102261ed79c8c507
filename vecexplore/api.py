"""The notebook API: the app's workflows in a few calls, on a DataFrame or a file.

>>> import vecexplore as vx
>>> corpus = vx.load(frame, text="text", label="label")        # a DataFrame, a file of texts or of your vectors
>>> space = vx.embedding(corpus, "all-MiniLM-L6-v2")            # an EmbeddingSet (cached on disk)
>>> figure = vx.map(space, method="pca")                        # plotly figure, clusters named on it
>>> card = vx.choose(corpus, ["all-MiniLM-L6-v2", "glove-6B-50d"])  # the report card

Every call goes through the same workflow functions as the pages and the command line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from vecexplore.cache import EmbeddingCache
from vecexplore.choosing.report import ChoiceReport
from vecexplore.choosing.workflow import candidate_embedders
from vecexplore.choosing.workflow import choose as choose_models
from vecexplore.embedder import Embedder
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import MINILM_ID
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus, from_table, guess_text_column, load_file
from vecexplore.files.vectors import holds_vectors, open_vectors
from vecexplore.pipeline import imported_set
from vecexplore.search.model_check import named_model_set


def load(source: pd.DataFrame | str | Path, text: str | None = None, label: str | None = None,
         name: str | None = None, vectors: str | None = None, metadata: str | Path | None = None,
         metric: str = "cosine") -> Corpus:
    """A corpus from a DataFrame (``text``: its text column, guessed when not given; ``label`` optional), from a
    file of texts (.txt .csv .tsv .jsonl .parquet), or from your own vectors, kept as they are: a .parquet/.arrow
    with a column of number lists (``vectors`` names it, else the one there is), a .npy/.npz with its ``metadata``
    table (default: the .csv/.parquet/.tsv of the same name beside it) or a folder written by ``datasets``'
    ``save_to_disk``; ``metric`` says how those vectors are compared."""
    if isinstance(source, pd.DataFrame):
        column = text or guess_text_column(source)
        if column is None:
            raise VecexploreError("No column of the DataFrame holds words: name the text column with text=...")
        return from_table(source, column, label, name=name or "DataFrame")
    path = Path(source)
    if metadata is not None or holds_vectors(path, vectors):
        return open_vectors(path, vectors, text, label, metadata, metric)
    return load_file(path, text, label)


def embedding(corpus: Corpus, model: str | None = None, backend: str = "auto", cache: bool = True,
              vectors_model: str | None = None) -> EmbeddingSet:
    """``corpus`` embedded by ``model`` (default all-MiniLM-L6-v2; vectors read from and written to the disk cache
    unless ``cache=False``), as the command line's ``--model``. A corpus that came with its own vectors and no
    ``model`` is returned as those vectors, tagged as imported; or, when ``vectors_model`` (the command line's
    ``--vectors-model``) names the model that made them, tagged with it once it reproduces them on a sample of rows
    (``info["model_check"]``: the measured cosines), so that its text queries may search them."""
    if corpus.vectors is not None and model is None:
        if vectors_model is None:
            return imported_set(corpus)
        embedder = Embedder(vectors_model, backend, EmbeddingCache() if cache else None, fit_texts=corpus.texts)
        return named_model_set(imported_set(corpus), embedder)[0]
    embedder = Embedder(model or MINILM_ID, backend, EmbeddingCache() if cache else None, fit_texts=corpus.texts)
    return embedder.embed(corpus)[0]


def map(space: EmbeddingSet, method: str = "pca", dims: int = 2, clusters: bool = True, k: int = 10):
    """The map of ``space`` as a plotly figure: points coloured by cluster (named by their distinctive words,
    written on the map) or, with ``clusters=False``, by label; trustworthiness and k-NN kept in the title."""
    from vecexplore.maps.drawing import map_figure
    from vecexplore.maps.projection import Projector
    from vecexplore.maps.report import cluster_report, map_report

    report = map_report(space, Projector(method, dims), k=k)
    return map_figure(report, cluster_report(space) if clusters else None,
                      colour_by="cluster" if clusters else "label")


def choose(corpus: Corpus, models: Sequence[str], *, backend: str = "auto", titles: Sequence[str] | None = None,
           resamples: int = 1000, seed: int = 0, cache: bool = True, **inputs) -> ChoiceReport:
    """The report card: ``models`` (2 to 8 ids; ``model@backend`` for a backend of its own) ranked on ``corpus``
    and what else is given (``titles``; ``queries``/``qrels``/``doc_ids``; ``pairs``; budgets
    ``max_ms_per_text``/``max_bytes_per_vector``), with costs measured in the run."""
    embedders = candidate_embedders(models, backend, EmbeddingCache() if cache else None, corpus.texts)
    return choose_models(corpus, embedders, titles=titles, n_boot=resamples, seed=seed, **inputs)
