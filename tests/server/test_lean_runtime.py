"""Serving needs no torch: the proxy verifies answers and searches the knowledge base on ONNX Runtime alone.

torch is installed in the test environment, so a real ``guard serve`` is started and its memory map read: a
library that was imported is mapped. ``.ci/run`` also installs the built wheel with ``[server]`` into a
virtualenv that has no torch at all and serves from it (``.ci/lean-install``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openai import OpenAI

from guard.errors import MissingExtra
from guard.extras import require
from tests.support.fake_upstream import Reply
from tests.support.serve import GuardServe

TRAINING_LIBRARIES = ("/torch/", "/sklearn/", "/scikit_learn", "/sentence_transformers/")


@pytest.fixture
def served(upstream, tmp_path):
    upstream.responder = lambda _body: Reply(text="Refunds are paid within 5 business days.")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "returns.md").write_text("Refunds are paid within 5 business days of receiving the return.")
    config = tmp_path / "guard.yaml"
    config.write_text(yaml.safe_dump({"models": {"default": "openai/scripted"},
                                      "knowledge_base": {"path": str(tmp_path / "kb")},
                                      "telemetry": {"database": str(tmp_path / "guard.db")}}))
    from guard.config import load_config
    from guard.kb import KnowledgeBase

    KnowledgeBase.open(load_config(config).knowledge_base).add([tmp_path / "docs"])
    server = GuardServe(config).ready()
    yield server
    server.stop()


def test_a_served_answer_is_grounded_and_verified_without_loading_torch(served):
    client = OpenAI(base_url=served.url + "/v1", api_key="unused")
    reply = client.chat.completions.create(model="openai/scripted",
                                           messages=[{"role": "user", "content": "How long do refunds take?"}])
    layers = reply.model_extra["guard"]["layers"]
    mapped = Path(f"/proc/{served.process.pid}/maps").read_text()

    assert layers["grounding"]["status"] == "ok" and layers["support"]["status"] == "ok"
    assert [library for library in TRAINING_LIBRARIES if library in mapped] == []
    assert "onnxruntime" in mapped  # the check above would pass on a server that never loaded a model


def test_a_missing_extra_names_the_install_command():
    with pytest.raises(MissingExtra, match=r"no_such_module_for_guard.*pip install 'guard-llm\[server\]'"):
        require("server", "no_such_module_for_guard", purpose="guard serve")
