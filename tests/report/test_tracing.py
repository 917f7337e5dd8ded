"""OpenTelemetry spans with the GenAI conventions, built after the fact from a record."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from guard import tracing
from tests.report.records import request


@pytest.fixture
def exported():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def test_span_carries_gen_ai_attributes_and_the_records_times(exported):
    provider, exporter = exported
    record = request(0, "medium", review_id="rv_9", latency_total_ms=812.0)
    tracing.emit_span(record, provider)
    (span,) = exporter.get_finished_spans()
    assert span.name == "chat openai/gpt-4o-mini" and span.kind == SpanKind.CLIENT
    a = span.attributes
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "openai/gpt-4o-mini" and a["gen_ai.response.model"] == "gpt-4o-mini"
    assert a["gen_ai.usage.input_tokens"] == 100 and a["gen_ai.usage.output_tokens"] == 40
    assert a["guard.tier"] == "medium" and a["guard.confidence"] == 0.7 and a["guard.review.id"] == "rv_9"
    assert span.start_time == int(record.created_at.timestamp() * 1e9)
    assert span.end_time - span.start_time == 812_000_000


def test_failed_call_gives_an_error_span(exported):
    provider, exporter = exported
    tracing.emit_span(request(0, None, error_class="ModelCallError", error_message="upstream 500"), provider)
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "ModelCallError"
    assert "guard.tier" not in span.attributes


def test_the_host_apps_global_provider_is_used(exported, monkeypatch):
    provider, exporter = exported
    monkeypatch.setattr(tracing.trace, "get_tracer_provider", lambda: provider)
    tracing.emit_span(request(0))
    assert len(exporter.get_finished_spans()) == 1


def test_without_a_configured_provider_nothing_is_built(monkeypatch):
    proxy = trace.ProxyTracerProvider()
    monkeypatch.setattr(tracing.trace, "get_tracer_provider", lambda: proxy)
    monkeypatch.setattr(proxy, "get_tracer", lambda *a, **k: pytest.fail("no tracer should be asked for"))
    tracing.emit_span(request(0))
