"""vecexplore: explore embedding spaces — the functional core (no Streamlit here)."""

from vecexplore.cache import EmbeddingCache, EmbedStats, embed
from vecexplore.embedding_set import EmbeddingSet
from vecexplore.encoders import Encoder, load_encoder
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus
from vecexplore.maps.projection import Projector, knn_kept, trustworthiness

__all__ = [
    "Corpus", "EmbedStats", "EmbeddingCache", "EmbeddingSet", "Encoder", "Projector", "VecexploreError",
    "embed", "knn_kept", "load_encoder", "trustworthiness",
]
__version__ = "0.1.0"
