"""OpenTelemetry spans for guarded calls, in the GenAI semantic conventions (``gen_ai.*``).

guard never configures OpenTelemetry: the host app does (its TracerProvider,
its exporter). Until it has, ``emit_span`` returns after one look-up. Once it
has, each finished request becomes one CLIENT span built after the fact from
the record's own times, so tracing adds nothing to the request's critical path
and needs no context managers threaded through the pipeline. The span is
parented to whatever span is current where the record is finished (for
example the proxy's HTTP server span).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

import litellm
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from guard.store.models import RequestRecord

_SCOPE = "guard"

# litellm provider ids → the well-known ``gen_ai.provider.name`` values; others pass through as they are.
_PROVIDER_NAMES = {
    "anthropic": "anthropic", "azure": "azure.ai.openai", "azure_ai": "azure.ai.inference",
    "bedrock": "aws.bedrock", "cohere": "cohere", "deepseek": "deepseek", "gemini": "gcp.gemini",
    "groq": "groq", "mistral": "mistral_ai", "openai": "openai", "perplexity": "perplexity",
    "vertex_ai": "gcp.vertex_ai", "watsonx": "ibm.watsonx.ai", "xai": "x_ai",
}


def emit_span(record: RequestRecord, provider: trace.TracerProvider | None = None) -> None:
    """Emit one ``chat`` span for ``record`` when a tracer provider is configured; otherwise do nothing.

    ``provider`` defaults to the process-wide one the host app set.
    """
    provider = provider or trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return
    model = record.model_requested or record.model_served or "unknown"
    start = record.created_at
    end = start + timedelta(milliseconds=record.latency_total_ms or 0.0)
    tracer = provider.get_tracer(_SCOPE)
    span = tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, start_time=_ns(start),
                             attributes=_attributes(record, model))
    if record.error_class:
        span.set_status(Status(StatusCode.ERROR, record.error_message or record.error_class))
    span.end(end_time=_ns(end))


def _attributes(record: RequestRecord, model: str) -> dict[str, str | int | float | bool]:
    attrs: dict[str, str | int | float | bool | None] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider_name(model),
        "gen_ai.request.model": model,
        "gen_ai.response.model": record.model_served,
        "gen_ai.usage.input_tokens": record.prompt_tokens,
        "gen_ai.usage.output_tokens": record.completion_tokens,
        "error.type": record.error_class,
        "guard.request.id": record.request_id,
        "guard.product": record.product,
        "guard.tier": record.tier,
        "guard.confidence": record.confidence,
        "guard.review.id": record.review_id,
        "guard.review.policy": record.review_policy,
        "guard.streamed": record.streamed,
        "guard.latency.guard_ms": record.latency_guard_ms,
        "guard.ttft_ms": record.ttft_ms,
        "guard.cost_usd": record.cost_usd,
    }
    return {k: v for k, v in attrs.items() if v is not None}  # OpenTelemetry rejects None values


@lru_cache(maxsize=256)
def provider_name(model: str) -> str:
    """The ``gen_ai.provider.name`` for a litellm model string, e.g. ``anthropic/claude-3`` → ``anthropic``."""
    prefix, sep, _ = model.partition("/")
    if sep:
        return _PROVIDER_NAMES.get(prefix, prefix)
    try:
        _, litellm_provider, _, _ = litellm.get_llm_provider(model)
    except Exception:  # noqa: BLE001 - an unknown model name is not an error worth failing a span for
        return "unknown"
    return _PROVIDER_NAMES.get(litellm_provider, litellm_provider)


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)
