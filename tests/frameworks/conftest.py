"""Frameworks against ``guard serve`` over a scripted upstream that calls tools and answers JSON schemas.

Each framework app (``apps/``) runs in the frameworks' own virtualenv, ``.venv-frameworks`` (made by
``.ci/frameworks-env``), so their pins never fight guard's; without it these tests skip. Two servers run for
the session, one at the default risk and one at ``product.risk: high``, over one knowledge base (a refund
policy) and the scripted upstream of ``honest_model``; each app runs once per server and reports every path.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.frameworks.honest_model import KB_DOCUMENT, respond
from tests.support.fake_upstream import FakeUpstream
from tests.support.serve import GuardServe

ROOT = Path(__file__).resolve().parents[2]
APPS = Path(__file__).parent / "apps"
VENV_PYTHON = Path(os.environ.get("FRAMEWORKS_VENV", ROOT / ".venv-frameworks")) / "bin" / "python"
RISKS = ("medium", "high")
START_TIMEOUT_S = 300  # guard serve warms its verifier before /readyz says ready: slow on a busy 2-core machine
APP_TIMEOUT_S = 300

if not VENV_PYTHON.exists():
    if os.environ.get("CI"):  # CI makes it (.ci/run): there a missing one is a failure, not a skip
        raise RuntimeError(f"the frameworks' own virtualenv is missing ({VENV_PYTHON.parent.parent}): "
                           "run .ci/frameworks-env")
    pytest.skip(f"the frameworks' own virtualenv is missing ({VENV_PYTHON.parent.parent}): run .ci/frameworks-env",
                allow_module_level=True)


@pytest.fixture(scope="session")
def honest_upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream(responder=respond)
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def knowledge_base(tmp_path_factory) -> Path:
    from guard.config import KnowledgeBaseConfig
    from guard.kb import KnowledgeBase

    folder = tmp_path_factory.mktemp("frameworks-kb")
    (folder / "docs").mkdir()
    (folder / "docs" / "refunds.md").write_text(KB_DOCUMENT)
    KnowledgeBase.open(KnowledgeBaseConfig(path=folder / "kb")).add([folder / "docs" / "refunds.md"])
    return folder / "kb"


def guard_server(risk: str, upstream: FakeUpstream, kb: Path, folder: Path) -> GuardServe:
    """``guard serve`` in its own process, at one risk level, until the session ends (started, not yet ready)."""
    config = folder / f"guard-{risk}.yaml"
    # High risk's shipped operating point flags most answers on hard text (README, "Measured"), the honest
    # model's tool answers included; these tests are about the paths working, so its threshold is pinned.
    pinned = {"support": {"threshold": 0.3}} if risk == "high" else {}
    config.write_text(yaml.safe_dump({
        **pinned,
        "product": {"name": f"frameworks-{risk}", "risk": risk},
        "models": {"default": "openai/gpt-4o-mini", "max_attempts": 1, "timeout_s": 30},
        "knowledge_base": {"path": str(kb)},
        "telemetry": {"database": str(folder / f"guard-{risk}.db")},
    }))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
    env.update(OPENAI_BASE_URL=upstream.base_url, OPENAI_API_BASE=upstream.base_url,
               OPENAI_API_KEY="sk-upstream-test", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               LITELLM_LOCAL_MODEL_COST_MAP="True", TOKENIZERS_PARALLELISM="false")
    return GuardServe(config, env=env)


@pytest.fixture(scope="session")
def guard_servers(honest_upstream, knowledge_base, tmp_path_factory) -> Iterator[dict[str, GuardServe]]:
    folder = tmp_path_factory.mktemp("frameworks-guard")
    servers: dict[str, GuardServe] = {}
    try:
        for risk in RISKS:  # all start at once: each imports for seconds
            servers[risk] = guard_server(risk, honest_upstream, knowledge_base, folder)
        for server in servers.values():
            server.ready(START_TIMEOUT_S)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="session")
def app_results(guard_servers) -> Any:
    """``app_results(framework, risk)``: what that app reported for each path, run once and kept."""
    cache: dict[tuple[str, str], dict[str, Any]] = {}

    def results(framework: str, risk: str) -> dict[str, Any]:
        if (framework, risk) not in cache:
            cache[framework, risk] = run_app(framework, guard_servers[risk].url)
        return cache[framework, risk]

    return results


def run_app(framework: str, url: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUARD_", "OPENAI_"))}
    env.update(OPENAI_API_KEY="sk-app-frameworks", PYTHONPATH=str(APPS), LITELLM_LOCAL_MODEL_COST_MAP="True",
               OPENAI_AGENTS_DISABLE_TRACING="1")
    done = subprocess.run([str(VENV_PYTHON), str(APPS / f"{framework}.py"), url], env=env, cwd=APPS,
                          capture_output=True, text=True, timeout=APP_TIMEOUT_S)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{framework} app failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


