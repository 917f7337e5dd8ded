"""Failed console logins, counted per client address: guessing an admin key must be slow.

A moving window (``limits``), in this process's memory: each worker counts on its own,
which still bounds guesses to the limit times the number of workers. Behind a reverse
proxy listed in ``server.forwarded_allow_ips`` the client is the address the proxy
saw (``X-Forwarded-For``), so one client's failures do not lock every client out;
from anyone else the header is ignored, so a client cannot dodge the count with it.
"""

from __future__ import annotations

import ipaddress
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request


class TrustedProxies:
    """``server.forwarded_allow_ips``: addresses and networks whose ``X-Forwarded-For`` is believed."""

    def __init__(self, entries: list[str]):
        self._any = "*" in entries
        self._networks = [ipaddress.ip_network(e, strict=False) for e in entries if e != "*"]

    def __contains__(self, host: str) -> bool:
        if self._any:
            return True
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def client_address(request: Request, proxies: TrustedProxies) -> str:
    """The client's address: the peer, or behind trusted proxies the last hop that none of them is."""
    peer = request.client.host if request.client else "unknown"
    if peer not in proxies:
        return peer
    hops = [hop.strip() for line in request.headers.getlist("x-forwarded-for") for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in proxies:
            return hop
    return hops[0] if hops else peer


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
