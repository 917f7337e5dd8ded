"""Per-key limits: requests per minute and USD per day (``server.keys``), refused with OpenAI's 429s.

Requests per minute are a moving window in this process's memory (``limits``):
each worker counts on its own. Spend per day is read from the store, where
every worker's records land, so the limit holds across workers and hosts; the
sums are cached for ``SPEND_TTL_S`` (the check is one dict look-up between
reads, and records reach the store in the background anyway). A store that
cannot be read costs no one an answer: the last sums stand, and the failure is
logged.

Over the rate, a 429 ``rate_limit_exceeded`` with ``retry-after``: the SDKs'
own retry waits that long. Over the day's spend, a 429 ``insufficient_quota``
with ``x-should-retry: false``: retrying cannot help before midnight UTC, so
the SDKs must not retry it on their own.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from guard.adapters.server.errors import ApiError
from guard.config import ApiKey, ServerConfig
from guard.errors import StoreUnavailable
from guard.store import Store

SPEND_TTL_S = 5.0


class KeyLimits:
    def __init__(self, server: ServerConfig, store: Store, log: Any):
        self.store, self.log = store, log
        self._rates = {k.name: RateLimitItemPerMinute(k.requests_per_minute)
                       for k in server.named_keys.values() if k.requests_per_minute}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._spend: dict[str, float] = {}
        self._spend_day: datetime | None = None
        self._spend_read_at = -math.inf
        self._reading = asyncio.Lock()

    async def admit(self, key: ApiKey | None) -> None:
        """Count one request of ``key``, or raise the 429 that says which limit it is over."""
        if key is None:
            return
        rate = self._rates.get(key.name)
        if rate is not None and not self._limiter.hit(rate, key.name):
            reset_at, _ = self._limiter.get_window_stats(rate, key.name)
            wait = max(1, math.ceil(reset_at - time.time()))
            raise ApiError(429, f"rate limit reached for key {key.name!r}: {key.requests_per_minute} requests per "
                           f"minute; try again in {wait} s", code="rate_limit_exceeded",
                           headers={"retry-after": str(wait)})
        if key.usd_per_day is not None:
            spent = await self._spent_today(key.name)
            if spent >= key.usd_per_day:
                midnight = _day_start(datetime.now(timezone.utc)) + timedelta(days=1)
                wait = max(1, math.ceil((midnight - datetime.now(timezone.utc)).total_seconds()))
                raise ApiError(429, f"key {key.name!r} has spent its {key.usd_per_day:g} USD for today (UTC); "
                               "it can spend again after midnight UTC", code="insufficient_quota",
                               headers={"retry-after": str(wait), "x-should-retry": "false"})

    async def _spent_today(self, name: str) -> float:
        day = _day_start(datetime.now(timezone.utc))
        if day != self._spend_day or time.monotonic() - self._spend_read_at >= SPEND_TTL_S:
            async with self._reading:  # one read for all the requests that find the sums stale
                if day != self._spend_day or time.monotonic() - self._spend_read_at >= SPEND_TTL_S:
                    await self._read_spend(day)
        return self._spend.get(name, 0.0)

    async def _read_spend(self, day: datetime) -> None:
        try:
            spend = await asyncio.to_thread(self.store.spend_by_key, day)
        except StoreUnavailable as exc:
            self.log.warning("spend_unread", error=f"{type(exc).__name__}: {exc}")
            if day != self._spend_day:
                self._spend = {}  # a new day starts at zero
        else:
            self._spend = spend
        self._spend_day, self._spend_read_at = day, time.monotonic()


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
