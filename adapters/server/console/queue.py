"""What the queue page shows: the filters a reviewer picked, applied, and how each item is labelled.

Kept apart from the HTTP handlers so the rules (which ages, what counts as
"expiring soon") are plain functions over review items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from guard.store import ReviewItem

EXPIRING_SOON = timedelta(hours=1)
TIERS = ("high", "medium", "low")
POLICIES = ("block", "flag")
# value -> (label, predicate on the item's age)
AGES: dict[str, tuple[str, Any]] = {
    "lt1h": ("Waiting less than 1 hour", lambda age: age < timedelta(hours=1)),
    "gt1h": ("Waiting more than 1 hour", lambda age: age >= timedelta(hours=1)),
    "gt1d": ("Waiting more than 1 day", lambda age: age >= timedelta(days=1)),
}


@dataclass(frozen=True)
class Filters:
    """The queue's filters as the reviewer chose them; unknown values are ignored, never an error."""

    tier: str | None = None
    policy: str | None = None
    model: str | None = None
    age: str | None = None

    @classmethod
    def from_query(cls, query: Any) -> "Filters":
        tier, policy, age = query.get("tier"), query.get("policy"), query.get("age")
        model = (query.get("model") or "").strip()[:200]
        return cls(tier=tier if tier in TIERS else None, policy=policy if policy in POLICIES else None,
                   model=model or None, age=age if age in AGES else None)

    @property
    def active(self) -> bool:
        return any((self.tier, self.policy, self.model, self.age))

    def keep(self, item: ReviewItem, now: datetime) -> bool:
        return self.age is None or AGES[self.age][1](now - _utc(item.created_at))


def waited(item: ReviewItem, now: datetime) -> str:
    """How long the item has waited, in words a person reads at a glance."""
    return _span(now - _utc(item.created_at))


def expiry_note(item: ReviewItem, now: datetime) -> str | None:
    """'expires in 12 min' when the item expires within the hour, else None."""
    if item.expires_at is None:
        return None
    left = _utc(item.expires_at) - now
    if left > EXPIRING_SOON:
        return None
    return "expired" if left.total_seconds() <= 0 else f"expires in {_span(left)}"


def _span(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
