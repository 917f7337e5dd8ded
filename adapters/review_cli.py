"""``guard review``: work the human review queue from a terminal.

``list`` shows what waits (held answers first), ``show`` everything a reviewer
needs to judge one item, and ``approve`` / ``edit`` / ``reject`` decide it. A
decision on a held answer goes to the app through the store's outbox (posted now when a webhook is
configured and reachable, else by the next guard that drains the outbox).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional

import typer

if TYPE_CHECKING:
    from guard.config import GuardConfig
    from guard.store import Decision, ReviewItem, Store

review_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)
ConfigOption = typer.Option(None, "--config", "-c", help="guard.yaml to read (default: ./guard.yaml when present).")
DatabaseOption = typer.Option(None, "--database", help="Store path or URL; default: telemetry.database of the config.")
ReviewerOption = typer.Option(None, "--reviewer", help="Who decides (default: the login name).")
# Choices: a value outside them is an error listing them, never an empty table.
Status = Literal["pending", "approved", "edited", "rejected", "expired"]
Tier = Literal["high", "medium", "low"]
Policy = Literal["flag", "block"]


def _console() -> Any:
    from rich.console import Console  # here: help must not pay for rich

    return Console()


def _config(config_path: Optional[Path]) -> GuardConfig:
    from guard.config import load_config
    from guard.errors import ConfigError

    try:
        return load_config(config_path)
    except ConfigError as exc:
        _console().print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@contextmanager
def _store(config: GuardConfig, database: Optional[str], *, read_only: bool = False) -> Iterator[Store]:
    """The configured store; a read-only command names it and never creates it."""
    from guard.adapters.stores import open_recorded_store
    from guard.errors import StoreUnavailable
    from guard.store import open_store
    from guard.store.engine import display_name

    database = database or config.telemetry.database
    try:
        if read_only:
            store = open_recorded_store(database, busy_timeout_s=config.telemetry.busy_timeout_s)
            typer.echo(f"store: {display_name(database)}", err=True)
        else:
            store = open_store(database, busy_timeout_s=config.telemetry.busy_timeout_s)
    except StoreUnavailable as exc:
        _console().print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    try:
        yield store
    except StoreUnavailable as exc:
        _console().print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        store.close()


@review_app.command("list")
def list_items(
    status: Status = typer.Option("pending", help="Items in this state."),
    tier: Optional[Tier] = typer.Option(None, help="Only this tier."),
    policy: Optional[Policy] = typer.Option(None, help="Only this policy."),
    limit: int = typer.Option(50, min=1),
    config: Optional[Path] = ConfigOption, database: Optional[str] = DatabaseOption,
) -> None:
    """Review items, held (block) answers first, then oldest first."""
    from rich.table import Column, Table

    table = Table(Column("id", no_wrap=True), "policy", "tier", "confidence", "age", "question", "draft")
    with _store(_config(config), database, read_only=True) as store:
        items = store.list_reviews(status=status, tier=tier, policy=policy, limit=limit)
    for item in items:
        conf = "-" if item.confidence is None else f"{item.confidence:.2f}"
        table.add_row(item.id, item.policy + (" (audit)" if item.audit else ""), item.tier, conf, item.created_at.strftime("%Y-%m-%d %H:%M"),
                      (item.question or "")[:60], item.draft[:80])
    _console().print(table)


@review_app.command("show")
def show(review_id: str, config: Optional[Path] = ConfigOption, database: Optional[str] = DatabaseOption) -> None:
    """The question, the whole draft, its sources and the claims they do not support."""
    with _store(_config(config), database, read_only=True) as store:
        item = store.get_review(review_id)
    if item is None:
        _console().print(f"[red]no review {review_id!r}[/red]")
        raise typer.Exit(1)
    _print_item(item)


def _print_item(item: ReviewItem) -> None:
    from rich.panel import Panel

    console = _console()
    conf = "-" if item.confidence is None else f"{item.confidence:.2f}"
    console.print(f"[bold]{item.id}[/bold]  request {item.request_id}  {item.policy}  tier {item.tier}  "
                  f"confidence {conf}  status {item.status}")
    if item.audit:
        console.print("audit sample: an unflagged answer drawn at random (review.audit_fraction) so the health report "
                      "can count what guard misses; it was delivered, nobody waits on it")
    if item.status != "pending":
        console.print(f"decided by {item.reviewer or '-'} at {item.decided_at}: {item.reason or ''}")
    console.print(Panel(item.question or "(no question)", title="question", title_align="left"))
    console.print(Panel(item.draft, title="draft", title_align="left"))
    if item.final_text is not None:
        console.print(Panel(item.final_text, title="final text", title_align="left"))
    unsupported = item.context.get("unsupported") or []
    console.print("[bold]unsupported claims[/bold]" if unsupported else "[bold]unsupported claims:[/bold] none")
    for claim in unsupported:
        console.print(f"  - {claim.get('text')}  (support {claim.get('score', 0):.2f})")
    sources = item.context.get("sources") or []
    console.print("[bold]sources[/bold]" if sources else "[bold]sources:[/bold] none")
    for number, source in enumerate(sources, 1):
        title = f"[{number}] {source.get('title') or ''} ({source.get('id')})"
        console.print(Panel(source.get("text") or "", title=title, title_align="left"))
    signals = item.context.get("signals") or {}
    if signals:
        console.print("signals: " + ", ".join(f"{k} {v:.2f}" for k, v in signals.items()))


def _decide(review_id: str, decision: Decision, config_path: Optional[Path], database: Optional[str],
            reviewer: Optional[str], final_text: Optional[str] = None, reason: Optional[str] = None) -> None:
    import getpass

    from guard.errors import AlreadyDecided, ReviewNotFound
    from guard.pii import Redactor
    from guard.review import record_decision
    from guard.webhook import WebhookSender

    console = _console()
    config = _config(config_path)
    with _store(config, database) as store:
        webhook = WebhookSender(config, store)
        try:
            item = record_decision(store, webhook, review_id, decision, reviewer=reviewer or getpass.getuser(),
                                   final_text=final_text, reason=reason, redactor=Redactor(config))
        except (ReviewNotFound, AlreadyDecided) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        finally:
            webhook.close()  # a CLI exits right away: try to deliver first (else a server delivers it later)
    console.print(f"{item.id}: {item.status} by {item.reviewer}")


@review_app.command("approve")
def approve(review_id: str, reviewer: Optional[str] = ReviewerOption, config: Optional[Path] = ConfigOption,
            database: Optional[str] = DatabaseOption) -> None:
    """The draft is right as it is; a held answer can now be delivered."""
    _decide(review_id, "approved", config, database, reviewer)


@review_app.command("edit")
def edit(review_id: str,
         final_text: str = typer.Option(..., "--final-text", help="The answer as corrected; it replaces the draft."),
         reviewer: Optional[str] = ReviewerOption, config: Optional[Path] = ConfigOption,
         database: Optional[str] = DatabaseOption) -> None:
    """Approve with corrections; counts as an edit in the edit rate."""
    _decide(review_id, "edited", config, database, reviewer, final_text=final_text)


@review_app.command("reject")
def reject(review_id: str, reason: str = typer.Option(..., "--reason", help="Why the draft must not be sent."),
           reviewer: Optional[str] = ReviewerOption, config: Optional[Path] = ConfigOption,
           database: Optional[str] = DatabaseOption) -> None:
    """The draft must not be sent; kept as a 'hallucinated' label for calibration."""
    _decide(review_id, "rejected", config, database, reviewer, reason=reason)
