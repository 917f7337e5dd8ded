"""Export the encoder graph that guard ships: MiniLM-L6's network without its weights.

    python -m guard.training.graph --out guard/models/minilm-l6.onnx

Both models guard runs are BERT encoders of one shape (6 layers, 384 wide): the packaged all-MiniLM-L6-v2
for embeddings and alignment, and the support cross-encoder fine-tuned from it. So one graph serves both:
it is exported once from torch, every weight is taken out and replaced by the name of the safetensors
tensor it came from (and whether the exporter transposed it), and at run time ``guard.onnx_encoder`` puts
each model's own weights back. The package then holds ~100 KB of graph instead of a second copy of each
model, no third-party weights, and a serving process needs neither torch nor an export on first use.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np

from guard.onnx_encoder import INPUTS, WEIGHTS_KEY, weights_of

CHECK_TEXTS = ["Refunds are paid within 5 business days.", "Yes."]
TOLERANCE = 1e-3  # largest difference from torch accepted in a token vector (seen: ~5e-6)
SMALL = 4096  # constants this small (shapes, masks) stay in the graph


def export_full(model_dir: Path, path: Path) -> None:
    """The encoder's last hidden state as an fp32 ONNX graph with its weights, traced by torch."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", dtype=torch.float32,
                                      add_pooling_layer=False).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN201 - traced
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    batch = AutoTokenizer.from_pretrained(str(model_dir))(CHECK_TEXTS, padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with warnings.catch_warnings():  # the tracer's notes on shapes: the checks against torch are what count
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHiddenState(), tuple(batch[name] for name in INPUTS), str(path),
                          input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


def strip_weights(full: Path, model_dir: Path, out: Path) -> None:
    """``full`` with every weight replaced by where it comes from in ``model_dir/model.safetensors``."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(full))
    weights = weights_of(model_dir)
    plan: dict[str, tuple[str, bool]] = {}
    kept = []
    for initializer in graph.graph.initializer:
        array = numpy_helper.to_array(initializer)
        source = next(((key, transposed) for key, weight in weights.items() for transposed in (False, True)
                       if (candidate := weight.T if transposed else weight).shape == array.shape
                       and np.array_equal(candidate, array)), None)
        if source is not None:
            plan[initializer.name] = source
        elif array.size <= SMALL:
            kept.append(initializer)
        else:
            raise ValueError(f"{initializer.name} {array.shape} matches no weight of {model_dir}: not a plain export")
    del graph.graph.initializer[:]
    graph.graph.initializer.extend(kept)
    entry = graph.metadata_props.add()
    entry.key, entry.value = WEIGHTS_KEY, json.dumps(plan, sort_keys=True)
    onnx.save(graph, str(out))


def check(graph: Path, model_dir: Path) -> float:
    """Largest difference between the shipped graph with ``model_dir``'s weights and torch's forward."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from guard.onnx_encoder import OnnxEncoder

    model = AutoModel.from_pretrained(str(model_dir), dtype=torch.float32, add_pooling_layer=False).eval()
    batch = AutoTokenizer.from_pretrained(str(model_dir))(CHECK_TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = model(**batch).last_hidden_state.numpy()
    encoder = OnnxEncoder(model_dir, max_length=128, graph=graph)
    got = encoder.token_vectors(encoder.tokenize(CHECK_TEXTS))
    return max(float(np.abs(vectors - expected[row, :len(vectors)]).max()) for row, (_, vectors) in enumerate(got))


def main(argv: list[str] | None = None) -> None:
    from guard.embeddings import packaged_model_dir
    from guard.verify.support_model import model_dir as support_model_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="where the graph is written")
    parser.add_argument("--model", type=Path, default=None, help="the model traced (default: the support model)")
    args = parser.parse_args(argv)
    traced = args.model or support_model_dir()
    with tempfile.TemporaryDirectory() as scratch:
        full = Path(scratch) / "full.onnx"
        export_full(traced, full)
        strip_weights(full, traced, args.out)
    for model_dir in (support_model_dir(), packaged_model_dir()):
        difference = check(args.out, model_dir)
        if difference > TOLERANCE:
            args.out.unlink()
            raise SystemExit(f"{model_dir} through the graph differs from torch by {difference:.2e}; not written")
        print(f"{model_dir}: largest difference from torch {difference:.1e}")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} KB)")


if __name__ == "__main__":
    main()
