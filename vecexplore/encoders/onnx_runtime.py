"""ONNX Runtime backend for sentence-transformers models: export once with ``torch.onnx``, check, then run fast.

``export(folder)`` turns the model's transformer into an ONNX graph (token embeddings out), saves its fast
tokenizer and its pooling settings, and measures the graph's fidelity: the cosine between its sentence vectors
and sentence-transformers' own (torch) vectors on a fixed set of probe texts. ``precision="int8"`` adds a
dynamically quantised copy (per-channel int8 weights of every MatMul and fused attention; when that loses the
vectors, as it did for all-mpnet-base-v2, a careful copy with reduced range and the GELU-fed MatMuls kept in fp32)
with its own fidelity and recipe.
The export lives under ``<VECEXPLORE_HOME>/models/onnx/<weights digest>/`` and is made once per model.

``OnnxEncoder`` runs that graph: texts sorted by token count so a batch pads little, mean/CLS/max pooling and
normalisation in numpy, as the model's sentence-transformers modules specify.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from vecexplore.encoders._common import Progress, cpu_threads, folder_digest, truncation_report, untruncated_counts
from vecexplore.errors import VecexploreError
from vecexplore.numeric import cosine

PRECISIONS = ("fp32", "int8")
FIDELITY_BAR = 0.999  # least cosine to the torch vectors for a backend to be chosen by default
INT8_BAR = 0.9  # least cosine to the torch vectors for an int8 copy to be used at all (asked for by name)
FORMAT = 3  # bump when the export layout changes: old exports are then rebuilt
_POOLINGS = ("mean", "cls", "max")
_EXPORT_LOCK = threading.Lock()  # one export at a time in a process (the app's warm-up thread and a page)


def _probe_texts() -> list[str]:
    """Fixed probe texts for the fidelity check: the shipped demo corpora, short and long."""
    from vecexplore.files.corpus import DEMOS, load_demo

    texts = [t for key in DEMOS for t in load_demo(key).texts]
    texts.sort(key=len)
    step = max(1, len(texts) // 96)
    return texts[::step][:96] + [" ".join(texts[-40:])]  # plus one text longer than max_seq_length


def export_dir(folder: Path) -> Path:
    from vecexplore.config import home

    return home() / "models" / "onnx" / f"{folder_digest(folder)}-v{FORMAT}"


def exported(folder: str | Path, precision: str = "fp32") -> bool:
    """Whether the model in ``folder`` has its ONNX export for ``precision`` on disk (:func:`export` made it)."""
    meta = export_dir(Path(folder)) / "meta.json"
    try:
        return _done(json.loads(meta.read_text()), precision)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _pipeline(model) -> dict:
    """What the ONNX graph must be wrapped in, read from the sentence-transformers modules; unsupported → error."""
    modules = list(model)
    first = modules[0]
    if not hasattr(first, "auto_model") or not hasattr(first, "tokenizer"):
        raise VecexploreError("The ONNX backend runs transformer models only; use the torch backend for this one.")
    spec = {"max_seq_length": int(first.max_seq_length), "pooling": None, "normalize": False}
    for module in modules[1:]:
        name = type(module).__name__
        if name == "Pooling":
            mode = module.get_config_dict().get("pooling_mode")
            if mode not in _POOLINGS or spec["pooling"] is not None:
                raise VecexploreError(f"The ONNX backend does not run {mode!r} pooling; use the torch backend.")
            spec["pooling"] = mode
        elif name == "Normalize":
            spec["normalize"] = True
        else:
            raise VecexploreError(f"The ONNX backend does not run the {name} module; use the torch backend.")
    if spec["pooling"] is None:
        raise VecexploreError("This model has no pooling module; the ONNX backend needs one. Use torch.")
    return spec


def _export_graph(model, path: Path) -> list[str]:
    """Write the transformer as ONNX (dynamic batch and length); returns its input names.

    Exported with eager attention through torch.onnx's TorchScript exporter: that graph is the one ONNX
    Runtime's optimizer fuses into its ``Attention`` and ``EmbedLayerNormalization`` kernels (the dynamo
    exporter's graph keeps attention as a dozen separate ops per layer, measured about 6% slower).
    """
    import torch

    auto = model[0].auto_model.eval()
    if hasattr(auto, "set_attn_implementation"):
        auto.set_attn_implementation("eager")
    tok = model[0].tokenizer(["a short text", "and a somewhat longer second text"], padding=True,
                             return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tok]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state

    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated in favour of dynamo
        torch.onnx.export(TokenEmbeddings(auto), tuple(tok[n] for n in names), str(path), input_names=names,
                          output_names=["token_embeddings"], dynamic_axes={n: {0: "batch", 1: "length"} for n in names},
                          opset_version=17, dynamo=False)
    _fuse(path, auto.config)
    return names


def _fuse(path: Path, config) -> None:
    """ONNX Runtime's transformer fusions (attention, skip-layer-norm, bias-GELU...) for BERT-like models."""
    if config.model_type not in {"bert", "roberta", "distilbert", "xlm-roberta", "mpnet"}:
        return
    from onnxruntime.transformers import optimizer

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fused = optimizer.optimize_model(str(path), model_type="bert", num_heads=config.num_attention_heads,
                                         hidden_size=config.hidden_size)
    fused.save_model_to_file(str(path))


