"""The console's login session: a signed, expiring cookie naming a person and the admin key they signed in with.

The cookie holds no key, only the person's name, the key's name with a
fingerprint of the key (an HMAC of its digest under the session secret, so the
cookie says nothing about the key), and a random CSRF token, signed with a
secret the browser never sees (itsdangerous). A session ends when its key is
no longer an admin key of the server. The cookie is HTTP-only, Secure and
SameSite=Strict; every POST form repeats the token, so a page on another site
cannot make a logged-in reviewer's browser decide anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from guard.config import ApiKey, ServerConfig

COOKIE = "guard_console"
DEFAULT_MAX_AGE_S = 8 * 3600


@dataclass(frozen=True)
class Session:
    person: str
    key_name: str
    csrf: str

    @property
    def reviewer(self) -> str:
        """How decisions made in this session are recorded: the person, and the key that let them in."""
        return f"{self.person} ({self.key_name})"

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, str(token))


class Sessions:
    """Issue, read and clear console sessions; one instance per app."""

    def __init__(self, server: ServerConfig, secret: str | bytes | None = None, max_age_s: int = DEFAULT_MAX_AGE_S):
        # Without a configured secret, a per-process one: sessions end when the process restarts.
        self._secret = secret.encode() if isinstance(secret, str) else secret or secrets.token_bytes(32)
        self._signer = URLSafeTimedSerializer(self._secret, salt="guard-console-session")
        self._server = server
        self.max_age_s = max_age_s

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._signer.loads(raw, max_age=self.max_age_s)
        except BadSignature:  # also covers SignatureExpired
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(f), str) for f in ("r", "k", "f", "c")):
            return None
        key = next((k for k in self._server.named_keys.values() if k.admin and k.name == data["k"]), None)
        if key is None or not hmac.compare_digest(self._fingerprint(key), data["f"]):
            return None  # the key was removed (or replaced): so is every session it opened
        return Session(person=data["r"], key_name=key.name, csrf=data["c"])

    def start(self, response: Response, person: str, key: ApiKey, path: str) -> Session:
        session = Session(person=person, key_name=key.name, csrf=secrets.token_urlsafe(32))
        cookie = self._signer.dumps({"r": person, "k": key.name, "f": self._fingerprint(key), "c": session.csrf})
        response.set_cookie(COOKIE, cookie, max_age=self.max_age_s, path=path, secure=True, httponly=True,
                            samesite="strict")
        return session

    def _fingerprint(self, key: ApiKey) -> str:
        return hmac.new(self._secret, key.digest.encode(), hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def end(response: Response, path: str) -> None:
        response.delete_cookie(COOKIE, path=path, secure=True, httponly=True, samesite="strict")
