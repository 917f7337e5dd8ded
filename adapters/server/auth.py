"""Bearer keys: app keys for the API, admin keys for reviews, metrics and the console.

Keys are configured and compared as sha256 digests (``server.api_keys`` /
``server.admin_keys``), so no plain key sits in a file, in memory beyond the
request, or in a log; comparisons are constant-time. A plain function per
route instead of a middleware: the pass-through path pays one dict look-up.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket

from starlette.requests import Request

from guard.adapters.server.errors import ApiError
from guard.config import GuardConfig, ServerConfig, key_digest


def _matches(presented: str, digests: list[str]) -> bool:
    digest = key_digest(presented)
    found = False
    for candidate in digests:  # no early exit: timing says nothing about which key matched
        found |= hmac.compare_digest(digest, candidate)
    return found


def is_admin_key(config: GuardConfig, key: str) -> bool:
    """True for a configured admin key (always False when none is configured)."""
    return bool(key) and _matches(key, config.server.admin_keys)


def auth_enabled(server: ServerConfig) -> bool:
    return bool(server.api_keys or server.admin_keys)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _presented_key(request: Request, server: ServerConfig) -> str | None:
    """The request's bearer key; None when no key is configured (open server); 401 when one is needed but missing."""
    if not auth_enabled(server):
        return None
    key = _bearer(request)
    if key is None:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", code="invalid_api_key")
    return key


def require_app(request: Request, config: GuardConfig) -> None:
    """Completion, feedback and request routes: an app key or an admin key (open when no key is configured)."""
    server = config.server
    key = _presented_key(request, server)
    if key is not None and not _matches(key, server.api_keys) and not _matches(key, server.admin_keys):
        raise ApiError(401, "incorrect API key", code="invalid_api_key")


def require_admin(request: Request, config: GuardConfig) -> None:
    """Review, report and metrics routes: admin keys only; an app key gets 403."""
    server = config.server
    key = _presented_key(request, server)
    if key is None or _matches(key, server.admin_keys):
        return
    if _matches(key, server.api_keys):
        raise ApiError(403, "this route needs an admin key (server.admin_keys)", code="admin_key_required")
    raise ApiError(401, "incorrect API key", code="invalid_api_key")


def is_loopback(host: str) -> bool:
    """True when ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback
                       for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def check_bind(server: ServerConfig) -> None:
    """Refuse to serve an open proxy beyond this machine: without keys, loopback only."""
    if not auth_enabled(server) and not is_loopback(server.host):
        raise ValueError(f"refusing to listen on {server.host} without API keys: set server.api_keys "
                         "(GUARD_SERVER__API_KEYS) or bind to 127.0.0.1")
