"""Tell the app when a person decided a held answer: a signed POST, retried, never in the caller's way.

Each event is sent by one background thread with its own queue and a sync httpx client,
so ``send`` returns at once from sync code and from the event loop alike.

The receiver checks ``x-guard-signature: sha256=<hex>``, the HMAC-SHA256 with the shared
secret of ``<x-guard-timestamp>.<raw body>``, and rejects old timestamps (``verify_signature``
does both), so a captured request cannot be replayed later. ``x-guard-delivery`` stays the
same across retries of one event: receivers deduplicate on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from typing import Any

import httpx
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_when_event_set,
    wait_random_exponential,
)

from guard.config import GuardConfig, ReviewConfig
from guard.logs import get_logger

log = get_logger()

SIGNATURE_HEADER = "x-guard-signature"
TIMESTAMP_HEADER = "x-guard-timestamp"
DELIVERY_HEADER = "x-guard-delivery"
_STOP = object()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, body: bytes, timestamp: str, signature: str, *,
                     tolerance_s: float = 300, now: float | None = None) -> bool:
    """True when ``signature`` is ours for this body and timestamp, and the timestamp is recent: for receivers."""
    try:
        age = abs((time.time() if now is None else now) - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


class _Retryable(Exception):
    """The endpoint answered with a status worth trying again (5xx, 429)."""


def _worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, (_Retryable, httpx.TransportError))


class WebhookSender:
    """POSTs review decisions to ``review.webhook_url``; a no-op when no URL is configured.

    Events queue in memory (at most ``queue_size``; past that, new ones are dropped with an
    error log) and are tried ``review.webhook_max_attempts`` times with exponential backoff
    on 5xx, 429, timeouts and connection errors; other 4xx give up at once.
    """

    def __init__(self, config: GuardConfig | ReviewConfig, *, timeout_s: float = 10.0,
                 backoff_initial_s: float = 0.5, backoff_max_s: float = 30.0, queue_size: int = 1000):
        review = config.review if isinstance(config, GuardConfig) else config
        self.url = review.webhook_url
        self._secret = review.webhook_secret.get_secret_value() if review.webhook_secret else ""
        self._max_attempts = review.webhook_max_attempts
        self._timeout_s = timeout_s
        self._wait = wait_random_exponential(multiplier=backoff_initial_s, max=backoff_max_s)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._abandon = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def send(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for delivery and return at once; it must be JSON-serialisable."""
        if not self.url:
            return
        body = json.dumps(event, default=str, separators=(",", ":")).encode()
        with self._lock:
            if self._closed:
                log.error("webhook_not_sent", reason="sender closed", event_type=event.get("type"))
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="guard-webhook", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait((uuid.uuid4().hex, body))
        except queue.Full:
            log.error("webhook_not_sent", reason="queue full", url=self.url)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within about ``timeout`` seconds; what is left is logged as not delivered.

        A POST already in flight then still gets up to its HTTP timeout to finish.
        """
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        self._queue.put(_STOP)
        thread.join(timeout)
        if thread.is_alive():
            self._abandon.set()
            thread.join(self._timeout_s + 1)

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout_s) as client:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                if self._abandon.is_set():
                    log.error("webhook_not_sent", reason="closed before delivery", delivery=item[0], url=self.url)
                    continue
                self._deliver(client, *item)

    def _deliver(self, client: httpx.Client, delivery: str, body: bytes) -> None:
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts) | stop_when_event_set(self._abandon),
            wait=self._wait,
            retry=retry_if_exception(_worth_retrying),
            sleep=self._abandon.wait,  # a close() that gives up cuts the backoff short
            reraise=True,
        )
        try:
            status = retrying(self._post, client, delivery, body)
        except Exception as exc:  # noqa: BLE001 - a worker thread must survive any failure
            log.error("webhook_failed", url=self.url, delivery=delivery,
                      attempts=retrying.statistics.get("attempt_number"), error=f"{type(exc).__name__}: {exc}")
            return
        if status >= 400:
            log.error("webhook_rejected", url=self.url, delivery=delivery, status=status)

    def _post(self, client: httpx.Client, delivery: str, body: bytes) -> int:
        timestamp = str(int(time.time()))
        response = client.post(self.url, content=body, headers={
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            DELIVERY_HEADER: delivery,
        })
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retryable(f"HTTP {response.status_code}")
        return response.status_code
