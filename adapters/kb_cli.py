"""``guard kb``: build and inspect the knowledge base from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from guard.kb import IngestReport, KnowledgeBase

kb_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                     help="Build and inspect the knowledge base answers are grounded in.")


def _console(stderr: bool = False) -> Any:
    from rich.console import Console  # here: help must not pay for rich

    return Console(stderr=stderr)


ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", help="guard.yaml to read (default: ./guard.yaml or GUARD_CONFIG).")]
Paths = Annotated[list[Path], typer.Argument(help="Files or folders.", show_default=False)]


@contextmanager
def _knowledge_base(config_file: Path | None) -> Iterator[KnowledgeBase]:
    """The configured knowledge base; a bad config or knowledge base ends the command with a clear message."""
    from guard.config import load_config
    from guard.errors import ConfigError, KnowledgeBaseError
    from guard.kb import KnowledgeBase

    try:
        kb = KnowledgeBase.open(load_config(config_file).knowledge_base)
        try:
            yield kb
        finally:
            kb.close()
    except (ConfigError, KnowledgeBaseError, ValueError) as exc:
        _console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@kb_app.command()
def add(paths: Paths, config: ConfigOption = None) -> None:
    """Ingest Markdown, text, HTML and JSON Lines files (folders recursively); changed files replace their chunks."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:  # before the knowledge base is opened: a failed add leaves nothing behind
        _console(stderr=True).print(f"[red]error:[/red] {', '.join(missing)}: no such file or folder")
        raise typer.Exit(1)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = _console()
    with _knowledge_base(config) as kb:
        with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task("embedding", total=None)
            report = kb.add(paths, progress=lambda done, total: bar.update(task, completed=done, total=total))
        _print_report(report)


@kb_app.command()
def remove(paths: Paths, config: ConfigOption = None) -> None:
    """Forget the documents at these paths (files or folders; they need not exist any more)."""
    with _knowledge_base(config) as kb:
        report = kb.remove(paths)
    errors = _console(stderr=True)
    for path in report.not_found:
        errors.print(f"[yellow]not in the knowledge base:[/yellow] {path}")
    _print_report(report)


@kb_app.command()
def search(query: Annotated[str, typer.Argument(help="What to look for.")],
           k: Annotated[int, typer.Option("-k", "--top-k", min=1, max=100, help="How many chunks to show.")] = 5,
           config: ConfigOption = None) -> None:
    """Show the chunks hybrid retrieval finds for a query, with their scores."""
    from rich.table import Table

    console = _console()
    with _knowledge_base(config) as kb:
        hits = sorted(kb.search(query, k=k), key=lambda hit: -hit.relevance)  # the rows read in the order shown
    if not hits:
        console.print("no chunks found")
        return
    table = Table()
    table.add_column("#", justify="right")
    table.add_column("chunk", no_wrap=True)
    for name in ("relevance", "dense", "bm25"):
        table.add_column(name, justify="right")
    table.add_column("section")
    table.add_column("text", ratio=1)
    for n, hit in enumerate(hits, 1):
        text = " ".join(hit.chunk.text.split())
        table.add_row(str(n), hit.chunk.id, f"{hit.relevance:.3f}", f"{hit.dense:.3f}",
                      "-" if hit.lexical is None else f"{hit.lexical:.2f}", hit.chunk.section,
                      text if len(text) <= 160 else text[:157] + "...")
    console.print(table)


@kb_app.command()
def migrate(source: Annotated[str, typer.Option("--from", help="local or postgres.")],
            target: Annotated[str, typer.Option("--to", help="local or postgres.")],
            config: ConfigOption = None) -> None:
    """Copy the knowledge base from one backend to the other with its vectors, without re-embedding.

    Both come from the config's knowledge_base section: path (local), database and name (postgres).
    Documents already copied are skipped, so an interrupted copy is finished by running it again.
    """
    from pydantic import ValidationError

    from guard.config import KnowledgeBaseConfig, load_config
    from guard.errors import ConfigError, KnowledgeBaseError
    from guard.kb import KnowledgeBase, location

    if {source, target} != {"local", "postgres"}:
        _console(stderr=True).print("[red]error:[/red] --from and --to are local and postgres, one each")
        raise typer.Exit(1)
    try:
        settings = load_config(config).knowledge_base
        try:
            ends = [KnowledgeBaseConfig.model_validate({**settings.model_dump(), "backend": name})
                    for name in (source, target)]
        except ValidationError as exc:  # backend postgres without a database
            raise ConfigError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        origin = KnowledgeBase.open(ends[0])
        try:
            destination = KnowledgeBase.open(ends[1])
            try:
                copied = destination.copy_from(origin)
                files, chunks = destination.backend.counts()
            finally:
                destination.close()
        finally:
            origin.close()
    except (ConfigError, KnowledgeBaseError, ValueError) as exc:
        _console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    _console().print(f"copied {copied} files from {location(ends[0])} to {location(ends[1])}; "
                     f"it holds {files} files, {chunks} chunks")


@kb_app.command()
def stats(config: ConfigOption = None) -> None:
    """Files, chunks, index type and size of the knowledge base."""
    from rich.table import Table

    with _knowledge_base(config) as kb:
        figures = kb.stats()
    table = Table(show_header=False)
    table.add_column()
    table.add_column(overflow="fold")  # a database URL is long: shown whole
    for name, value in [("path", figures.path), ("files", figures.files), ("chunks", figures.chunks),
                        ("index", figures.index), ("indexed vectors", figures.indexed_vectors),
                        ("embedding model", figures.embedding_model), ("dimensions", figures.dim or "-"),
                        ("generation", figures.generation), ("size on disk", _size(figures.bytes_on_disk))]:
        table.add_row(name, str(value))
    _console().print(table)


def _print_report(report: IngestReport) -> None:
    console = _console()
    console.print(f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
                  f"removed {len(report.removed)} files; {report.chunks_added} chunks added, "
                  f"{report.chunks_removed} removed in {report.seconds:.1f} s")
    if report.skipped:
        console.print(f"skipped {len(report.skipped)} files of unsupported types (e.g. {report.skipped[0]})")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
