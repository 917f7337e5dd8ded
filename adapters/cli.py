"""The ``guard`` command: ``guard kb ...``, ``guard eval ...`` and ``guard review ...``."""

from __future__ import annotations

import typer

from guard.adapters.kb_cli import kb_app
from guard.adapters.review_cli import review_app
from guard.evals.cli import eval_app

app = typer.Typer(help="guard: quality and guardrail middleware for LLM applications.", no_args_is_help=True)
app.add_typer(kb_app, name="kb", help="Build and inspect the knowledge base answers are grounded in.")
app.add_typer(eval_app, name="eval", help="Run eval suites, gate releases, compare runs.")
app.add_typer(review_app, name="review", help="Work the queue of answers routed to a human reviewer.")
