"""Durable state: request records, feedback and the review queue, on SQLite or PostgreSQL."""

from guard.store.models import Decision, FeedbackRecord, OutboxEvent, RequestRecord, ReviewItem, ReviewStatus
from guard.store.store import Store, open_store, utcnow

__all__ = ["Decision", "FeedbackRecord", "OutboxEvent", "RequestRecord", "ReviewItem", "ReviewStatus", "Store",
           "open_store", "utcnow"]
