"""The records' routes: feedback, the review queue, a request's stored verdict, metrics and health.

Store calls are synchronous and may block (SQLite locks, PostgreSQL round
trips), so they run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from guard.adapters.server.auth import require_admin, require_app
from guard.adapters.server.body import read_body
from guard.adapters.server.errors import ApiError
from guard.adapters.server.schemas import DecisionBody, FeedbackBody, parse_json, validate
from guard.adapters.server.warmup import WarmUp
from guard.config import GuardConfig
from guard.pipeline import Guard
from guard.review import DECISIONS
from guard.store.models import RequestRecord, ReviewItem, ReviewStatus

_STATUSES = frozenset(get_args(ReviewStatus))


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _dump(model: BaseModel | None) -> Any:
    return None if model is None else model.model_dump(mode="json")


class Records:
    def __init__(self, guard: Guard, config: GuardConfig, warm_up: WarmUp | None = None):
        self.guard, self.config = guard, config
        self.warm_up = warm_up or WarmUp(None, guard.log)

    async def _body(self, request: Request) -> dict[str, Any]:
        return parse_json(await read_body(request, self.config.server.max_body_bytes))

    async def feedback(self, request: Request) -> Response:
        require_app(request, self.config)
        body: FeedbackBody = validate(FeedbackBody, await self._body(request))
        record = await self.guard.afeedback(body.request_id, rating=body.rating, final_text=body.final_text,
                                            comment=body.comment, user=body.user, resolved=body.resolved)
        return json_response({"object": "guard.feedback", **record.model_dump(mode="json")})

    async def request(self, request: Request) -> Response:
        """What became of one answer: for a held one the answer as decided (``null`` until then).

        An app key sees only its own requests, and only what an app needs (status, answer, decided_at);
        an admin key (or an open server) also gets the record and the review item, reviewer and reasons included.
        The answer is as its user must get it, unmasked under ``pii_handling: redact`` (``Guard.review_for``):
        under ``review.notify: poll`` the app's read is its delivery, an admin key's read is not.
        """
        key = require_app(request, self.config)
        request_id = request.path_params["request_id"]
        store = self.guard.store
        record, review = await asyncio.gather(asyncio.to_thread(store.get_request, request_id),
                                              asyncio.to_thread(store.review_for_request, request_id))
        owner = record.key_name if record is not None else review.key_name if review is not None else None
        if (record is None and review is None) or (key is not None and not key.admin and owner != key.name):
            raise ApiError(404, f"no request {request_id!r} is recorded for this key", code="not_found",
                           param="request_id")  # another key's request reads as unknown: nothing to learn
        held = review is not None and review.policy == "block"
        if held and _decided_answer(record, review) is not None:  # read again, as the user must get it
            review = await self.guard.areview_for(request_id, delivering=key is None or not key.admin)
        answer: dict[str, Any] = {
            "object": "guard.request", "request_id": request_id, "status": _status(record, review),
            "answer": _decided_answer(record, review), "decided_at": _dump_time(review.decided_at if held else None)}
        if key is None or key.admin:
            answer.update(record=_dump(record), review=_dump(review))
        return json_response(answer)

    async def list_reviews(self, request: Request) -> Response:
        require_admin(request, self.config)
        q = request.query_params
        status = q.get("status", "pending")
        if status not in _STATUSES:
            raise ApiError(400, f"status must be one of {', '.join(sorted(_STATUSES))}", code="invalid_value",
                           param="status")
        limit, offset = _int(q.get("limit"), "limit", 100, 1, 1000), _int(q.get("offset"), "offset", 0, 0, 10**9)
        items = await asyncio.to_thread(self.guard.store.list_reviews, status=status, tier=q.get("tier"),
                                        policy=q.get("policy"), model=q.get("model"), limit=limit, offset=offset)
        return json_response({"object": "list", "data": [_dump(i) for i in items]})

    async def get_review(self, request: Request) -> Response:
        require_admin(request, self.config)
        review_id = request.path_params["review_id"]
        item = await asyncio.to_thread(self.guard.store.get_review, review_id)
        if item is None:
            raise ApiError(404, f"no review {review_id!r}", code="not_found", param="review_id")
        return json_response(_dump(item))

    async def decide(self, request: Request) -> Response:
        """A decision on a review item; the reviewer is the admin key's name, never what the body says."""
        key = require_admin(request, self.config)
        action = request.path_params["action"]
        decision = DECISIONS.get(action)
        if decision is None:
            raise ApiError(404, f"no action {action!r}; use approve, edit or reject", code="not_found")
        raw = await read_body(request, self.config.server.max_body_bytes)
        data = parse_json(raw) if raw.strip() else {}
        if "reviewer" in data:
            raise ApiError(400, "reviewer: the decision is recorded under the admin key's name (server.keys), "
                           "not a name in the body", code="invalid_value", param="reviewer")
        body: DecisionBody = validate(DecisionBody, data)
        if decision == "edited" and not body.final_text:
            raise ApiError(400, "final_text: an edit needs the corrected answer", code="invalid_value",
                           param="final_text")
        item = await self.guard.adecide(request.path_params["review_id"], decision,
                                        reviewer=key.name if key else "local", final_text=body.final_text,
                                        reason=body.reason)
        return json_response(_dump(item))

    async def metrics(self, request: Request) -> Response:
        require_admin(request, self.config)
        counts = await asyncio.to_thread(self.guard.store.review_counts, "pending")
        self.guard.metrics.set_review_depth(sum(counts.values()))
        body, content_type = self.guard.metrics.render()
        return Response(body, media_type=content_type)

    async def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        """Ready when the store answers and the start-up warm-up of the models is over.

        The knowledge base is reported, never waited for: a deployment without one is valid (its answers say
        grounding ``skipped``), and a probe that waited for one would keep it out of rotation for good.
        """
        checks: dict[str, str] = {}
        try:
            await asyncio.to_thread(self.guard.store.ping)
            checks["store"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["store"] = f"unreachable: {type(exc).__name__}"
        if self.guard.config.grounding.enabled:
            checks["knowledge_base"] = await asyncio.to_thread(_knowledge_base_check, self.guard.config)
        else:
            checks["knowledge_base"] = "disabled"
        ready = checks["store"] == "ok"
        # A failed warm-up still counts as ready: the process serves, and each request loads what it needs
        # as it would with server.warm_up off (slower, once). Holding readiness back would keep a working
        # server out of the load balancer, where a restart would most likely fail the same way. Logged.
        checks["models"] = self.warm_up.status
        body: dict[str, Any] = {"status": "ready" if ready and not self.warm_up.warming else "not ready"}
        if self.warm_up.warming:
            body["reason"] = "warming up models"
        elif not ready:
            body["reason"] = "; ".join(f"{name}: {value}" for name, value in checks.items()
                                       if name == "store")
        body["checks"] = checks
        return json_response(body, status=200 if body["status"] == "ready" else 503)


def _status(record: RequestRecord | None, review: ReviewItem | None) -> str:
    """``pending``/``approved``/``edited``/``rejected``/``expired`` for a held answer; else ``delivered`` or ``failed``."""
    if review is not None and review.policy == "block":
        return review.status
    return "failed" if record is not None and record.error_class else "delivered"


def _dump_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _decided_answer(record: Any, review: ReviewItem | None) -> str | None:
    if review is None or review.policy != "block":
        return None if record is None else record.answer
    if review.status == "approved":
        return review.draft
    if review.status == "edited":
        return review.final_text
    return None  # pending, rejected or expired: nothing to deliver


def _int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer", code="invalid_value", param=name) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}", code="invalid_value", param=name)
    return value


def _knowledge_base_check(config: GuardConfig) -> str:
    """The knowledge base as /readyz reports it (a folder look, or a query of the database: on a thread)."""
    kb = config.knowledge_base
    if kb.backend == "postgres":
        from guard.kb import KnowledgeBase

        if KnowledgeBase.counts_at(kb) is None:
            return "none in knowledge_base.database, or it cannot be reached: answers are not grounded"
        return "ok"
    return "ok" if Path(kb.path).expanduser().is_dir() else "none at knowledge_base.path: answers are not grounded"
