"""Tell the app how a held answer ended: a signed POST per event from the store's outbox, retried, never lost.

A decision or an expiry on a held (``block``) item writes its event to the store's outbox in
the same transaction (``guard.store``), so an event exists exactly when the decision does,
whatever happens to the process afterwards. ``WebhookSender`` drains that outbox from one
background thread: each event is leased to one sender at a time (several workers on one
PostgreSQL skip each other's rows), POSTed, and marked delivered; a failure is tried again
later with exponential backoff, up to ``review.webhook_max_attempts``; a 4xx other than 429
gives up at once. What is not delivered when the process stops waits in the outbox for the
next sender. The same thread moves items past their time to ``expired``, so an ``expired``
event goes out even when nobody looks at the queue.

The receiver checks ``x-guard-signature: sha256=<hex>``, the HMAC-SHA256 with the shared
secret of ``<x-guard-timestamp>.<raw body>``, and rejects old timestamps (``verify_signature``
does both), so a captured request cannot be replayed later. ``x-guard-delivery`` stays the
same across retries of one event: receivers deduplicate on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from datetime import timedelta

import httpx

from guard.config import GuardConfig, ReviewConfig
from guard.errors import StoreUnavailable
from guard.logs import get_logger
from guard.store import OutboxEvent, Store, utcnow

log = get_logger()

SIGNATURE_HEADER = "x-guard-signature"
TIMESTAMP_HEADER = "x-guard-timestamp"
DELIVERY_HEADER = "x-guard-delivery"


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


class WebhookSender:
    """Delivers the store's outbox to ``review.webhook_url``; with no URL configured it does nothing.

    The thread starts with the sender and wakes on ``notify`` (a decision here) or every
    ``poll_s`` (decisions by other workers, retries that came due, items that expired).
    """

    def __init__(self, config: GuardConfig | ReviewConfig, store: Store, *, timeout_s: float = 10.0,
                 backoff_initial_s: float = 1.0, backoff_max_s: float = 300.0, poll_s: float = 1.0):
        review = config.review if isinstance(config, GuardConfig) else config
        self.url = review.webhook_url
        self._store = store
        self._secret = review.webhook_secret.get_secret_value() if review.webhook_secret else ""
        self._max_attempts = review.webhook_max_attempts
        self._timeout_s = timeout_s
        self._lease_s = 2 * timeout_s + 5  # longer than one POST can take: then another sender may try it
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._poll_s = poll_s
        self._wake = threading.Event()
        self._closing = threading.Event()  # deliver what is due, then stop
        self._abandon = threading.Event()  # stop after the POST in flight
        self._thread: threading.Thread | None = None
        if self.url:
            self._thread = threading.Thread(target=self._run, name="guard-webhook", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        """An event was just queued: send it now rather than at the next poll."""
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is due within about ``timeout`` seconds; the rest stays in the outbox for the next sender.

        A POST already in flight then still gets up to its HTTP timeout to finish.
        """
        if self._thread is None:
            return
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abandon.set()
            self._thread.join(self._timeout_s + 1)

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout_s) as client:
            while not self._abandon.is_set():
                self._wake.clear()
                try:
                    self._store.expire_reviews()
                    sent = self._deliver_due(client)
                except StoreUnavailable as exc:  # the outbox waits in the database; so does this thread
                    log.warning("webhook_outbox_unavailable", error=str(exc))
                    sent = 0
                except Exception as exc:  # noqa: BLE001 - the thread must outlive any one failure
                    log.error("webhook_outbox_failed", error=f"{type(exc).__name__}: {exc}")
                    sent = 0
                if self._closing.is_set() and not sent:
                    return
                if not sent:
                    self._wake.wait(self._poll_s)

    def _deliver_due(self, client: httpx.Client) -> int:
        """Send every event due now, one claim at a time; how many were tried."""
        tried = 0
        while not self._abandon.is_set():
            event = self._store.claim_event(self._lease_s)
            if event is None:
                break
            tried += 1
            self._deliver(client, event)
        return tried

    def _deliver(self, client: httpx.Client, event: OutboxEvent) -> None:
        try:
            status = self._post(client, event)
        except httpx.TransportError as exc:
            self._failed(event, f"{type(exc).__name__}: {exc}", retry=True)
            return
        if status < 300:
            self._store.event_delivered(event.id)
        else:
            self._failed(event, f"HTTP {status}", retry=status >= 500 or status == 429)

    def _failed(self, event: OutboxEvent, error: str, *, retry: bool) -> None:
        if retry and event.attempts < self._max_attempts:
            delay = min(self._backoff[1], self._backoff[0] * 2 ** (event.attempts - 1)) * random.uniform(0.5, 1.0)
            self._store.event_failed(event.id, error, utcnow() + timedelta(seconds=delay))
            log.warning("webhook_retry", url=self.url, delivery=event.delivery, attempts=event.attempts,
                        retry_in_s=round(delay, 3), error=error)
            return
        self._store.event_failed(event.id, error, None)
        log.error("webhook_failed", url=self.url, delivery=event.delivery, attempts=event.attempts, error=error,
                  review_id=event.review_id)

    def _post(self, client: httpx.Client, event: OutboxEvent) -> int:
        body = json.dumps(event.payload, default=str, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        response = client.post(self.url, content=body, headers={
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            DELIVERY_HEADER: event.delivery,
        })
        return response.status_code
