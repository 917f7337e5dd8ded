"""The console's pages: login, the queue, one item and its decision, the health report.

Every page needs a console session (see ``session.py``); every POST checks the
session's CSRF token. Store reads and the report run in a thread, never on the
event loop. A decision goes through ``Guard.adecide``: the same atomic
transition (and the same webhook for held answers) as the HTTP API.
"""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from guard.config import GuardConfig
from guard.errors import AlreadyDecided, ReviewNotFound, StoreUnavailable
from guard.pipeline import Guard
from guard.report.build import build_report
from guard.report.html import render_html_fragment
from guard.review import DECISIONS

from guard.adapters.server.auth import admin_key
from guard.adapters.server.console.experiments import LABELS, experiment_reports, fmt
from guard.adapters.server.console.passages import draft_segments, source_passages
from guard.adapters.server.console.queue import AGES, POLICIES, TIERS, Filters, expiry_note, waited
from guard.adapters.server.console.session import Session, Sessions
from guard.adapters.server.console.throttle import LoginThrottle, TrustedProxies, client_address

HERE = Path(__file__).parent
MAX_FORM_BYTES = 256 * 1024
WINDOWS = {"1d": ("Last 24 hours", timedelta(days=1)), "7d": ("Last 7 days", timedelta(days=7)),
           "30d": ("Last 30 days", timedelta(days=30))}
