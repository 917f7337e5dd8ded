"""The review console: web pages where people work the review queue and see the product's health.

``create_app`` mounts ``console_routes`` at ``/console``. Only admin keys open
it (a login form sets a signed session cookie); app API keys do not.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from guard.config import GuardConfig
from guard.pipeline import Guard

from guard.adapters.server.console.session import Sessions
from guard.adapters.server.console.views import Console


def console_routes(guard: Guard, config: GuardConfig) -> list[BaseRoute]:
    """The console's routes, relative to where they are mounted."""
    secret = config.server.console_secret
    # Without server.console_secret, a per-process secret: each worker (and each restart) has its own sessions.
    console = Console(guard, config, Sessions(config.server, secret.get_secret_value() if secret else None))
    return [
        Route("/", console.queue, methods=["GET"], name="console_queue"),
        Route("/login", console.login_form, methods=["GET"], name="console_login_form"),
        Route("/login", console.login, methods=["POST"], name="console_login"),
        Route("/logout", console.logout, methods=["POST"], name="console_logout"),
        Route("/items/{review_id}", console.item, methods=["GET"], name="console_item"),
        Route("/items/{review_id}", console.decide, methods=["POST"], name="console_decide"),
        Route("/health", console.health, methods=["GET"], name="console_health"),
        Route("/experiments", console.experiments, methods=["GET"], name="console_experiments"),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="console_static"),
    ]

