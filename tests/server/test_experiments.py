"""Experiments end to end: two proxies on one store, 30 users, sticky variants, feedback, and the report's verdict."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from guard import GuardConfig
from guard.adapters.server.overrides import Variants
from guard.config import ExperimentVariant
from guard.experiments import definitions
from guard.experiments.assign import pick_variant
from guard.experiments.report import build_experiment_report
from tests.support.fake_upstream import Reply

CONCISE = "Answer in at most two sentences, citing sources as [n]."
EXPERIMENT = {
    "name": "concise-prompt",
    "variants": [{"name": "control", "weight": 1},
                 {"name": "concise", "weight": 1, "system_prompt": "concise-v2",
                  "models": {"default": "openai/fake-model-b"}}],
    "assign_by": "user",
    "primary_metric": "edit_rate",
    "guardrails": {"hallucination_rate": "+0.02", "latency_p95_ms": "+20%"},
}
USERS = [f"u{i:02d}" for i in range(30)]
LONG = "The warranty lasts two years from delivery and covers defects in materials and workmanship."
SHORT = "Two years from delivery [1]."


@pytest.fixture
def two_workers(start_proxy, upstream):
    """Two proxies (two Guard apps) sharing one store, with the experiment in their config."""
    upstream.script["fake-model"] = [Reply(text=LONG)]
    upstream.script["fake-model-b"] = [Reply(text=SHORT)]
    sections: dict[str, Any] = {"experiments": [EXPERIMENT], "prompts": {"concise-v2": CONCISE},
                                "server": {"warm_up": False, "experiments_refresh_s": 0.2}}
    return start_proxy(**sections), start_proxy(**sections)


_clients: dict[int, Any] = {}


def _client(proxy):
    """One SDK client per proxy (a new one per call would cost more than the request)."""
    if id(proxy) not in _clients:
        _clients[id(proxy)] = proxy.client()
    return _clients[id(proxy)]


@pytest.fixture(autouse=True)
def _fresh_clients():
    yield
    for client in _clients.values():
        client.close()
    _clients.clear()


def _ask(proxy, user: str, by_header: bool) -> tuple[str, str, str]:
    """One question as ``user``; returns (variant header, request id, answer)."""
    extra = {"extra_headers": {"x-guard-user": user}} if by_header else {"user": user}
    raw = _client(proxy).chat.completions.with_raw_response.create(
        model="openai/fake-model", messages=[{"role": "system", "content": "Be helpful."},
                                             {"role": "user", "content": "How long is the warranty?"}], **extra)
    reply = raw.parse()
    guard = reply.model_extra["guard"]
    assert guard["experiment"] == {"name": "concise-prompt", "variant": raw.headers["x-guard-variant"]}
    assert raw.headers["x-guard-experiment"] == "concise-prompt"
    return raw.headers["x-guard-variant"], guard["request_id"], reply.choices[0].message.content


def _traffic(workers, per_user: int = 8) -> dict[str, list[tuple[str, str, str]]]:
    """Every user asks ``per_user`` times, alternating between the two workers."""
    seen: dict[str, list[tuple[str, str, str]]] = {}
    for n, user in enumerate(USERS):
        seen[user] = [_ask(workers[i % 2], user, by_header=n % 2 == 0) for i in range(per_user)]
    return seen


def _feedback(proxy, traffic, edits: dict[str, Any]) -> None:
    """Each answer's user sends what they really used: edited when ``edits[variant](i)`` says so."""
    for answers in traffic.values():
        for i, (variant, request_id, answer) in enumerate(answers):
            final = "Let me check and get back to you about that tomorrow." if edits[variant](i) else answer
            _client(proxy).post("/feedback", cast_to=object, body={"request_id": request_id, "final_text": final})


def _report(proxy):
    proxy.guard.writer.flush(timeout=10)
    now = datetime.now(timezone.utc)
    return build_experiment_report(proxy.guard.store, "concise-prompt", since=now - timedelta(hours=1), until=now)


def test_each_user_keeps_one_variant_on_both_workers_and_the_variant_changes_prompt_and_model(two_workers, upstream):
    traffic = _traffic(two_workers, per_user=4)

    for user, answers in traffic.items():
        assert len({variant for variant, _, _ in answers}) == 1, user
    by_variant = {v: [u for u, a in traffic.items() if a[0][0] == v] for v in ("control", "concise")}
    assert by_variant["control"] and by_variant["concise"]
    for answers in traffic.values():
        variant, _, answer = answers[0]
        assert answer == (SHORT if variant == "concise" else LONG)
    concise_calls = [r for r in upstream.requests if r.get("model") == "fake-model-b"]
    assert concise_calls and all(r["messages"][0] == {"role": "system", "content": CONCISE} for r in concise_calls)
    control_calls = [r for r in upstream.requests if r.get("model") == "fake-model"]
    assert all(r["messages"][0] == {"role": "system", "content": "Be helpful."} for r in control_calls)


