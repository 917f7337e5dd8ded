"""``guard serve``: the OpenAI-compatible proxy on uvicorn.

Logging is configured here (the library never does it). With ``--workers 1``
the app runs in this process; with more, each uvicorn worker builds its own
guard from the same config file (``GUARD_CONFIG``) and settings, and they share
records through the store (use PostgreSQL). On SIGTERM/SIGINT uvicorn stops
accepting, lets in-flight requests finish (up to ``server.graceful_timeout_s``)
and the app's lifespan flushes the records.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import litellm
import typer
import uvicorn

from guard.adapters.server.auth import check_bind
from guard.config import GuardConfig, load_config
from guard.errors import ConfigError
from guard.logs import configure_logging
from guard.threads import single_threaded_blas


def serve(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="guard.yaml to read (default: ./guard.yaml)."),
    host: Optional[str] = typer.Option(None, help="Address to listen on (default: server.host, 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, help="Port (default: server.port, 8000)."),
    workers: Optional[int] = typer.Option(None, min=1, help="Worker processes (default: server.workers, 1)."),
) -> None:
    """Serve the OpenAI-compatible proxy: point an OpenAI SDK's base_url at http://HOST:PORT/v1."""
    # CLI flags travel as settings, so every worker process reads the same ones.
    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"GUARD_SERVER__{name}"] = str(value)
    if config is not None:
        os.environ["GUARD_CONFIG"] = str(config.resolve())
    try:
        settings = load_config(config)
        check_bind(settings.server)
    except (ConfigError, ValueError) as exc:
        typer.echo(f"guard serve: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.logging)
    single_threaded_blas()  # the server owns its process; a library host keeps its own BLAS settings
    litellm.suppress_debug_info = True  # litellm's help banners would land between guard's JSON log lines
    run(settings)


def run(settings: GuardConfig) -> None:
    """Run uvicorn until it is told to stop."""
    server = settings.server
    options = dict(host=server.host, port=server.port, access_log=False, log_level=settings.logging.level,
                   timeout_graceful_shutdown=server.graceful_timeout_s, server_header=False,
                   forwarded_allow_ips=server.forwarded_allow_ips)  # the same proxies as the app believes
    if server.workers > 1:
        uvicorn.run("guard.adapters.server.app:app_from_env", factory=True, workers=server.workers, **options)
        return
    from guard.adapters.server.app import served_app  # models and indexes load in the warm-up, once serving

    uvicorn.run(served_app(settings), **options)
