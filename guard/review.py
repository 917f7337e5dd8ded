"""Routing low-confidence answers to a person, and what happens once they decide.

The queue itself lives in the store (``guard.store``), never in memory: under
``block`` the draft exists nowhere else. A reviewer's decision is kept as a
label (approved = faithful, rejected = hallucinated) for calibration, and for a
held answer it goes to the app through the store's outbox (``guard.webhook``) so the answer can be delivered.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from guard.config import GuardConfig, ReviewConfig
from guard.metadata import GuardMetadata, Tier
from guard.pii import Redactor
from guard.state import RequestState
from guard.store import Decision, ReviewItem, Store, utcnow
from guard.webhook import WebhookSender

HELD_MESSAGE = "This answer is being checked by a person before it is shared. You will get it once it is reviewed."


def needs_review(tier: Tier, refused: bool, config: ReviewConfig) -> bool:
    return config.enabled and (refused or tier in config.tiers)


def is_audit_sample(state: RequestState, config: ReviewConfig) -> bool:
    """Draw ``review.audit_fraction`` of the unflagged answers (support checked, no unsupported claim) for audit.

    Reviewers' decisions on flagged answers say how often a flag is right; only a random sample of the
    unflagged ones says how often guard misses, which the report's hallucination rate needs.
    """
    support = state.layers.get("support")
    return (config.enabled and config.audit_fraction > 0 and state.refusal is None and not state.unsupported
            and support is not None and support.status == "ok" and random.random() < config.audit_fraction)


def review_item(state: RequestState, meta: GuardMetadata, question: str | None, config: GuardConfig, *,
                routed: bool = True, audit: bool = False) -> ReviewItem:
    """The queue entry for one answer, with what a reviewer needs to judge it without opening the logs.

    An item queued only as an audit sample (``routed=False``) is never held: its policy is ``flag``.
    Its texts are verbatim: ``redact_review`` masks them, off the event loop, before the item is stored.
    """
    now = utcnow()
    expire_after = config.review.expire_after_s
    context: dict[str, Any] = {
        "signals": meta.signals,
        "layers": {name: report.model_dump(exclude_none=True) for name, report in meta.layers.items()},
        "citations": [c.model_dump(exclude_none=True) for c in meta.citations],
        "unsupported": [u.model_dump() for u in meta.unsupported],
        "sources": [{"id": s.id, "title": s.title, "text": s.text} for s in state.sources],
    }
    return ReviewItem(
        id="rv_" + uuid.uuid4().hex[:20], request_id=state.request_id, created_at=now,
        expires_at=None if expire_after is None else now + timedelta(seconds=expire_after),
        policy=(config.review.policy or "flag") if routed else "flag", tier=meta.tier, confidence=meta.confidence,
        model=meta.model, question=question, draft=state.answer, context=context, audit=audit, key_name=state.key_name,
    )


def redact_review(item: ReviewItem, redactor: Redactor) -> ReviewItem:
    """The item as it may be stored: question, draft and context (sources, claims) masked."""
    if not redactor.enabled:
        return item
    return item.model_copy(update={
        "question": None if item.question is None else redactor.redact(item.question),
        "draft": redactor.redact(item.draft),
        "context": redactor.redact_obj(item.context),
    })


def record_decision(store: Store, webhook: WebhookSender, review_id: str, decision: Decision, *, reviewer: str,
                    final_text: str | None = None, reason: str | None = None) -> ReviewItem:
    """Record a reviewer's decision (atomically: one of two racing reviewers wins) and tell the app about held ones.

    The store queues a held item's event in the decision's own transaction; the sender is only woken.
    """
    item = store.decide_review(review_id, decision, reviewer=reviewer, final_text=final_text, reason=reason)
    if item.policy == "block":
        webhook.notify()
    return item


def labels(store: Store) -> list[tuple[dict[str, Any], int]]:
    """Decided items as (context with signals, 1 = faithful / 0 = hallucinated) pairs for recalibration.

    Edited approvals are left out: an edit may fix a fact or only the tone, so it is no clean label.
    """
    return [(item.context, int(item.status == "approved"))
            for status in ("approved", "rejected") for item in store.list_reviews(status=status, limit=None)]
