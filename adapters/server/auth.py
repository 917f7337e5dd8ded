"""Bearer keys: app keys for the API, admin keys for reviews, metrics and the console; keyless mode kept local.

Keys are configured and compared as sha256 digests (``server.api_keys``,
``server.admin_keys``, ``server.keys``), so no plain key sits in a file, in
memory beyond the request, or in a log; comparisons are constant-time. Each key
has a name (``ApiKey``): what records, limits and reviews know it by. A plain
function per route instead of a middleware: the pass-through path pays one
dict look-up.

Without any key the server is open, so it must stay out of a browser's reach:
it answers only on a loopback address, to a loopback ``Host`` (no DNS
rebinding), with no cross-site ``Origin``, and POSTs must be
``application/json`` (no form a web page could send without a preflight).
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from urllib.parse import urlsplit

from starlette.requests import Request

from guard.adapters.server.errors import ApiError
from guard.config import ApiKey, GuardConfig, ServerConfig, key_digest


def find_key(server: ServerConfig, presented: str) -> ApiKey | None:
    """The configured key ``presented`` is, or None."""
    digest = key_digest(presented)
    found = None
    for candidate, key in server.named_keys.items():  # no early exit: timing says nothing about which key matched
        if hmac.compare_digest(digest, candidate):
            found = key
    return found


def admin_key(config: GuardConfig, presented: str) -> ApiKey | None:
    """The admin key ``presented`` is (None for any other string, and when no admin key is configured)."""
    key = find_key(config.server, presented) if presented else None
    return key if key is not None and key.admin else None


def auth_enabled(server: ServerConfig) -> bool:
    return bool(server.named_keys)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _caller(request: Request, server: ServerConfig) -> ApiKey | None:
    """The request's key; None when no key is configured (open, local only); 401 when missing or unknown."""
    if not auth_enabled(server):
        _local_only(request)
        return None
    presented = _bearer(request)
    if presented is None:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", code="invalid_api_key")
    key = find_key(server, presented)
    if key is None:
        raise ApiError(401, "incorrect API key", code="invalid_api_key")
    return key


def require_app(request: Request, config: GuardConfig) -> ApiKey | None:
    """Completion, feedback and request routes: any key (open when no key is configured); returns the caller's."""
    return _caller(request, config.server)


def require_admin(request: Request, config: GuardConfig) -> ApiKey | None:
    """Review, report and metrics routes: admin keys only; an app key gets 403."""
    key = _caller(request, config.server)
    if key is not None and not key.admin:
        raise ApiError(403, "this route needs an admin key (server.admin_keys)", code="admin_key_required")
    return key


def _local_only(request: Request) -> None:
    """An open server answers only this machine, and nothing a web page in a browser could have sent."""
    server = request.scope.get("server")
    if server and not _loopback_address(str(server[0])):
        raise ApiError(403, "this server has no API keys, so it answers only on a loopback address; set "
                       "server.api_keys", code="keyless_not_local")
    if not _loopback_name(urlsplit("//" + request.headers.get("host", "")).hostname or ""):
        raise ApiError(403, "this server has no API keys, so it answers only to a loopback Host (localhost, "
                       "127.0.0.1, [::1])", code="keyless_not_local")
    origin = request.headers.get("origin")
    if origin is not None and not _loopback_name(urlsplit(origin).hostname or ""):
        raise ApiError(403, "cross-site request refused: this server has no API keys", code="cross_site_refused")
    if request.method == "POST":
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media != "application/json":
            raise ApiError(415, "the body must be sent as 'content-type: application/json'",
                           code="unsupported_media_type")


def _loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost") or _loopback_address(host)


def is_loopback(host: str) -> bool:
    """True when ``host`` only listens on this machine."""
    if _loopback_name(host):
        return True
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def check_bind(server: ServerConfig) -> None:
    """Refuse to serve an open proxy beyond this machine: without keys, loopback only."""
    if not auth_enabled(server) and not is_loopback(server.host):
        raise ValueError(f"refusing to listen on {server.host} without API keys: set server.api_keys "
                         "(GUARD_SERVER__API_KEYS) or bind to 127.0.0.1")
