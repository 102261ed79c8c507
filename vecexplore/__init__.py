"""vecexplore: explore embedding spaces — the functional core (no Streamlit here).

In a notebook: ``vecexplore.load`` (a DataFrame or file), ``embedding``, ``map`` and ``choose`` (see
:mod:`vecexplore.api`)."""

from vecexplore.cache import EmbeddingCache, EmbedStats, embed
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import Encoder, load_encoder
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus
from vecexplore.maps.projection import Projector, knn_kept, trustworthiness

__all__ = [
    "Corpus", "EmbedStats", "EmbeddingCache", "EmbeddingSet", "Encoder", "Projector", "VecexploreError",
    "choose", "embed", "embedding", "knn_kept", "load", "load_encoder", "map", "trustworthiness",
]
__version__ = "0.1.0"

_NOTEBOOK = {"choose", "embedding", "load", "map"}  # vecexplore.api, imported on first use (it pulls in every workflow)


def __getattr__(name: str):
    if name in _NOTEBOOK:
        from vecexplore import api

        return getattr(api, name)
    raise AttributeError(f"module 'vecexplore' has no attribute {name!r}")
