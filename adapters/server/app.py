"""The OpenAI-compatible proxy: ``create_app(guard, config)`` builds the Starlette app ``guard serve`` runs.

No middleware on the request path (auth is a call per route): the
pass-through cost is routing, one JSON parse and one serialisation. Start-up
warms the models up in a thread (``server.warm_up``; ``/readyz`` is 503 until
it is done). Shutdown waits for in-flight requests (uvicorn) and then flushes
the records (``guard.aclose()`` in the lifespan).
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import litellm
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from guard.adapters.server.auth import check_bind, require_app
from guard.adapters.server.check import Check
from guard.adapters.server.completions import ChatCompletions, served_models
from guard.adapters.server.embeddings import Embeddings, served_embedding_models
from guard.adapters.server.errors import ApiError, api_error
from guard.adapters.server.limits import KeyLimits
from guard.adapters.server.openapi import openapi_description
from guard.adapters.server.overrides import Variants
from guard.adapters.server.record_routes import Records, json_response
from guard.adapters.server.responses import Responses
from guard.adapters.server.warmup import WarmUp
from guard.config import GuardConfig, load_config
from guard.errors import GuardError
from guard.experiments.live import LiveExperiments
from guard.logs import configure_logging
from guard.pipeline import Guard
from guard.threads import single_threaded_blas


def create_app(guard: Guard, config: GuardConfig, *, warm_up: Callable[[], Any] | None = None) -> Starlette:
    """The proxy's app around one shared ``Guard``.

    On start it runs ``warm_up`` in a thread, by default ``guard.warm_up`` when ``server.warm_up`` is on.
    Without API keys it refuses a non-loopback ``server.host`` here, and every request that did not reach
    it on a loopback address (``uvicorn --factory --host 0.0.0.0`` too): see ``auth``.
    """
    check_bind(config.server)
    warm = WarmUp(warm_up or (guard.warm_up if config.server.warm_up else None), guard.log)
    limits = KeyLimits(config.server, guard.store, guard.log)
    experiments = LiveExperiments(guard.store, refresh_s=config.server.experiments_refresh_s, seed_from=config,
                                  log=guard.log)
    chat = ChatCompletions(Variants(guard, config), config, limits, experiments)
    embeddings = Embeddings(config, limits)
    records = Records(guard, config, warm)

    async def list_models(request: Request) -> Response:
        require_app(request, config)
        names = [*served_models(config), *served_embedding_models(config)]
        return json_response({"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": name.partition("/")[0] if "/" in name else "guard"}
            for name in dict.fromkeys(names)]})

    async def openapi(request: Request) -> Response:
        return json_response(openapi_description())  # no key: it describes the routes, nothing served on them

    routes = [
        Route("/v1/chat/completions", chat.create, methods=["POST"]),
        Route("/v1/responses", Responses(chat).create, methods=["POST"]),
        Route("/v1/embeddings", embeddings.create, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/check", Check(guard, config, limits).create, methods=["POST"]),
        Route("/v1/feedback", records.feedback, methods=["POST"]),
        Route("/v1/requests/{request_id}", records.request, methods=["GET"]),
        Route("/v1/reviews", records.list_reviews, methods=["GET"]),
        Route("/v1/reviews/{review_id}", records.get_review, methods=["GET"]),
        Route("/v1/reviews/{review_id}/{action}", records.decide, methods=["POST"]),
        Route("/metrics", records.metrics, methods=["GET"]),
        Route("/healthz", records.healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/readyz", records.readyz, methods=["GET"]),
        *_console(guard, config),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        warm.start()  # not awaited: the server listens (healthz, 503 on readyz) while the models load
        yield
        await guard.aclose()  # in-flight requests are done (uvicorn waits): their records are flushed now

    async def error_response(request: Request, exc: Exception) -> Response:
        error = api_error(exc, guard.log)  # guard's logger: it masks PII in what an exception quotes
        if error.status == 500 and guard.redactor.enabled:
            # Starlette re-raises an unhandled exception to the server once answered, and the server's traceback
            # quotes its text: masked there too.
            exc.args = (guard.redactor.redact(str(exc)),)
        return error.response()

    # Every exception gets the OpenAI error shape: the client's own mistakes (ApiError, InvalidRequest) a 4xx,
    # guard's own failures a 500 logged with the request id (guard.adapters.server.errors.api_error).
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        ApiError: error_response, GuardError: error_response, ValueError: error_response,
        HTTPException: _http_error, Exception: error_response})


def _console(guard: Guard, config: GuardConfig) -> list[Mount]:
    from guard.adapters.server.console import console_routes  # the console's templates load only when served

    return [Mount("/console", routes=console_routes(guard, config))]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
    return ApiError(exc.status_code, str(exc.detail), code=code).response()


def app_from_env() -> Starlette:
    """uvicorn's factory for ``--workers N``: each worker process builds its guard from ``GUARD_CONFIG``."""
    config = load_config(os.environ.get("GUARD_CONFIG") or None)
    return served_app(config)


def served_app(config: GuardConfig) -> Starlette:
    """The app ``guard serve`` runs in a process it owns (its only one, or each of ``--workers N``): the process
    is set up for serving, the heap is settled after start-up and the warm-up."""
    own_process(config)
    guard = Guard(config)
    app = create_app(guard, config, warm_up=_settled(guard.warm_up) if config.server.warm_up else None)
    settle_heap()
    return app


def own_process(config: GuardConfig) -> None:
    """What a serving process sets for itself, and a library host never gets: guard's log lines on stderr,
    BLAS on one thread, no litellm banners between the JSON lines. Run in every worker, as each is a process."""
    configure_logging(config.logging)
    single_threaded_blas()
    litellm.suppress_debug_info = True


def _settled(warm_up: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        report = warm_up()
        settle_heap()  # the models just loaded are start-up too: no full collection should walk them again
        return report

    return run


def settle_heap() -> None:
    """Hide what start-up built (litellm, pydantic, ... ~400k objects) from the garbage collector, once built.

    A full collection walked all of it: 100-300 ms during which no request moved (the p99 stalls).
    Frozen, those collections take about 10 ms. Only ``guard serve`` calls this: it owns its process,
    a library host keeps its own collector settings.
    """
    gc.collect()
    gc.freeze()
