"""Qdrant backends behind one interface: Qdrant Edge embedded in the process (the default) and a Qdrant server
through qdrant-client. :class:`vecexplore.search.store.Store` holds one of them; nothing above it asks which."""

from vecexplore.search.qdrant.backend import Backend, Record, ScoredRecord
from vecexplore.search.qdrant.filters import FieldFilter, parse_filter

__all__ = ["Backend", "FieldFilter", "Record", "ScoredRecord", "parse_filter"]
