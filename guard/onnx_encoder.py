"""The packaged MiniLM on ONNX Runtime: the vectors sentence-transformers' torch model gives, for less CPU.

Every check reads its first-sight text through MiniLM, so its forward pass is most of
guard's compute. Measured on the 2-core machine, one model thread: ~0.5 ms per word piece
against torch's ~0.65 (``python -m benchmarks.encoder_speed``), and a whole first-sight check
547 ms against 984 (``benchmarks/verify_speed.py``), with outputs equal to 1e-5. Without
torch loaded, a worker also holds ~300 MB less.

The graph is exported from the installed weights on first use into guard's cache folder
(``GUARD_CACHE_DIR``, else ``~/.cache/guard``), checked against torch on two sentences before
it is kept, and reused by every later process. It is not shipped: the weights are not ours. The shipped support
model's encoder (``guard.verify.support_model``) runs the same way, exported from its fp16 weights.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from guard.threads import model_threads

if TYPE_CHECKING:
    from tokenizers import Encoding

_log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_CHECK_TEXTS = ["Refunds are paid within 5 business days.", "Yes."]
_TOLERANCE = 1e-3  # largest difference from torch accepted in a token vector (seen: ~5e-6)


def cache_dir() -> Path:
    configured = os.environ.get("GUARD_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "guard"


class OnnxEncoder:
    """Word pieces and contextual token vectors of a batch of texts; one forward per call, not thread-safe."""

    def __init__(self, model_dir: Path, max_length: int, int8: bool = False):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = model_threads()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting beside guard's work
        graph = quantized_graph(model_dir) if int8 else exported_graph(model_dir)
        self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.dim = int(self._session.get_outputs()[0].shape[2])

    def tokenize(self, texts: list[str] | list[tuple[str, str]]) -> list[Encoding]:
        """Word pieces of each text (or pair of texts), truncated as the model reads them; their lengths decide the batches."""
        return self._tokenizer.encode_batch(texts)

    def token_vectors(self, encodings: list[Encoding]) -> list[tuple[list[str], np.ndarray]]:
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in _INPUTS}
        for row, e in enumerate(encodings):
            n = len(e.ids)
            feed["input_ids"][row, :n] = e.ids
            feed["attention_mask"][row, :n] = 1
            feed["token_type_ids"][row, :n] = e.type_ids
        (hidden,) = self._session.run(None, feed)
        return [(e.tokens, hidden[row, :len(e.ids)]) for row, e in enumerate(encodings)]


def load_or_none(model_dir: Path, max_length: int, int8: bool = False) -> OnnxEncoder | None:
    """The encoder, or None (the caller runs torch) when onnxruntime is missing or the export failed."""
    try:
        return OnnxEncoder(model_dir, max_length, int8)
    except Exception as exc:  # noqa: BLE001 - a slower encoder beats no answer
        _log.warning("ONNX Runtime unavailable for %s (%s: %s); using torch", model_dir, type(exc).__name__, exc)
        return None


def exported_graph(model_dir: Path) -> Path:
    """The ONNX file for the weights in ``model_dir``, exported and checked once.

    Named by the weights file's size and modification time: hashing its 90 MB would cost every process start
    ~0.2 s, and a reinstall (new time) only costs one more export.
    """
    weights = (model_dir / "model.safetensors").stat()
    target = cache_dir() / "onnx" / f"{model_dir.parent.name}-{model_dir.name}-{weights.st_size}-{weights.st_mtime_ns}.onnx"
    return _written(target, lambda path: _export(model_dir, path))


def quantized_graph(model_dir: Path) -> Path:
    """The exported graph with int8 weights (dynamic quantization of its matrix products): a quarter of the
    size and about half the CPU per word piece; scores move a little (``benchmarks/verify_answers.py``)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = exported_graph(model_dir)
    return _written(source.with_suffix(".int8.onnx"),
                    lambda path: quantize_dynamic(source, path, weight_type=QuantType.QInt8))


def _written(target: Path, write: Callable[[Path], object]) -> Path:
    """``target``, written once by ``write`` into a temporary file and moved into place."""
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        folder = target.parent
    except OSError:  # a read-only home: export for this process only
        folder = Path(tempfile.mkdtemp(prefix="guard-onnx-"))
        target = folder / target.name
    handle, partial = tempfile.mkstemp(dir=folder, suffix=".partial")
    os.close(handle)
    try:
        write(Path(partial))
        os.replace(partial, target)  # atomic: a concurrent process sees the whole file or none
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


def _export(model_dir: Path, path: Path) -> None:
    import onnxruntime as ort
    import torch
    from transformers import AutoModel, AutoTokenizer

    # fp32 whatever the weights are stored in (the support model ships fp16): CPUs compute fp32 faster.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", dtype=torch.float32,
                                      add_pooling_layer=False).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN201 - traced
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    batch = tokenizer(_CHECK_TEXTS, padding=True, return_tensors="pt")
    args = tuple(batch[name] for name in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.inference_mode():
        expected = model(**batch).last_hidden_state.numpy()
    with warnings.catch_warnings():  # the tracer's notes on shapes: the check below is what counts
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHiddenState(), args, str(path), input_names=list(_INPUTS),
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {name: batch[name].numpy() for name in _INPUTS})
    mask = batch["attention_mask"].numpy().astype(bool)
    difference = float(np.abs(got - expected)[mask].max())
    if difference > _TOLERANCE:
        raise RuntimeError(f"the ONNX export of {model_dir} differs from torch by {difference:.2e}; not used")
