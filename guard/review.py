"""Routing low-confidence answers to a person, and what happens once they decide.

The queue itself lives in the store (``guard.store``), never in memory: under
``block`` the draft exists nowhere else. A reviewer's decision is kept as a
label (approved = faithful, rejected = hallucinated) for calibration, and for a
held answer it goes to the app through the store's outbox (``guard.webhook``) so the answer can be delivered.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from guard.config import GuardConfig, ReviewConfig
from guard.messages import offers_tools
from guard.metadata import GuardMetadata, Tier
from guard.pii import Redactor
from guard.state import RequestState
from guard.store import Decision, ReviewItem, Store, utcnow
from guard.webhook import WebhookSender

# Who is asking, when the face knows: the proxy sets the digest of the request's key. Part of a conversation's
# digest, so one app's repeat never joins another app's review item.
caller: ContextVar[str | None] = ContextVar("guard_caller", default=None)
# The word a reviewer picks (the route's or the form's action) and the decision it records.
DECISIONS: dict[str, Decision] = {"approve": "approved", "edit": "edited", "reject": "rejected"}

HELD_MESSAGE = "This answer is being checked by a person before it is shared. You will get it once it is reviewed."


def withheld_choice(text: str, params: dict[str, Any], *, finish_reason: str) -> dict[str, Any]:
    """The choice that stands in for an answer guard does not give: held for review, or refused for want of a source.

    To a request with ``tools`` or ``response_format`` it is a refusal (``message.refusal`` set, ``content`` null,
    ``finish_reason: stop``), the shape structured-output parsers and agent loops read without raising (openai's
    ``parse()`` raises on ``content_filter``, framework parsers on prose). Plain chat gets the text as content.
    """
    if params.get("response_format") or offers_tools(params):
        return {"message": {"role": "assistant", "content": None, "refusal": text}, "finish_reason": "stop"}
    return {"message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}


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


def conversation_digest(state: RequestState) -> str:
    """Who asked, and the messages they sent: equal for a framework's retry of the same call."""
    data = json.dumps([caller.get(), state.messages], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


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
        conversation=conversation_digest(state),
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
                    final_text: str | None = None, reason: str | None = None,
                    redactor: Redactor | None = None) -> ReviewItem:
    """Record a reviewer's decision (atomically: one of two racing reviewers wins) and tell the app about held ones.

    The store queues a held item's event in the decision's own transaction; the sender is only woken.
    With a ``redactor`` the edit and the reason are stored masked; an edit's text as written is kept apart
    for the user of a held answer, who gets it as the reviewer wrote it.
    """
    deliverable = None
    if redactor is not None:
        masked = None if final_text is None else redactor.redact(final_text)
        deliverable = final_text if masked != final_text else None
        final_text, reason = masked, None if reason is None else redactor.redact(reason)
    item = store.decide_review(review_id, decision, reviewer=reviewer, final_text=final_text, reason=reason,
                               deliverable=deliverable)
    if item.policy == "block":
        webhook.notify()
    return item


def labels(store: Store) -> list[tuple[dict[str, Any], int]]:
    """Decided items as (context with signals, 1 = faithful / 0 = hallucinated) pairs for recalibration.

    Edited approvals are left out: an edit may fix a fact or only the tone, so it is no clean label.
    """
    return [(item.context, int(item.status == "approved"))
            for status in ("approved", "rejected") for item in store.list_reviews(status=status, limit=None)]
