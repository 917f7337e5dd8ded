"""The ``guard`` command: ``guard init``, ``guard kb ...``, ``guard serve``, ``guard eval ...``, ``guard review ...``,
``guard report``, ``guard purge``.

Help must come back at once (``guard --help`` in well under a second), so the command modules import only
typer at the top; litellm, the models and the store load in the body of the command that needs them.
"""

from __future__ import annotations

import os

# The command owns its process, unlike the library: use litellm's bundled price map instead of fetching it on start,
# and let idle OpenMP workers of the embedded model (llama.cpp) sleep instead of spinning: on a busy 2-core machine
# spinning made prompt evaluation ~20x slower. A library host sets OMP_WAIT_POLICY itself if it wants it.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from typing import Annotated  # noqa: E402

import typer  # noqa: E402

from guard.adapters.calibrate_cli import calibrate_command  # noqa: E402
from guard.adapters.eval_export_cli import export  # noqa: E402
from guard.adapters.experiment_cli import experiment_app  # noqa: E402
from guard.adapters.init_cli import init  # noqa: E402
from guard.adapters.kb_cli import kb_app  # noqa: E402
from guard.adapters.purge_cli import purge  # noqa: E402
from guard.adapters.report_cli import report  # noqa: E402
from guard.adapters.review_cli import review_app  # noqa: E402
from guard.adapters.serve_cli import serve  # noqa: E402
from guard.adapters.spec_cli import spec  # noqa: E402
from guard.evals.cli import eval_app  # noqa: E402

# Plain help (rich_markup_mode=None): flags read as flags (`--json`, not `--json <bool>`), and no rich import.
app = typer.Typer(help="guard: quality and guardrail middleware for LLM applications.", no_args_is_help=True,
                  rich_markup_mode=None)
app.command("init", help="Write a commented guard.yaml with every default, to edit.")(init)
app.add_typer(kb_app, name="kb", help="Build and inspect the knowledge base answers are grounded in.")
app.command("serve", help="Serve the OpenAI-compatible proxy (point an OpenAI SDK's base_url at it).")(serve)
app.add_typer(review_app, name="review", help="Work the queue of answers routed to a human reviewer.")
app.command("report", help="The product health report: quality, usage, impact, by tier, with drift.")(report)
eval_app.command("export", help="Reviewed answers as eval suites (generation and detection).")(export)
app.add_typer(eval_app, name="eval", help="Run eval suites, gate releases, compare runs.")
app.add_typer(experiment_app, name="experiment", help="A/B tests on live traffic: start, pause, end, report.")
app.command("spec", help="The product spec checked and explained; model and capacity advice from the records.")(spec)
app.command("calibrate", help="Fit confidence and operating points on your own labels (file or reviews).")(
    calibrate_command)
app.command("purge", help="Delete records and ended review items older than a date.")(purge)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"guard {version('guard-llm')}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the installed version and exit.")] = False) -> None:
    """guard: quality and guardrail middleware for LLM applications."""
