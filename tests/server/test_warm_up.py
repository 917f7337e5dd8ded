"""The start-up warm-up: /readyz waits for it, a failure in it costs nothing but speed, and it never calls a model."""

from __future__ import annotations

import logging
import threading
import time

import httpx

from guard import Guard
from guard.kb import KnowledgeBase
from guard.layers import grounding
from guard.layers.verifying import VerifyingLayer
from guard.verify.offline import OfflineVerifier
from tests.server.conftest import MODEL, server_config

QUESTION = [{"role": "user", "content": "What is the refund window?"}]


def _ready_after_warm_up(url: str, timeout: float = 10) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        ready = httpx.get(url + "/readyz")
        if ready.json()["checks"]["models"] != "warming up" or time.monotonic() > deadline:
            return ready
        time.sleep(0.02)


def test_readyz_is_503_while_the_models_warm_up_and_200_after(start_proxy):
    entered, release = threading.Event(), threading.Event()

    def slow_warm_up() -> None:
        entered.set()
        release.wait(10)

    proxy = start_proxy(warm_up=slow_warm_up)
    try:
        assert entered.wait(5)
        warming = httpx.get(proxy.url + "/readyz")
        assert warming.status_code == 503
        assert warming.json()["reason"] == "warming up models" and warming.json()["checks"]["models"] == "warming up"
        assert httpx.get(proxy.url + "/healthz").status_code == 200  # alive throughout
        reply = proxy.client().chat.completions.create(model=MODEL, messages=QUESTION)  # and already serving
        assert reply.choices[0].message.content == "Hello."
    finally:
        release.set()

    ready = _ready_after_warm_up(proxy.url)
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["checks"]["models"] == "ok"


def test_a_failed_warm_up_is_logged_and_the_server_is_ready_and_serves(start_proxy, caplog):
    def broken_warm_up() -> None:
        raise RuntimeError("no model file here")

    with caplog.at_level(logging.ERROR, logger="guard"):
        proxy = start_proxy(warm_up=broken_warm_up)
        ready = _ready_after_warm_up(proxy.url)

    assert ready.status_code == 200 and ready.json()["checks"]["models"].startswith("failed (RuntimeError)")
    assert proxy.client().chat.completions.create(model=MODEL, messages=QUESTION).choices[0].message.content == "Hello."
    logged = [r.getMessage() for r in caplog.records if r.name == "guard"]
    assert any("warm_up_failed" in m and "no model file here" in m for m in logged)


def test_with_warm_up_on_the_app_warms_the_guard_it_serves(start_proxy, monkeypatch):
    warmed = threading.Event()
    monkeypatch.setattr(Guard, "warm_up", lambda self: warmed.set() or {})

    proxy = start_proxy(server={"warm_up": True})

    assert warmed.wait(5)
    assert _ready_after_warm_up(proxy.url).json()["checks"]["models"] == "ok"


def test_warm_up_loads_the_enabled_layers_models_without_calling_a_model(upstream, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "refunds.md").write_text("# Refunds\n\nRefunds are paid within 5 business days.\n")
    config = server_config(grounding={"enabled": True}, support={"enabled": True, "verifier": "offline"},
                           citations={"enabled": True}, knowledge_base={"path": str(tmp_path / "kb")})
    KnowledgeBase.open(config.knowledge_base).add([tmp_path / "docs"])
    guard = Guard(config)

    report = guard.warm_up()

    assert {name: r.status for name, r in report.items()} == {
        "grounding": "ok", "consistency": "skipped", "support": "ok", "citations": "ok"}
    opened = [kb for (path, _), kb in grounding._shared.items() if path == str((tmp_path / "kb").resolve())]
    assert opened and not opened[0].empty  # the index is in memory
    [support] = [layer for layer in guard.layers if layer.name == "support"]
    assert isinstance(support, VerifyingLayer) and isinstance(support.verifier, OfflineVerifier)
    assert "encoder" in vars(support.verifier)  # its MiniLM encoder is built (cached_property)
    assert upstream.requests == []


def test_warm_up_builds_an_llm_judge_but_never_calls_it(upstream):
    guard = Guard(server_config(support={"enabled": True, "verifier": "llm_judge", "judge_model": MODEL}))

    report = guard.warm_up()

    assert report["support"].status == "ok" and upstream.requests == []


def test_building_a_guard_warms_nothing(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(VerifyingLayer, "warm_up", lambda self: calls.append(self.name))

    Guard(server_config(support={"enabled": True}, citations={"enabled": True}))

    assert calls == []
