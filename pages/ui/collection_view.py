"""The Search page's "Open an existing collection": a Qdrant collection, read-only, as the session's corpus.

The collection (a server on the allow-list, or a folder under the data folders: ``collections.allowed_source``)
is read once, kept in the session, and the sidebar's source becomes :data:`SOURCE`, whose reader (:func:`opened`)
hands it to every page."""

from __future__ import annotations

import streamlit as st

from pages.ui import session, settings
from pages.ui.text import md
from vecexplore.config import DATA_DIRS_ENV, QDRANT_ALLOW_ENV, data_dirs, qdrant_allow
from vecexplore.errors import VecexploreError
from vecexplore.files.corpus import Corpus
from vecexplore.search.collections import allowed_source, read_collection

SOURCE = "Qdrant collection"
OPENED = "_opened_collection"
_ERROR = "_open_collection_error"


def opened() -> Corpus | None:
    """The sidebar's corpus for :data:`SOURCE`: the collection this session opened on the Search page."""
    corpus = st.session_state.get(OPENED)
    if corpus is None:
        st.info("Open a Qdrant collection on the Search page (*Open an existing collection*).")
    return corpus


def _open() -> None:
    """The button's callback (it runs before the page, so it may switch the sidebar's source)."""
    state = st.session_state
    where = state.get("oc_where", "").strip()
    try:
        url, path = allowed_source(**{"url" if "://" in where else "path": where})
        corpus = read_collection(state.get("oc_name", "").strip(), url=url, path=path, vector=state.get("oc_vector"),
                                 limit=int(state.get("oc_limit") or 0), caller=session.session_id())
    except VecexploreError as exc:
        state[_ERROR] = str(exc)
        return
    state[OPENED], state["source"] = corpus, SOURCE
    state["max_texts"] = max(int(state.get("max_texts") or 0), len(corpus))  # no second sample by the sidebar
    tag = corpus.origin.tag
    space = f"vectors of {tag.describe()}" if tag else f"its {corpus.vectors.shape[1]}-d vectors"
    session.flash(f"Opened {md(corpus.origin.collection)}: {len(corpus):,} points with {md(space)}, now the corpus "
                  f"of every page (sidebar: {SOURCE}).")


def open_collection() -> None:
    """The expander: where, which collection and vector, how many points; the button; what went wrong."""
    with st.expander("Open an existing collection"):
        folders, servers = data_dirs(), qdrant_allow()
        if not folders and not servers:
            st.caption(f"This server opens no collection yet: whoever runs it lists the folders it may open in "
                       f"`{DATA_DIRS_ENV}` and the Qdrant servers in `{QDRANT_ALLOW_ENV}` (URL prefixes).")
        else:
            st.caption("Read-only, as the corpus of every page. Folders under: "
                       f"{md(', '.join(map(str, folders)) or 'none')}; servers: {md(', '.join(servers) or 'none')}.")
        st.text_input("Qdrant server URL or folder", key="oc_where",
                      placeholder="http://qdrant:6333, or a full path under a data folder")
        c1, c2, c3 = st.columns(3)
        c1.text_input("Collection", key="oc_name")
        c2.text_input("Named vector", key="oc_vector", help="Needed when the collection has several.")
        settings.number("collection_points", "oc_limit", "Points (a seeded sample above)", c3)
        st.button("Open as the corpus", key="oc_open", on_click=_open)
        error = st.session_state.pop(_ERROR, None)
        if error:
            st.error(md(error), icon="⚠️")
