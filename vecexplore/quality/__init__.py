"""The data-quality lens: near-duplicates, outliers, likely label errors and leakage, found in the embedding
space (``finders.py``: the statistics; ``report.py``: the workflow)."""