SECURITY_HEADERS = {
    # The report embeds its own <style>; tier colours are inline styles. No inline script anywhere.
    "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}


class Console:
    """The handlers, bound to one Guard and its config."""

    def __init__(self, guard: Guard, config: GuardConfig, sessions: Sessions):
        self.guard, self.config, self.sessions = guard, config, sessions
        self.throttle = LoginThrottle(config.server.console_failed_logins)
        self.proxies = TrustedProxies(config.server.forwarded_allow_ips)
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)

    # -- login ---------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if self.sessions.read(request):
            return _redirect(_base(request) + "/")
        return self._page(request, "login.html", None)

    async def login(self, request: Request) -> Response:
        client = client_address(request, self.proxies)
        if wait := self.throttle.wait_s(client):
            response = self._page(request, "login.html", None, status=429,
                                  error=f"Too many failed logins from this address; try again in {wait} s.")
            response.headers["retry-after"] = str(wait)
            return response
        form = await _form(request)
        name = (form.get("name") or "").strip()[:80]
        key = admin_key(self.config, form.get("key") or "")
        if key is None:
            self.throttle.failed(client)
            return self._page(request, "login.html", None, status=401, name=name,
                              error="That key is not an admin key. App API keys do not open the console.")
        if not name:
            return self._page(request, "login.html", None, status=400, error="Please give your name.")
        response = _redirect(_base(request) + "/")
        self.sessions.start(response, name, key, _cookie_path(request))
        return response

    async def logout(self, request: Request) -> Response:
        session = self.sessions.read(request)
        form = await _form(request)
        if session is None or not session.csrf_ok(form.get("csrf")):
            return _redirect(_base(request) + "/login")
        response = _redirect(_base(request) + "/login")
        self.sessions.end(response, _cookie_path(request))
        return response

    # -- queue ---------------------------------------------------------------

    async def queue(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if session is None:
            return _to_login(request)
        filters = Filters.from_query(request.query_params)
        store = self.guard.store
        items, counts = await asyncio.gather(
            asyncio.to_thread(store.list_reviews, tier=filters.tier, policy=filters.policy, model=filters.model,
                              limit=500),
            asyncio.to_thread(store.review_counts))
        now = datetime.now(timezone.utc)
        rows = [{"item": i, "waited": waited(i, now), "expiry": expiry_note(i, now)} for i in items if filters.keep(i, now)]
        done = request.query_params.get("done")
        return self._page(request, "queue.html", session, rows=rows, counts=counts, filters=filters,
                          total=sum(counts.values()), ages=AGES, policies=POLICIES, done=done,
                          done_status=request.query_params.get("status"))

    # -- one item ------------------------------------------------------------

    async def item(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if session is None:
            return _to_login(request)
        return await self._item_page(request, session)

    async def decide(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if session is None:
            return _to_login(request)
        form = await _form(request)
        if not session.csrf_ok(form.get("csrf")):
            return self._page(request, "error.html", session, status=403,
                              message="This form has expired. Reload the page and try again.")
        review_id = request.path_params["review_id"]
        decision = DECISIONS.get(form.get("action") or "")
        final_text = (form.get("final_text") or "").strip() if decision == "edited" else None
        reason = (form.get("reason") or "").strip()[:2000] or None
        if decision is None:
            return await self._item_page(request, session, status=400, error="Choose approve, edit or reject.")
        if decision == "edited" and not final_text:
            return await self._item_page(request, session, status=400, error="The edited answer is empty.")
        if decision == "rejected" and not reason:
            return await self._item_page(request, session, status=400, error="Say why the draft is rejected.")
        try:
            item = await asyncio.to_thread(self.guard.store.get_review, review_id)
            if item is not None and decision == "edited" and final_text == item.draft.strip():
                decision, final_text = "approved", None  # nothing changed: an approval, not an edit
            decided = await self.guard.adecide(review_id, decision, reviewer=session.reviewer,
                                               final_text=final_text, reason=reason)
        except ReviewNotFound:
            return self._page(request, "error.html", session, status=404, message=f"No review item {review_id}.")
        except AlreadyDecided as exc:
            by = f" by {exc.reviewer}" if exc.reviewer else ""
            error = ("This item expired before anyone decided it." if exc.status == "expired"
                     else f"This item was already decided{by}: {exc.status}.")
            return await self._item_page(request, session, status=409, error=error)
        except StoreUnavailable:
            return await self._item_page(request, session, status=503,
                                         error="The store is unavailable; the decision was not saved. Try again.")
        return _redirect(f"{_base(request)}/?done={quote(decided.id)}&status={quote(decided.status)}")

    async def _item_page(self, request: Request, session: Session, *, status: int = 200,
                         error: str | None = None) -> Response:
        review_id = request.path_params["review_id"]
        item = await asyncio.to_thread(self.guard.store.get_review, review_id)
        if item is None:
            return self._page(request, "error.html", session, status=404, message=f"No review item {review_id}.")
        context = item.context or {}
        citations = [c for c in context.get("citations") or [] if isinstance(c, dict)]
        now = datetime.now(timezone.utc)
        return self._page(
            request, "item.html", session, status=status, error=error, item=item,
            segments=draft_segments(item.draft, [u for u in context.get("unsupported") or [] if isinstance(u, dict)]),
            passages=source_passages(item.draft, list(context.get("sources") or []), citations),
            citations=citations, signals=context.get("signals") or {}, layers=context.get("layers") or {},
            waited=waited(item, now), expiry=expiry_note(item, now))

    # -- health --------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if session is None:
            return _to_login(request)
        window = _window(request, "7d")
        until = datetime.now(timezone.utc)
        report = await asyncio.to_thread(build_report, self.guard.store, since=until - WINDOWS[window][1], until=until,
                                         config=self.config)
        return self._page(request, "health.html", session, report_html=render_html_fragment(report),
                          window=window, windows=WINDOWS)

    # -- experiments ---------------------------------------------------------

    async def experiments(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if session is None:
            return _to_login(request)
        window = _window(request, "30d")
        reports = await asyncio.to_thread(experiment_reports, self.guard.store, WINDOWS[window][1])
        return self._page(request, "experiments.html", session, reports=reports, labels=LABELS, fmt=fmt,
                          window=window, windows=WINDOWS)

    # -- rendering -----------------------------------------------------------

    def _page(self, request: Request, template: str, session: Session | None, *, status: int = 200,
              **values: Any) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            base=_base(request), session=session, styles=self.config.tiers.styles, tiers=TIERS,
            product=self.config.product.name, path=request.url.path, no_admin_key=not any(k.admin for k in self.config.server.named_keys.values()),
            insecure=_insecure(request), **values)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _base(request: Request) -> str:
    """The console's own URL prefix (``/console`` when mounted there), so links survive any mount point."""
    return request.scope.get("root_path", "").rstrip("/")


def _insecure(request: Request) -> bool:
    """Plain HTTP beyond this machine: the browser will drop the Secure session cookie, so say so on the form."""
    host = request.url.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return request.url.scheme != "https" and not loopback


def _cookie_path(request: Request) -> str:
    return _base(request) or "/"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def _to_login(request: Request) -> Response:
    return _redirect(_base(request) + "/login")


async def _form(request: Request) -> dict[str, str]:
    """A URL-encoded form's fields (first value of each); oversized bodies read as empty."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def _window(request: Request, default: str) -> str:
    """The page's ``window`` parameter, or ``default`` when it names none of ``WINDOWS``."""
    window = request.query_params.get("window")
    return window if window in WINDOWS else default
