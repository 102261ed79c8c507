"""vecexplore — the Streamlit entry point: page setup, navigation and the shared sidebar."""

import os

import streamlit as st

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models come from local files; never reach for the hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pages.ui import links, sidebar  # noqa: E402  (after the environment is set)
from vecexplore.config import warmup_enabled  # noqa: E402
from vecexplore.warmup import start_background  # noqa: E402

if warmup_enabled():
    start_background()  # once per process: compile UMAP and export MiniLM while the user picks a corpus

st.set_page_config(page_title="vecexplore", page_icon="🧭", layout="wide")
page = st.navigation([
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/projection.py", title="Projection", icon="🗺️"),
    st.Page("pages/analogies.py", title="Analogies", icon="🧮"),
    st.Page("pages/isotropy.py", title="Isotropy", icon="📐"),
    st.Page("pages/search.py", title="Search", icon="🔎"),
    st.Page("pages/compare.py", title="Compare", icon="⚖️"),
    st.Page("pages/shift.py", title="Domain shift", icon="🌍"),
    st.Page("pages/finetune.py", title="Fine-tuning", icon="🎯"),
    st.Page("pages/choose.py", title="Choose a model", icon="🏆"),
    st.Page("pages/quality.py", title="Data quality", icon="🧹"),
])
links.start_run(sidebar.LINK_PARAMS)
sidebar.show()
try:
    page.run()
finally:
    links.publish()  # the address bar always holds a link to this view
