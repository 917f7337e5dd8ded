"""Prometheus metrics: counters after observe, one registry per instance."""

from __future__ import annotations

from guard.metrics import GuardMetrics
from tests.report.records import request


def text(metrics: GuardMetrics) -> str:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return body.decode()


def test_observe_counts_requests_by_model_and_tier_with_latency_and_cost():
    metrics = GuardMetrics()
    metrics.observe(request(0, "high", samples_cost_usd=0.002, verification_cost_usd=0.0005))
    metrics.observe(request(1, "low", ttft_ms=120.0))
    out = text(metrics)
    assert 'guard_requests_total{error_class="",model="gpt-4o-mini",tier="high"} 1.0' in out
    assert 'guard_tier_total{tier="low"} 1.0' in out
    assert 'guard_request_latency_seconds_count{model="gpt-4o-mini"} 2.0' in out
    assert "guard_overhead_seconds_count 2.0" in out
    assert 'guard_time_to_first_token_seconds_count{model="gpt-4o-mini"} 1.0' in out
    assert 'guard_cost_usd_total{kind="samples",model="gpt-4o-mini"} 0.002' in out
    assert 'guard_cost_usd_total{kind="verification",model="gpt-4o-mini"} 0.0005' in out
    assert 'guard_tokens_total{model="gpt-4o-mini",type="input"} 200.0' in out


def test_failed_calls_are_counted_by_error_class():
    metrics = GuardMetrics()
    metrics.observe(request(0, None, error_class="ModelCallError", model_served=None))
    out = text(metrics)
    assert 'guard_errors_total{error_class="ModelCallError"} 1.0' in out
    assert 'guard_requests_total{error_class="ModelCallError",model="openai/gpt-4o-mini",tier="none"} 1.0' in out


def test_store_failures_and_review_depth_are_published():
    metrics = GuardMetrics()
    metrics.store_write_failed(3, reason="locked")
    metrics.set_review_depth(7)
    out = text(metrics)
    assert 'guard_store_write_failures_total{reason="locked"} 3.0' in out
    assert "guard_review_queue_depth 7.0" in out


def test_each_instance_has_its_own_registry():
    first, second = GuardMetrics(), GuardMetrics()
    first.observe(request(0))
    assert "guard_requests_total{" not in text(second)