def test_a_clear_edit_rate_difference_ships_the_variant_users_edit_less(two_workers):
    traffic = _traffic(two_workers)
    _feedback(two_workers[0], traffic, {"control": lambda i: i % 4 != 0, "concise": lambda i: i == 0})

    report = _report(two_workers[1])

    assert report.verdict == "ship concise"
    control, concise = report.variants["control"], report.variants["concise"]
    assert control.requests + concise.requests == 30 * 8
    assert control.users + concise.users == 30
    assert concise.metrics["edit_rate"].value < control.metrics["edit_rate"].value
    low, high = concise.difference["edit_rate"].ci95
    assert low < concise.difference["edit_rate"].value < high < 0


def test_a_difference_that_is_noise_is_inconclusive_and_says_what_would_settle_it(two_workers):
    traffic = _traffic(two_workers)
    _feedback(two_workers[0], traffic, {"control": lambda i: i % 3 == 0, "concise": lambda i: i % 3 == 1})

    report = _report(two_workers[0])

    assert report.verdict == "inconclusive"
    low, high = report.variants["concise"].difference["edit_rate"].ci95
    assert low < 0 < high
    assert "more requests" in report.reason or "in sight" in report.reason


def test_ending_an_experiment_sends_everyone_on_every_worker_to_the_shipped_variant(two_workers):
    first, second = two_workers
    control_users = [u for u in USERS if _ask(first, u, by_header=False)[0] == "control"]
    assert control_users

    definitions.end(first.guard.store, "concise-prompt", "concise")

    for worker in two_workers:
        deadline = time.monotonic() + 15  # workers re-read the definitions every 0.2 s here
        while _ask(worker, control_users[0], by_header=False)[0] != "concise":
            assert time.monotonic() < deadline, "a worker never picked up the end of the experiment"
            time.sleep(0.1)
    assert {_ask(w, u, by_header=False)[0] for w in two_workers for u in control_users} == {"concise"}


def test_a_paused_experiment_serves_everyone_the_config_unmarked(two_workers):
    first, second = two_workers
    _ask(first, "u01", by_header=False)  # the worker has loaded the definitions
    definitions.pause(first.guard.store, "concise-prompt")

    deadline = time.monotonic() + 15
    while True:
        raw = _client(second).chat.completions.with_raw_response.create(
            model="openai/fake-model", user="u01", messages=[{"role": "user", "content": "Hi"}])
        if "x-guard-experiment" not in raw.headers:
            break
        assert time.monotonic() < deadline, "the pause never reached the second worker"
        time.sleep(0.1)
    assert raw.parse().model_extra["guard"]["experiment"] is None


def test_a_stream_carries_the_variant_in_its_headers_and_its_verdict_chunk(two_workers):
    with _client(two_workers[0]).chat.completions.with_streaming_response.create(
            model="openai/fake-model", user="u03", stream=True,
            messages=[{"role": "user", "content": "How long is the warranty?"}]) as response:
        variant = response.headers["x-guard-variant"]
        chunks = list(response.parse())
    assert response.headers["x-guard-experiment"] == "concise-prompt"
    assert chunks[-1].model_extra["guard"]["experiment"] == {"name": "concise-prompt", "variant": variant}


def test_a_variant_with_a_risk_level_gets_what_that_risk_level_turns_on(proxy):
    served = proxy.guard
    variant = Variants(served, served.config).for_request(None, ExperimentVariant(name="strict", risk="high"))
    assert (variant.config.review.policy, variant.config.streaming.mode) == ("block", "buffer")
    assert variant.config.citations.required is True
    assert variant.store is served.store and variant.writer is served.writer  # one store, one record writer


def test_a_stored_variant_this_worker_cannot_serve_gets_the_config_unmarked_not_an_error(proxy, tmp_path):
    elsewhere = GuardConfig(server={"knowledge_bases": {"faq": str(tmp_path)}}, experiments=[
        {"name": "faq-kb", "variants": [{"name": "control"}, {"name": "faq", "knowledge_base": "faq"}]}])
    definitions.seed(proxy.guard.store, elsewhere)  # another worker's config: this one has no "faq" knowledge base
    user = next(u for u in USERS if pick_variant(elsewhere.experiments[0], u).name == "faq")

    raw = _client(proxy).chat.completions.with_raw_response.create(
        model="openai/fake-model", user=user, messages=[{"role": "user", "content": "Hi"}])

    assert raw.status_code == 200 and "x-guard-variant" not in raw.headers
    assert raw.parse().model_extra["guard"]["experiment"] is None
