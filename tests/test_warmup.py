"""The first picture's warm-up: the model the warm-up thread loaded is handed to the first page, ``auto`` runs on
torch while the worker makes the ONNX export, and UMAP's compiled code is kept in numba's disk cache."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import Future

import numpy as np
import pytest

from vecexplore import warmup
from vecexplore.encoders import GLOVE_ID, MINILM_ID, minilm_folder


def test_the_model_the_warm_up_loaded_is_handed_to_the_first_page_once(monkeypatch):
    loaded = Future()
    marker = object()
    loaded.set_result(marker)
    monkeypatch.setattr(warmup, "_encoders", {GLOVE_ID: loaded})
    assert warmup.encoder(GLOVE_ID, "torch") is not marker  # another backend: not the warm-up's copy
    assert warmup.encoder(GLOVE_ID) is marker
    again = warmup.encoder(GLOVE_ID)  # handed over once: the page's cache keeps it from then on
    assert again is not marker and again.id == GLOVE_ID


def test_auto_runs_on_torch_while_the_worker_makes_the_onnx_export(monkeypatch, topics):
    from sentence_transformers import SentenceTransformer

    monkeypatch.setattr(warmup, "_exporting", {MINILM_ID})
    encoder = warmup.encoder(MINILM_ID)
    assert encoder.backend == "torch" and "export" in encoder.backend_note
    texts = topics.texts[:20]
    reference = SentenceTransformer(str(minilm_folder()), device="cpu").encode(texts)
    np.testing.assert_allclose(encoder.encode(texts), reference, atol=1e-3)


UMAP_FIT = ("import numpy as np; from vecexplore.maps.projection import Projector; "
            "X = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32); "
            "p = Projector('umap').fit(X); p.transform(X[:3]); print(p.embedding_[:2].tolist())")


@pytest.mark.slow
def test_umaps_compiled_code_is_kept_on_disk_and_gives_the_same_map(tmp_path):
    """A fresh process's UMAP leaves its layout optimiser compiled in numba's cache (umap-learn does not ask for
    it); the next process loads it and draws the same map."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", UMAP_FIT], env=env, capture_output=True, text=True, check=True)
    assert list(tmp_path.rglob("layouts._optimize_layout_euclidean_single_epoch-*.nbi"))
    assert list(tmp_path.rglob("umap_.fuzzy_simplicial_set-*.nbi")) or list(tmp_path.rglob("umap_.smooth_knn_dist-*"))
    second = subprocess.run([sys.executable, "-c", UMAP_FIT], env=env, capture_output=True, text=True, check=True)
    assert second.stdout == first.stdout
