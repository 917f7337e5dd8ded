"""Clients close as openai's do; a script that forgets to close still exits cleanly (issue 24 item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from guard import AsyncClient, Client, Guard
from tests.core.conftest import make_config
from tests.support.fake_upstream import Reply

QUESTION = [{"role": "user", "content": "How long is the warranty?"}]
ROOT = Path(__file__).resolve().parents[2]


async def test_async_client_closes_with_await_close_and_as_an_async_context_manager(upstream, tmp_path):
    async with AsyncClient(make_config(telemetry={"database": str(tmp_path / "a.db")})) as client:
        reply = await client.chat.completions.create(model="openai/primary-model", messages=QUESTION)
    other = AsyncClient(make_config(telemetry={"database": str(tmp_path / "b.db")}))
    await other.close()
    await other.aclose()  # the earlier name stays, and closing twice is harmless

    assert client.guard.store.get_request(reply.guard.request_id) is not None  # closing wrote the record


def test_guard_takes_a_config_path_as_client_does(tmp_path):
    (tmp_path / "mine.yaml").write_text("product:\n  name: lamp-support\n")

    with Guard(str(tmp_path / "mine.yaml")) as guard, Client(tmp_path / "mine.yaml") as client:
        assert guard.config.product.name == client.guard.config.product.name == "lamp-support"


def test_client_keyword_overrides_are_validated_like_the_file():
    from guard import ConfigError

    with pytest.raises(ConfigError, match=r"product\.risk: Input should be"):
        Client(make_config(), product={"risk": "severe"})


def test_a_rejection_without_a_reason_is_refused_as_the_cli_refuses_it(tmp_path):
    with Guard(make_config(telemetry={"database": str(tmp_path / "g.db")})) as guard:
        with pytest.raises(ValueError, match="a rejection needs a reason"):
            guard.decide("rv_1", "rejected", reviewer="ana")  # refused before the store is asked


def test_a_script_that_never_closes_its_client_exits_without_tracebacks(upstream, tmp_path):
    upstream.script["primary-model"] = [Reply(text="Two years.")]
    script = textwrap.dedent(f"""
        from guard import Client
        client = Client(models={{"default": "openai/primary-model"}}, grounding={{"enabled": False}},
                        support={{"enabled": False}}, telemetry={{"database": {str(tmp_path / "g.db")!r}}})
        reply = client.chat.completions.create(model="openai/primary-model",
                                               messages=[{{"role": "user", "content": "warranty?"}}])
        print(reply.choices[0].message.content)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0 and done.stdout.strip() == "Two years."
    assert "Traceback" not in done.stderr and "Unclosed" not in done.stderr, done.stderr
