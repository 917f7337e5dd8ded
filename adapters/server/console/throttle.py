"""Failed console logins, counted per client address: guessing an admin key must be slow.

A moving window (``limits``), in this process's memory: each worker counts on its own,
which still bounds guesses to the limit times the number of workers.
"""

from __future__ import annotations

import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class LoginThrottle:
    def __init__(self, rate: str):
        self._limit = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def wait_s(self, client: str) -> int:
        """Seconds until ``client`` may try again; 0 while it has failures left."""
        if self._limiter.test(self._limit, client):
            return 0
        reset_at, _ = self._limiter.get_window_stats(self._limit, client)
        return max(1, round(reset_at - time.time()))

    def failed(self, client: str) -> None:
        self._limiter.hit(self._limit, client)
