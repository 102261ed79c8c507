# Two entry points for a fresh machine (see README): `make app` and `make test`.
# CPU torch is installed first, on its own: anything that pulls plain `torch` gets a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check -q
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: app test reliability bench

$(VENV)/.app: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e .
	touch $@

# One-off costs paid at install, not by the first user: numba compiles UMAP, MiniLM is exported to ONNX.
$(VENV)/.warm: $(VENV)/.app
	$(VENV)/bin/vecexplore warmup
	touch $@

$(VENV)/.test: $(VENV)/.app
	$(PIP) -e '.[test]'
	touch $@

# `streamlit run app.py` under a launcher: SIGTERM or Ctrl+C stops it within ~3 s, whatever a session is doing
# (vecexplore/serve.py)
app: $(VENV)/.warm
	$(PY) -m vecexplore.serve

test: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# The whole suite, then docs/reliability.md rewritten from its hostile inputs (only after a full, green run).
reliability: $(VENV)/.test
	VECEXPLORE_RELIABILITY=1 $(PY) -m pytest

bench: $(VENV)/.test
	$(PY) bench/run.py
