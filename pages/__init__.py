"""The Streamlit pages of vecexplore: widgets and figures only."""
