"""The folder layout is the architecture: what each part may import, read from the source."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ("starlette", "uvicorn", "jinja2", "itsdangerous", "fastapi")
TRAINING = ("torch", "transformers", "sentence_transformers", "sklearn", "guard.training")


def imports(folder: Path, skip: Path | None = None) -> dict[str, set[str]]:
    """Every module each file imports, at any depth (lazy imports in functions count too)."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        if skip is not None and skip in path.parents:
            continue
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offending(found: dict[str, set[str]], banned: tuple[str, ...]) -> dict[str, list[str]]:
    return {path: sorted(n for n in names if n.split(".")[0] in banned or n.startswith(banned))
            for path, names in found.items() if any(n.split(".")[0] in banned or n.startswith(banned) for n in names)}


def test_the_core_imports_no_web_framework_and_no_adapter():
    core = imports(ROOT / "guard")
    assert offending(core, WEB) == {}
    assert offending(core, ("guard.adapters",)) == {}


def test_no_runtime_module_imports_the_training_stack():
    """Serving runs on ONNX Runtime; torch, scikit-learn and ``guard.training`` belong to the train extra.

    The two exceptions reach optional stacks on purpose, behind ``guard.extras.require``: a sentence-transformers
    model named in the config, and ``guard calibrate``'s scikit-learn (the calibrate extra)."""
    runtime = {**imports(ROOT / "guard", skip=ROOT / "guard" / "training"), **imports(ROOT / "adapters"),
               **imports(ROOT / "evals")}
    allowed = {"guard/embeddings.py": ["sentence_transformers"], "guard/verify/cross_encoder.py": ["sentence_transformers"],
               "guard/verify/calibration.py": ["sklearn.linear_model"], "guard/threads.py": ["torch"]}
    assert offending(runtime, TRAINING) == allowed