def _quantize(src: Path, dst: Path, careful: bool = False) -> None:
    """Dynamic int8 quantisation of every MatMul and fused attention; ``careful``: with reduced range, and the
    MatMuls fed by GELU left in fp32 (their inputs carry the outlier activations that plain int8 flattens)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ops = ["MatMul", "Attention"]
    nodes = None
    if careful:
        graph = onnx.load(str(src), load_external_data=False).graph
        gelu = {o for n in graph.node if n.op_type in ("Gelu", "BiasGelu", "FastGelu") for o in n.output}
        nodes = [n.name for n in graph.node if n.op_type in ops and n.input[0] not in gelu]
    # fused contrib ops defeat ONNX shape inference, so the quantiser is told their outputs are float
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True, reduce_range=careful,
                         op_types_to_quantize=ops, nodes_to_quantize=nodes,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _quantized(work: Path, meta: dict, reference: np.ndarray, texts: list[str]) -> dict:
    """Quantise the export in ``work``, the plain way first and, when that loses the vectors (cosine to torch
    under ``INT8_BAR``: all-mpnet-base-v2 fell to -0.14 here), the careful way; returns the copy's fidelity and
    recipe."""
    for careful in (False, True):
        _quantize(work / "model.onnx", work / "model-int8.onnx", careful)
        fidelity = {**_fidelity(OnnxEncoder(work, "int8", spec=meta), reference, texts),
                    "recipe": "careful" if careful else "plain"}
        if fidelity["min_cos"] >= INT8_BAR:
            break
    return fidelity


def _done(meta: dict | None, precision: str) -> bool:
    """Whether ``meta`` records a usable export of ``precision`` (an int8 copy under the bar made before the
    careful recipe existed is made again)."""
    fidelity = None if meta is None else meta["fidelity"].get(precision)
    # an old int8 copy is told by its missing recipe, not by a new FORMAT: that would also drop every fp32 export
    # and every vector cached under the ONNX versions
    return fidelity is not None and (precision == "fp32" or "recipe" in fidelity or fidelity["min_cos"] >= INT8_BAR)


def _fidelity(encoder: OnnxEncoder, reference: np.ndarray, texts: list[str]) -> dict:
    cos = cosine(encoder.encode(texts), reference)
    return {"min_cos": float(cos.min()), "mean_cos": float(cos.mean()), "n_probe_texts": len(texts)}


def export(folder: str | Path, precision: str = "fp32") -> Path:
    """Export (once) the sentence-transformers model in ``folder`` for ONNX Runtime; returns the export folder."""
    if precision not in PRECISIONS:
        raise VecexploreError(f"Unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}.")
    with _EXPORT_LOCK:
        return _export(Path(folder), precision)


def _export(folder: Path, precision: str) -> Path:
    out = export_dir(folder)
    meta_path = out / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    if _done(meta, precision):
        return out
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True, trust_remote_code=False)
    texts = _probe_texts()
    reference = model.encode(texts, convert_to_numpy=True, show_progress_bar=False)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent if out.parent.exists() else None))
    try:
        if meta is None:
            spec = _pipeline(model)
            spec["inputs"] = _export_graph(model, work / "model.onnx")
            model[0].tokenizer.save_pretrained(str(work))
            if not (work / "tokenizer.json").exists():
                raise VecexploreError("This model has no fast tokenizer (tokenizer.json); use the torch backend.")
            meta = {**spec, "dims": int(model.get_embedding_dimension()), "fidelity": {},
                    "versions": {p: metadata.version(p) for p in ("torch", "onnxruntime", "transformers")}}
        else:
            for name in os.listdir(out):
                shutil.copy2(out / name, work / name)
        meta["fidelity"][precision] = (_quantized(work, meta, reference, texts) if precision == "int8" else
                                       _fidelity(OnnxEncoder(work, precision, spec=meta), reference, texts))
        (work / "meta.json").write_text(json.dumps(meta, indent=1))
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        os.replace(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


class OnnxEncoder:
    """A sentence-transformers model exported by :func:`export`, run with ONNX Runtime on the CPU.

    ``threads`` defaults to :func:`cpu_threads` (the machine's cores). ``fidelity_`` holds the export's cosine
    check against torch; ``version`` is the model's version with the backend and export format appended, so its
    vectors are cached apart from torch's and from an older export's.
    """

    def __init__(self, export_folder: str | Path, precision: str = "fp32", model_id: str = "", version: str = "",
                 threads: int | None = None, spec: dict | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if precision not in PRECISIONS:
            raise VecexploreError(f"Unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}.")
        folder = Path(export_folder)
        self.spec_ = spec if spec is not None else json.loads((folder / "meta.json").read_text())
        self.precision = precision
        self.backend = f"onnx-{precision}"
        self.id = model_id
        self.version = f"{version};{self.backend}.v{FORMAT}"
        self.threads = threads or cpu_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # measured faster on 2 cores
        graph = folder / ("model.onnx" if precision == "fp32" else "model-int8.onnx")
        self.session_ = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.tokenizer_ = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.files_ = [graph, folder / "tokenizer.json"]
        self.tokenizer_.no_padding()
        self.tokenizer_.enable_truncation(self.spec_["max_seq_length"])
        self.dims = int(self.spec_["dims"])
        self.max_seq_length = int(self.spec_["max_seq_length"])
        self.fidelity_ = self.spec_["fidelity"].get(precision)

    def _pool(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        mode = self.spec_["pooling"]
        if mode == "cls":
            out = tokens[:, 0]
        elif mode == "max":
            out = np.where(mask[..., None] > 0, tokens, -1e9).max(axis=1)
        else:
            out = (tokens * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        if self.spec_["normalize"]:
            out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        """One float32 row per text; texts of similar token count share a batch (little padding)."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        if not texts:
            return out
        batch_size = max(1, min(batch_size, 64))  # larger batches are slower on a CPU, even sorted
        encoded = self.tokenizer_.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encoded])
        order = np.argsort(-lengths, kind="stable")
        report_every = batch_size * 8
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for j, row in enumerate(rows):
                ids[j, : lengths[row]] = encoded[row].ids
                mask[j, : lengths[row]] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            tokens = self.session_.run(None, {name: feed[name] for name in self.spec_["inputs"]})[0]
            out[rows] = self._pool(tokens, mask)
            done = min(start + batch_size, len(texts))
            if progress and (done % report_every == 0 or done == len(texts)):
                progress(done, len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        return truncation_report(untruncated_counts(self.tokenizer_, texts),
                                 self.max_seq_length)
