"""Operational metrics in Prometheus form, for the people who run guard.

Each ``GuardMetrics`` owns its own ``CollectorRegistry``: two guards in one
process (or a test suite making hundreds) never collide in, or pollute, the
global registry. With several server workers, prometheus_client's multiprocess
mode sums them (see ``render``). Per request only counters and histograms move; the text
exposition is built only when something scrapes ``render()``.
Times are exported in seconds, as Prometheus conventions ask.
"""

from __future__ import annotations

import os
from functools import lru_cache

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from guard.store.models import RequestRecord

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_OVERHEAD_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class GuardMetrics:
    """Request counts, latencies, costs and failures of one guard, on a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self._requests = Counter("guard_requests", "Requests answered (or failed), by model and tier; "
                                 "error_class is empty for successful calls.",
                                 ["model", "tier", "error_class"], registry=r)
        self._tiers = Counter("guard_tier", "Verdicts by confidence tier.", ["tier"], registry=r)
        self._errors = Counter("guard_errors", "Failed calls by error class.", ["error_class"], registry=r)
        self._latency = Histogram("guard_request_latency_seconds", "End-to-end latency of a guarded call.",
                                  ["model"], buckets=_LATENCY_BUCKETS, registry=r)
        self._overhead = Histogram("guard_overhead_seconds", "Time guard itself added (total minus model time).",
                                   buckets=_OVERHEAD_BUCKETS, registry=r)
        self._ttft = Histogram("guard_time_to_first_token_seconds", "Time to the first streamed token.",
                               ["model"], buckets=_TTFT_BUCKETS, registry=r)
        self._tokens = Counter("guard_tokens", "Tokens used by answers, by direction.", ["model", "type"], registry=r)
        self._cost = Counter("guard_cost_usd", "Spend in USD: the answer, extra self-consistency samples, "
                             "and verification calls.", ["model", "kind"], registry=r)
        # One store behind every worker: the most recent count any worker read is the queue's depth.
        self._review_depth = Gauge("guard_review_queue_depth", "Review items waiting for a person.", registry=r,
                                   multiprocess_mode="mostrecent")
        self._store_failures = Counter("guard_store_write_failures", "Records the store could not write.",
                                       ["reason"], registry=r)
        # metric.labels(...) validates and locks on every call (~5 µs, five times per answer); its child for
        # given label values never changes, so each is looked up once. Per instance: no registry is shared.
        self._series = lru_cache(maxsize=4096)(lambda metric, *values: metric.labels(*values))

    def observe(self, record: RequestRecord) -> None:
        """Count one finished request; cheap enough to call on every answer."""
        model = record.model_served or record.model_requested or "unknown"
        tier = record.tier or "none"
        series = self._series
        series(self._requests, model, tier, record.error_class or "").inc()
        if record.error_class:
            series(self._errors, record.error_class).inc()
        if record.tier:
            series(self._tiers, record.tier).inc()
        if record.latency_total_ms is not None:
            series(self._latency, model).observe(record.latency_total_ms / 1000)
        if record.latency_guard_ms is not None:
            self._overhead.observe(max(record.latency_guard_ms, 0.0) / 1000)
        if record.ttft_ms is not None:
            series(self._ttft, model).observe(record.ttft_ms / 1000)
        if record.prompt_tokens:
            series(self._tokens, model, "input").inc(record.prompt_tokens)
        if record.completion_tokens:
            series(self._tokens, model, "output").inc(record.completion_tokens)
        for kind, usd in (("answer", record.cost_usd), ("samples", record.samples_cost_usd),
                          ("verification", record.verification_cost_usd)):
            if usd:
                series(self._cost, model, kind).inc(usd)

    def store_write_failed(self, n: int = 1, reason: str = "") -> None:
        """Count records the store failed to write; ``reason`` should be a short fixed word (it is a label)."""
        self._store_failures.labels(reason or "unknown").inc(n)

    def set_review_depth(self, pending: int) -> None:
        """Publish how many review items are pending."""
        self._review_depth.set(pending)

    def render(self) -> tuple[bytes, str]:
        """The exposition body and its content type, for ``GET /metrics``.

        Under ``guard serve --workers N`` (``PROMETHEUS_MULTIPROC_DIR`` set by the server for the run) every
        worker's counts are summed: a scrape reaches one worker but reports them all.
        """
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
