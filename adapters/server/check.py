"""``POST /v1/check``: guard's verdict on an answer made elsewhere (another gateway, a batch job, an app in
another language), recorded and routed to review as an answer served here would be.

The sources come with the request (strings or ``{id, title, text}``) or from a
knowledge base named in ``server.knowledge_bases``, searched with ``question``.
The reply is the ``guard`` object itself.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from guard.adapters.server.auth import require_app
from guard.adapters.server.body import read_body
from guard.adapters.server.completions import guard_headers
from guard.adapters.server.errors import ApiError
from guard.adapters.server.limits import KeyLimits
from guard.adapters.server.schemas import CheckBody, parse_json, validate
from guard.attribution import attributed_to
from guard.config import GuardConfig
from guard.layers.base import Skip
from guard.layers.grounding import knowledge_base_sources
from guard.pipeline import Guard
from guard.state import Source


class Check:
    def __init__(self, guard: Guard, config: GuardConfig, limits: KeyLimits):
        self.guard, self.config, self.limits = guard, config, limits

    async def create(self, request: Request) -> Response:
        key = require_app(request, self.config)
        body: CheckBody = validate(CheckBody, parse_json(await read_body(request, self.config.server.max_body_bytes)))
        if (body.sources is None) == (body.knowledge_base is None):
            raise ApiError(400, "give either sources or knowledge_base (a name from server.knowledge_bases)",
                           code="invalid_value", param="sources")
        await self.limits.admit(key)
        if body.sources is not None:
            sources: list[str | dict[str, str] | Source] = [
                s if isinstance(s, str) else s.model_dump(exclude_none=True) for s in body.sources]
        else:
            sources = await self._search(body.knowledge_base or "", body.question)
        with attributed_to(key.name if key else None):  # the record and any review item name the key
            meta = await self.guard.acheck(body.response, sources, body.question, record=True)
        return Response(meta.model_dump_json(), media_type="application/json", headers=guard_headers(meta))

    async def _search(self, name: str, question: str | None) -> list[Source]:
        path = self.config.server.knowledge_bases.get(name)
        if path is None:
            raise ApiError(400, f"unknown knowledge base {name!r} (configured: "
                           f"{', '.join(sorted(self.config.server.knowledge_bases)) or 'none'})",
                           code="invalid_value", param="knowledge_base")
        if not (question or "").strip():
            raise ApiError(400, "a knowledge base is searched with the question: give question", code="invalid_value",
                           param="question")
        kb = self.config.knowledge_base.named(path)
        try:
            return await knowledge_base_sources(self.config.model_copy(update={"knowledge_base": kb}),
                                                question or "")
        except Skip as skip:  # the operator's folder is missing or empty: nothing the client can fix
            raise ApiError(503, f"knowledge base {name!r} cannot be searched: {skip.reason}",
                           code="knowledge_base_unavailable") from None
