"""``guard serve``: the OpenAI-compatible proxy on uvicorn.

Logging is configured here (the library never does it). With ``--workers 1``
the app runs in this process; with more, each uvicorn worker builds its own
guard from the same config file (``GUARD_CONFIG``) and settings, sets its
process up as a single server does (``own_process``), and shares records
through the store (use PostgreSQL) and metrics through a per-run directory.
On SIGTERM/SIGINT uvicorn stops accepting, lets in-flight requests finish (up
to ``server.graceful_timeout_s``) and the app's lifespan flushes the records.

Whatever ``logging.level`` says, start-up prints what the server is about to do (where it listens, the
models, the store, the knowledge base and what ``/readyz`` waits for): a server that prints nothing
cannot be told from one that hangs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from guard.config import GuardConfig


def serve(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="guard.yaml to read (default: ./guard.yaml)."),
    host: Optional[str] = typer.Option(None, help="Address to listen on (default: server.host, 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, help="Port (default: server.port, 8000)."),
    workers: Optional[int] = typer.Option(None, min=1, help="Worker processes (default: server.workers, 1)."),
) -> None:
    """Serve the OpenAI-compatible proxy: point an OpenAI SDK's base_url at http://HOST:PORT/v1."""
    from guard.extras import require

    require("server", "starlette", "uvicorn", "jinja2", "itsdangerous", purpose="guard serve")
    from guard.adapters.server.auth import check_bind
    from guard.config import load_config
    from guard.errors import ConfigError

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
    for line in start_up_lines(settings):
        typer.echo(line, err=True)
    from guard.logs import configure_logging

    configure_logging(settings.logging)  # this process's own lines; each serving process sets itself up (own_process)
    run(settings)


def start_up_lines(settings: GuardConfig) -> list[str]:
    """What the server will do, one fact a line; ``warning:`` lines for what a user most likely did not mean."""
    from guard.adapters.server.completions import served_models
    from guard.adapters.server.embeddings import served_embedding_models
    from guard.kb import KnowledgeBase, location
    from guard.store.engine import display_name, sqlite_file

    server = settings.server
    lines = [f"guard serve: listening on http://{server.host}:{server.port}/v1 "
             f"({server.workers} worker{'s' if server.workers > 1 else ''})",
             f"  chat models: {', '.join(served_models(settings))}",
             f"  embedding models: {', '.join(served_embedding_models(settings))}",
             f"  store: {display_name(settings.telemetry.database)}"]
    kb = settings.knowledge_base
    if not settings.grounding.enabled:
        lines.append("  knowledge base: grounding disabled")
    elif (counts := KnowledgeBase.counts_at(kb)) is not None:
        lines.append(f"  knowledge base: {location(kb)} ({counts[0]} files, {counts[1]} chunks)")
    else:
        named = bool({"path", "backend"} & kb.model_fields_set)
        lines.append(f"  {'warning: ' if named else ''}knowledge base: none at {location(kb)}; answers are not grounded "
                     f"(their grounding layer says skipped). Build it: guard kb add DOCS")
    waits = "the store answers" + (" and the models are warmed up (server.warm_up)" if server.warm_up else "")
    lines.append(f"  /readyz: 200 once {waits}; /healthz: 200 while the process runs")
    if server.workers > 1 and sqlite_file(settings.telemetry.database) is not None:
        lines.append(f"  warning: {server.workers} workers share one SQLite file: writes wait for each other's "
                     "locks; for several workers set telemetry.database to a postgresql:// URL")
    return lines


def run(settings: GuardConfig) -> None:
    """Run uvicorn until it is told to stop."""
    import uvicorn

    server = settings.server
    options = dict(host=server.host, port=server.port, access_log=False, log_level=settings.logging.level,
                   timeout_graceful_shutdown=server.graceful_timeout_s, server_header=False,
                   forwarded_allow_ips=server.forwarded_allow_ips)  # the same proxies as the app believes
    if server.workers > 1:
        # Each worker counts its own requests; prometheus_client's multiprocess mode keeps the counts in files
        # of one directory per run, and /metrics in any worker sums them. The workers read the variable at start.
        metrics_dir = tempfile.mkdtemp(prefix="guard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        try:
            uvicorn.run("guard.adapters.server.app:app_from_env", factory=True, workers=server.workers,
                        timeout_worker_healthcheck=server.worker_healthcheck_s, **options)
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        return
    from guard.adapters.server.app import served_app  # models and indexes load in the warm-up, once serving

    uvicorn.run(served_app(settings), **options)
