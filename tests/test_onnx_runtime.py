"""The ONNX Runtime backend: same vectors as sentence-transformers' torch path, int8 fidelity reported, auto rule."""

import numpy as np
import pytest

from vecexplore.encoders import MINILM_ID, load_encoder, minilm_folder, minilm_version, onnx_runtime
from vecexplore.errors import VecexploreError

# a fixed sample: short and long sentences, punctuation, digits, a non-ASCII word, one text past max_seq_length
SAMPLE = ["The cat sat on the mat.", "Stocks fell sharply on Monday after the quarterly report.",
          "Quantum computers use qubits, which can be 0 and 1 at once.", "Café owners protest the new 3% tax!",
          "ok", "A quick brown fox jumps over the lazy dog " * 3, "word " * 400]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_default_backend_is_onnx_and_matches_torch(minilm, minilm_onnx):
    assert minilm_onnx.backend == "onnx-fp32" and minilm_onnx.id == MINILM_ID
    # cached apart from torch's vectors and from an older export's
    assert minilm_onnx.version == minilm_version() + f";onnx-fp32.v{onnx_runtime.FORMAT}" != minilm.version
    texts = SAMPLE * 10  # several batches, mixed lengths
    ours, ref = minilm_onnx.encode(texts, batch_size=8), minilm.encode(texts)
    assert ours.dtype == np.float32 and ours.shape == ref.shape == (70, 384)
    assert cosines(ours, ref).min() >= 0.999
    np.testing.assert_allclose(ours, ref, atol=1e-3)
    assert minilm_onnx.fidelity_["min_cos"] >= onnx_runtime.FIDELITY_BAR
    assert minilm_onnx.diagnose(SAMPLE) == minilm.diagnose(SAMPLE)  # same truncation report as torch


def test_sorting_by_length_does_not_change_vectors(minilm_onnx):
    texts = SAMPLE[:6]
    together = minilm_onnx.encode(texts, batch_size=4)
    alone = np.vstack([minilm_onnx.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert minilm_onnx.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_int8_is_reported_and_close(minilm, minilm_onnx):
    int8 = load_encoder(MINILM_ID, backend="onnx-int8")
    assert int8.backend == "onnx-int8" and int8.version.endswith(f";onnx-int8.v{onnx_runtime.FORMAT}")
    fid = int8.fidelity_
    assert 0.9 < fid["min_cos"] <= fid["mean_cos"] < 1.0 and fid["n_probe_texts"] > 50
    cos = cosines(int8.encode(SAMPLE), minilm.encode(SAMPLE))
    assert cos.mean() > 0.97
    # the fp32 export was reused, not redone: both precisions are recorded in one place
    meta = onnx_runtime.export_dir(minilm_folder()) / "meta.json"
    assert '"int8"' in meta.read_text() and '"fp32"' in meta.read_text()


@pytest.mark.slow
def test_int8_that_loses_the_vectors_is_refused(monkeypatch, minilm_onnx):
    """An int8 copy under the bar, even by the careful recipe, is refused (all-mpnet-base-v2's plain copy measured
    cosine -0.14 to torch here)."""
    load_encoder(MINILM_ID, backend="onnx-int8")  # exported (or read back) with the real bar
    monkeypatch.setattr(onnx_runtime, "_done", lambda meta, precision: True)  # the shared export is not redone
    monkeypatch.setattr(onnx_runtime, "INT8_BAR", 1.5)
    with pytest.raises(VecexploreError, match="int8 quantisation does not keep all-MiniLM-L6-v2's vectors"):
        load_encoder(MINILM_ID, backend="onnx-int8")
    assert load_encoder(MINILM_ID, backend="onnx").backend == "onnx-fp32"  # fp32 is not affected


@pytest.mark.slow
def test_careful_int8_keeps_the_gelu_fed_matmuls_in_fp32(tmp_path, minilm, minilm_onnx):
    """The careful recipe (used when the plain one loses the vectors) quantises every MatMul but those fed by GELU."""
    import shutil

    import onnx

    src = onnx_runtime.export(minilm_folder())
    for name in ("model.onnx", "tokenizer.json", "meta.json"):
        shutil.copy2(src / name, tmp_path / name)
    onnx_runtime._quantize(tmp_path / "model.onnx", tmp_path / "model-int8.onnx", careful=True)
    graph = onnx.load(str(tmp_path / "model-int8.onnx")).graph
    gelu = {o for n in graph.node if n.op_type in ("Gelu", "BiasGelu", "FastGelu") for o in n.output}
    fp32 = [n for n in graph.node if n.op_type == "MatMul"]
    assert gelu and len(fp32) == len(gelu) and all(n.input[0] in gelu for n in fp32)  # one per layer, no other
    int8 = onnx_runtime.OnnxEncoder(tmp_path, "int8")
    assert cosines(int8.encode(SAMPLE), minilm.encode(SAMPLE)).min() > onnx_runtime.INT8_BAR


def test_auto_falls_back_to_torch_below_the_bar(monkeypatch, minilm_onnx):
    monkeypatch.setattr(onnx_runtime, "FIDELITY_BAR", 1.5)
    enc = load_encoder(MINILM_ID)
    assert enc.backend == "torch" and "drifted" in enc.backend_note
    assert load_encoder(MINILM_ID, backend="onnx").backend == "onnx-fp32"  # asked for explicitly: kept
    assert load_encoder(MINILM_ID, backend="torch").backend == "torch"


def test_unknown_backend_and_unsupported_modules():
    with pytest.raises(VecexploreError, match="Unknown backend"):
        load_encoder(MINILM_ID, backend="tpu")

    class Transformer:
        auto_model = tokenizer = object()
        max_seq_length = 128

    class Dense:
        pass

    with pytest.raises(VecexploreError, match="Dense"):
        onnx_runtime._pipeline([Transformer(), Dense()])
    with pytest.raises(VecexploreError, match="transformer models only"):
        onnx_runtime._pipeline([Dense()])
