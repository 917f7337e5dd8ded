"""structlog set-up: one JSON event per request in production, readable in a terminal."""

from __future__ import annotations

import logging
import sys

import structlog

from guard.config import LoggingConfig

_SECRET_KEYS = ("api_key", "authorization", "password", "secret", "token")


def _drop_secrets(_: object, __: str, event: dict) -> dict:
    for key in list(event):
        if any(s in key.lower() for s in _SECRET_KEYS) and key not in ("prompt_tokens", "completion_tokens", "tokens"):
            event[key] = "[redacted]"
    return event


def _stderr_logger(*_: object) -> structlog.PrintLogger:
    # sys.stderr is looked up per logger, not once: test runners and daemons swap it.
    return structlog.PrintLogger(file=sys.stderr)


def configure_logging(config: LoggingConfig) -> None:
    """Configure once per process; later calls with the same settings change nothing."""
    as_json = config.format == "json" or (config.format == "auto" and not sys.stderr.isatty())
    renderer = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, config.level.upper())),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def get_logger() -> structlog.stdlib.BoundLogger:
    return structlog.get_logger("guard")
