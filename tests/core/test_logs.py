"""One structured event per request, and never a secret in it."""

from __future__ import annotations

import json

from guard import Guard
from guard.logs import configure_logging
from tests.core.conftest import make_config

SECRET = "sk-live-abcdef0123456789"


async def test_one_json_event_per_request_with_id_model_tier_and_latency(upstream, capsys):
    guard = Guard(make_config(logging={"format": "json"}))
    configure_logging(guard.config.logging)  # the library logs nowhere until its host (or `guard serve`) says so

    reply = await guard.acomplete([{"role": "user", "content": "hi"}], api_key=SECRET)

    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    done = [e for e in events if e.get("event") == "guarded_completion"]
    assert len(done) == 1
    assert done[0]["request_id"] == reply.guard.request_id
    assert done[0]["model"] and done[0]["tier"] and done[0]["latency_ms"] > 0


async def test_api_keys_never_reach_the_logs(upstream, capsys):
    guard = Guard(make_config(logging={"format": "json", "level": "debug"}))
    configure_logging(guard.config.logging)
    await guard.acomplete([{"role": "user", "content": "hi"}], api_key=SECRET)

    captured = capsys.readouterr()
    assert SECRET not in captured.err and SECRET not in captured.out


def test_secret_fields_are_masked_in_events_even_nested(capsys):
    """An event that carries a call's parameters or headers (as a debugging log line would) shows no secret."""
    guard = Guard(make_config(logging={"format": "json", "level": "debug"}))
    configure_logging(guard.config.logging)

    guard.log.warning("upstream_call", api_key=SECRET, params={"model": "m", "api_key": SECRET,
                                                               "extra_headers": {"Authorization": f"Bearer {SECRET}"}})

    err = capsys.readouterr().err
    event = json.loads(next(line for line in err.splitlines() if "upstream_call" in line))
    assert SECRET not in err
    assert event["api_key"] == "[redacted]" and event["params"]["model"] == "m"
