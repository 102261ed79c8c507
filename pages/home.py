"""Home: what the app is, the data flow, the models, and the current corpus."""

import pandas as pd
import streamlit as st

from pages.ui import widgets
from pages.ui.text import md
from vecexplore.encoders import model_catalogue

st.title("🧭 vecexplore")
st.markdown("Explore embedding spaces: embed your own texts, look at them as a map, and check every number.")
st.markdown(widgets.teaching("home"))

st.subheader("The data flow")
st.graphviz_chart(
    """digraph { rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="sans-serif"];
    corpus [label="📄 corpus"]; encoder [label="🧠 encoder (model)"];
    cache [label="💾 cached vectors\\n(tagged: model id + version)"];
    analysis [label="🔬 analysis"]; figure [label="📊 figure"];
    corpus -> encoder -> cache -> analysis -> figure }""",
    width="stretch",
)

sel = st.session_state.get("selection")
st.subheader("Your corpus")
if sel is not None and sel.corpus is not None:
    c = sel.corpus
    cols = st.columns(3)
    cols[0].metric("Texts", f"{len(c):,}")
    cols[1].metric("Labels", "none" if c.labels is None else f"{len(set(c.labels)):,}")
    cols[2].metric("Model", "imported vectors" if c.vectors is not None else md(sel.model_id or "—"))
    for note in c.notes:
        st.info(md(note), icon="ℹ️")
    preview = pd.DataFrame({"text": c.texts[:200]})
    if c.labels is not None:
        preview["label"] = c.labels[:200]
    st.dataframe(preview, width="stretch", height=240)
    st.page_link("pages/projection.py", label="Open the map →", icon="🗺️")
else:
    st.warning(md(sel.error) if sel and sel.error else "Choose a corpus in the sidebar.", icon="👈")

st.subheader("Models")
st.markdown(widgets.teaching("models"))
st.table(pd.DataFrame(model_catalogue()).set_index("id"))  # our own text, wrapped rather than cut off
