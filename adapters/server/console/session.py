"""The console's login session: a signed, expiring cookie that also carries the CSRF token.

The cookie holds no key, only who logged in and a random CSRF token, signed
with a secret the browser never sees (itsdangerous). It is HTTP-only, Secure
and SameSite=Strict; every POST form repeats the token, so a page on another
site cannot make a logged-in reviewer's browser decide anything.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "guard_console"
DEFAULT_MAX_AGE_S = 8 * 3600


@dataclass(frozen=True)
class Session:
    reviewer: str
    csrf: str

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, str(token))


class Sessions:
    """Issue, read and clear console sessions; one instance per app."""

    def __init__(self, secret: str | bytes | None = None, max_age_s: int = DEFAULT_MAX_AGE_S):
        # Without a configured secret, a per-process one: sessions end when the process restarts.
        self._signer = URLSafeTimedSerializer(secret or secrets.token_bytes(32), salt="guard-console-session")
        self.max_age_s = max_age_s

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._signer.loads(raw, max_age=self.max_age_s)
        except BadSignature:  # also covers SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("r"), str) or not isinstance(data.get("c"), str):
            return None
        return Session(reviewer=data["r"], csrf=data["c"])

    def start(self, response: Response, reviewer: str, path: str) -> Session:
        session = Session(reviewer=reviewer, csrf=secrets.token_urlsafe(32))
        response.set_cookie(COOKIE, self._signer.dumps({"r": reviewer, "c": session.csrf}), max_age=self.max_age_s,
                            path=path, secure=True, httponly=True, samesite="strict")
        return session

    @staticmethod
    def end(response: Response, path: str) -> None:
        response.delete_cookie(COOKIE, path=path, secure=True, httponly=True, samesite="strict")
