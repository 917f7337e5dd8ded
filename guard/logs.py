"""Structured events on the stdlib ``guard`` logger: the host decides where they go.

A library must not configure logging for its host, so importing guard or
building a ``Guard`` changes no global state: events are rendered by guard's own
structlog pipeline (``structlog.wrap_logger``, never ``structlog.configure``)
and handed to ``logging.getLogger("guard")``, which the host's logging set-up
routes like any other library's. ``configure_logging`` is the explicit opt-in
that ``guard serve`` and the CLI call: one JSON event per line on stderr in
production, readable in a terminal. Secrets never reach an event either way.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import orjson
import structlog

from guard.config import LoggingConfig

_request_id: ContextVar[str | None] = ContextVar("guard_request_id", default=None)
_SECRET_KEYS = ("api_key", "authorization", "password", "secret", "token")
_TOKEN_COUNTS = ("prompt_tokens", "completion_tokens", "tokens")
_stdlib_logger = logging.getLogger("guard")
_FORMAT = logging.Formatter("%(message)s")


def _json(_: object, __: str, event: dict) -> str:
    """One JSON line; orjson, as the proxy logs an event per request and ``json.dumps`` costs five times more."""
    return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


_console: dict[str, Any] = {"as_json": True, "renderer": _json}  # set by configure_logging only


def _drop_secrets(_: object, __: str, event: dict) -> dict:
    for key, value in event.items():
        if isinstance(key, str) and _is_secret(key):
            event[key] = "[redacted]"
        elif isinstance(value, dict):  # e.g. a call's parameters or headers logged as one field
            event[key] = _drop_secrets(_, __, dict(value))
    return event


@lru_cache(maxsize=1024)
def _is_secret(key: str) -> bool:
    """Per event key, decided once: events reuse a handful of keys, and this ran for each on every request."""
    return any(s in key.lower() for s in _SECRET_KEYS) and key not in _TOKEN_COUNTS


def _render(logger: object, name: str, event: dict) -> str:
    return _console["renderer"](logger, name, event)


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr``, looked up per event: test runners and daemons swap it."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(config: LoggingConfig) -> None:
    """Send guard's events to stderr at ``config.level``; called by ``guard serve``/the CLI, never on import.

    Touches only the ``guard`` logger (not the root logger, not structlog's global
    configuration); calling it again replaces the previous set-up.
    """
    as_json = config.format == "json" or (config.format == "auto" and not sys.stderr.isatty())
    _console["as_json"] = as_json
    _console["renderer"] = _json if as_json else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    for handler in [h for h in _stdlib_logger.handlers if isinstance(h, _StderrHandler)]:
        _stdlib_logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_FORMAT)
    _stdlib_logger.addHandler(handler)
    _stdlib_logger.setLevel(getattr(logging, config.level.upper()))
    _stdlib_logger.propagate = False


def get_logger(*processors: Any) -> Any:
    """guard's event logger; disabled levels cost one level check, nothing is rendered.

    ``processors`` run last before rendering: ``get_logger(redact_processor(redactor))``
    (``guard.pii``) masks personal data in a Guard's events as in its records.
    """
    return structlog.wrap_logger(
        _stdlib_logger,
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,  # else every event builds a bound logger first
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            *processors,
            _render,
        ],
    )


def bind_request_id(request_id: str) -> None:
    """Name the request the current task serves, so an error raised past guard can still be logged with its id.

    guard's own context variable (not structlog's contextvars, which belong to the host).
    """
    _request_id.set(request_id)


def current_request_id() -> str | None:
    """The id of the request the current task serves, if guard has started one."""
    return _request_id.get()
