"""The Streamlit pages of vecexplore: each a short script of widgets → one report call → figures (shared pieces in
pages/ui)."""
