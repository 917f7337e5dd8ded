"""Serving needs no torch: the proxy verifies answers and searches the knowledge base on ONNX Runtime alone.

The whole serving path runs in a fresh interpreter (torch is installed in the test environment, so only an
import would load it); ``.ci/run`` also installs the built wheel with ``[server]`` into a virtualenv without
torch and serves from it (``.ci/lean-install``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from guard.errors import MissingExtra
from guard.extras import require

ROOT = Path(__file__).resolve().parents[2]
TRAINING_STACK = ("torch", "transformers", "sentence_transformers", "sklearn")

PROBE = r"""
import json, sys
from pathlib import Path
from starlette.testclient import TestClient
from guard import Guard, GuardConfig
from guard.adapters.server.app import create_app
from guard.kb import KnowledgeBase

folder = Path(sys.argv[1])
(folder / "docs").mkdir()
(folder / "docs" / "returns.md").write_text("Refunds are paid within 5 business days of receiving the return.")
config = GuardConfig(models={"default": "openai/scripted"}, telemetry={"database": str(folder / "g.db")},
                     knowledge_base={"path": str(folder / "kb")})
KnowledgeBase.open(config.knowledge_base).add([folder / "docs"])
with TestClient(create_app(Guard(config), config)) as client:
    reply = client.post("/v1/chat/completions", json={"model": "openai/scripted",
                        "messages": [{"role": "user", "content": "How long do refunds take?"}]}).json()
    hits = [h.chunk.text for h in KnowledgeBase.open(config.knowledge_base).search("refund days")]
print(json.dumps({"layers": {k: v["status"] for k, v in reply["guard"]["layers"].items()}, "hits": hits,
                  "loaded": [m for m in sys.argv[2].split(",") if m in sys.modules]}))
"""


def test_the_serving_path_verifies_and_retrieves_without_importing_torch(tmp_path, upstream):
    from tests.support.fake_upstream import Reply

    upstream.responder = lambda _body: Reply(text="Refunds are paid within 5 business days.")
    env = dict(os.environ)  # the upstream fixture points the openai provider at the scripted server
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), ",".join(TRAINING_STACK)], capture_output=True,
                         text=True, check=True, cwd=ROOT, env=env, timeout=300).stdout
    probe = json.loads(out.strip().splitlines()[-1])

    assert probe["layers"]["support"] == "ok" and probe["layers"]["grounding"] == "ok"
    assert probe["hits"]
    assert probe["loaded"] == []


def test_a_missing_extra_names_the_install_command():
    try:
        require("server", "no_such_module_for_guard", purpose="guard serve")
    except MissingExtra as error:
        assert "pip install 'guard-llm[server]'" in str(error) and "no_such_module_for_guard" in str(error)
    else:
        raise AssertionError("no error for a missing module")
