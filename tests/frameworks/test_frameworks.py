"""Every framework's plain, streamed, tool-loop and structured-output path works through guard, at the default
risk and at high risk, and the app can read guard's verdict on the answer it got.

The upstream (``honest_model``) always tells the truth of its sources, so every answer here is one guard
should pass: at high risk too, nothing may be refused or held, and the answer the framework returns is the
model's, not a holding message.
"""

from __future__ import annotations

import pytest

from tests.frameworks.conftest import RISKS

FRAMEWORKS = ["openai_sdk", "langchain_app", "llamaindex_app", "instructor_app", "pydantic_ai_app",
              "openai_agents_app", "litellm_app"]
PATHS = ["plain", "stream", "tools", "structured"]
EXPECTED = {"plain": "5 business days", "stream": "5 business days", "tools": "LL-1234", "structured": "5"}


@pytest.fixture(params=RISKS)
def risk(request) -> str:
    return request.param


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("path", PATHS)
def test_the_path_works_and_its_verdict_is_readable(app_results, framework, path, risk):
    result = app_results(framework, risk).get(path)
    if result is None:
        pytest.skip(f"{framework} has no {path} path")

    assert result["error"] is None, result.get("trace") or result["error"]
    assert EXPECTED[path] in str(result["answer"])
    verdict = result["verdict"]
    assert verdict is not None, f"{framework} {path}: no verdict collected"
    assert verdict["tier"] in ("high", "medium", "low")
    assert verdict["review"]["held"] is False
