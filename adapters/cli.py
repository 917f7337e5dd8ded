"""The ``guard`` command: ``guard kb ...``, ``guard eval ...`` and ``guard review ...``."""

from __future__ import annotations

import os

# The command owns its process, unlike the library: use litellm's bundled price map instead of fetching it on start.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import typer  # noqa: E402

from guard.adapters.eval_export_cli import export  # noqa: E402
from guard.adapters.experiment_cli import experiment_app  # noqa: E402
from guard.adapters.kb_cli import kb_app  # noqa: E402
from guard.adapters.report_cli import report  # noqa: E402
from guard.adapters.review_cli import review_app  # noqa: E402
from guard.adapters.serve_cli import serve  # noqa: E402
from guard.adapters.spec_cli import spec  # noqa: E402
from guard.evals.cli import eval_app  # noqa: E402

app = typer.Typer(help="guard: quality and guardrail middleware for LLM applications.", no_args_is_help=True)
app.add_typer(kb_app, name="kb", help="Build and inspect the knowledge base answers are grounded in.")
eval_app.command("export", help="Reviewed answers as eval suites (generation and detection).")(export)
app.add_typer(eval_app, name="eval", help="Run eval suites, gate releases, compare runs.")
app.add_typer(review_app, name="review", help="Work the queue of answers routed to a human reviewer.")
app.add_typer(experiment_app, name="experiment", help="A/B tests on live traffic: start, pause, end, report.")
app.command("report", help="The product health report: quality, usage, impact, by tier, with drift.")(report)
app.command("spec", help="The product spec checked and explained; model and capacity advice from the records.")(spec)
app.command("serve", help="Serve the OpenAI-compatible proxy (point an OpenAI SDK's base_url at it).")(serve)
