"""guard, end to end and offline: questions about a sample product, answered by the embedded model.

    python examples/demo.py

No API key and no network. The support docs of "Lumen" (a fictional smart desk
lamp, examples/kb) are indexed into .guard/kb (incrementally: a re-run only
re-reads changed files), then the embedded SmolLM2-135M answers a few questions
through ``guard.Client``. Each answer comes back with its confidence, its tier
and the tier's treatment, the layers that ran, and whether it went to a human.
The model is tiny and often wrong on purpose: it gives the defenses work to do.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the embedding model loads offline; no bar needed

from guard import Client, GuardConfig, GuardedChatCompletion, GuardMetadata, load_config  # noqa: E402
from guard.kb import KnowledgeBase  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent
ROOT = EXAMPLES.parent
CONFIG_FILE = EXAMPLES / "guard.yaml"
KB_SOURCES = EXAMPLES / "kb"
MAX_TOKENS = 80
SEED = 7  # the same answers on every run
ICONS = {"check_circle": "✔", "info": "ℹ", "warning": "⚠"}
# Config overrides by name; at high risk, anything short of the high tier waits for a person.
SETTINGS: dict[str, dict] = {
    "default": {},
    "high risk": {"product": {"risk": "high"}, "review": {"tiers": ["low", "medium"]}},
}


@dataclass(frozen=True)
class Question:
    text: str
    shows: str  # what the question demonstrates
    settings: str = "default"  # which entry of SETTINGS answers it


QUESTIONS = [
    Question("How many days after delivery can I return a Lumen lamp for a full refund?", "a policy fact"),
    Question("My lamp's ring is blinking amber and the app shows error E-142. What should I do?", "an exact error code"),
    Question("How much does Lumen Plus cost per month, and what did it cost before March 2025?", "prices and dates"),
    Question("How long is the warranty on the Lumen Arc Pro, SKU LUM-P2-GRY?", "a SKU"),
    Question("Can I pay for my order with PayPal?", "an answer the docs do not have"),
    Question("I cancelled my yearly Lumen Plus plan 20 days after I was charged. Will I get my money back?",
             "high risk: money at stake, so a person checks it", settings="high risk"),
]


def demo_config(overrides: dict) -> GuardConfig:
    """The example config plus ``overrides``, with its relative paths anchored at the repository root."""
    config = load_config(CONFIG_FILE, **overrides)
    if not config.knowledge_base.path.is_absolute():
        config.knowledge_base.path = ROOT / config.knowledge_base.path
    if config.telemetry.database != ":memory:" and not Path(config.telemetry.database).is_absolute():
        config.telemetry.database = str(ROOT / config.telemetry.database)
    return config


def build_knowledge_base(config: GuardConfig, console: Console) -> None:
    with console.status(f"Indexing {KB_SOURCES.relative_to(ROOT)} into {config.knowledge_base.path} ..."):
        kb = KnowledgeBase.open(config.knowledge_base)
        try:
            report = kb.add([KB_SOURCES])
            stats = kb.stats()
            kb.search("lamp")  # loads the embedding model now, so the first answer's latency is its own
        finally:
            kb.close()
    console.print(f"[bold]Knowledge base[/] {stats.files} files, {stats.chunks} chunks "
                  f"(added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}) "
                  f"in {report.seconds:.1f} s\n")


def ask(client: Client, config: GuardConfig, question: Question) -> tuple[GuardedChatCompletion, str | None]:
    """The guarded answer and, when it was held for review, the draft the reviewer sees."""
    reply = client.chat.completions.create(
        model=config.models.default, messages=[{"role": "user", "content": question.text}],
        max_tokens=MAX_TOKENS, temperature=0.2, seed=SEED)
    review = reply.guard.review
    held = review.policy == "block" and review.required and review.id is not None
    draft = client.guard.store.get_review(review.id).draft if held else None
    return reply, draft


def render(number: int, question: Question, config: GuardConfig, reply: GuardedChatCompletion,
           draft: str | None) -> Panel:
    meta = reply.guard
    answer = Text(reply.choices[0].message.content or "", style="bold")
    parts: list = [Text(f"Q: {question.text}", style="italic"), Text(""), answer]
    if draft is not None:
        parts += [Text(""), Text("Draft held for the reviewer: ", style="dim") + Text(draft, style="dim italic")]
    if meta.ux.disclaimer:
        parts += [Text(""), Text(f"{ICONS.get(meta.ux.icon, '•')} {meta.ux.disclaimer}", style=meta.ux.border_color)]
    parts += [Text(""), details(meta)]
    confidence = "n/a" if meta.confidence is None else f"{meta.confidence:.2f}"
    title = f"[bold]{number}. {question.shows}[/]  (risk: {config.product.risk.value})"
    subtitle = f"{ICONS.get(meta.ux.icon, '•')} tier {meta.tier} · confidence {confidence}"
    return Panel(Group(*parts), title=title, title_align="left", subtitle=subtitle, subtitle_align="right",
                 border_style=meta.ux.border_color, padding=(1, 2))


def details(meta: GuardMetadata) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    table.add_row("signals", " · ".join(f"{k} {v:.2f}" for k, v in meta.signals.items()) or "none yet")
    table.add_row("citations", "\n".join(_citation(c) for c in meta.citations) or "none")
    table.add_row("unsupported", "\n".join(f"“{u.text}” ({u.score:.2f})" for u in meta.unsupported) or "none found")
    table.add_row("layers", "\n".join(
        f"{name}: {r.status}" + (f" ({r.reason})" if r.reason else f", {r.ms:.0f} ms")
        for name, r in meta.layers.items()))
    table.add_row("review", _review(meta))
    u = meta.usage
    cost = "unknown" if u.cost_usd is None else f"${u.cost_usd:.4f}"
    table.add_row("usage", f"{u.latency_ms.total / 1000:.1f} s (model {u.latency_ms.model / 1000:.1f} s) · "
                           f"{u.prompt_tokens} + {u.completion_tokens} tokens · {cost}")
    return table


def _citation(c) -> str:
    verdict = {True: "supports", False: "does not support", None: "not checked"}[c.supports]
    target = f"{c.source_id} ({c.title})" if c.valid else "no such source"
    return f"{c.marker} → {target}: {verdict}"


def _review(meta: GuardMetadata) -> str:
    review = meta.review
    if not review.required:
        return "not required"
    action = "answer held until a person approves it" if review.policy == "block" else "answered, and flagged"
    return f"{action} → review {review.id} ({review.status})"


def summary(rows: list[tuple[Question, GuardMetadata]], seconds: float) -> Table:
    table = Table(title=f"{len(rows)} guarded answers in {seconds:.0f} s", title_justify="left")
    for column in ("#", "shows", "tier", "confidence", "review"):
        table.add_column(column)
    for number, (question, meta) in enumerate(rows, 1):
        confidence = "n/a" if meta.confidence is None else f"{meta.confidence:.2f}"
        review = f"{meta.review.policy} {meta.review.id}" if meta.review.required else "—"
        table.add_row(str(number), question.shows, Text(meta.tier, style=meta.ux.border_color), confidence, review)
    return table


def main() -> None:
    console = Console()
    console.rule("[bold]guard demo[/]: Lumen support, answered offline by local/smollm2")
    configs = {name: demo_config(overrides) for name, overrides in SETTINGS.items()}
    build_knowledge_base(configs["default"], console)
    clients = {name: Client(config) for name, config in configs.items()}
    started = time.perf_counter()
    rows = []
    try:
        for number, question in enumerate(QUESTIONS, 1):
            with console.status(f"Question {number} of {len(QUESTIONS)} ..."):
                reply, draft = ask(clients[question.settings], configs[question.settings], question)
            console.print(render(number, question, configs[question.settings], reply, draft))
            rows.append((question, reply.guard))
    finally:
        for client in clients.values():
            client.close()
    console.print(summary(rows, time.perf_counter() - started))
    store = Path(configs["default"].telemetry.database)
    shown = store.relative_to(Path.cwd()) if store.is_relative_to(Path.cwd()) else store
    console.print(f"\nRecords and pending reviews are in {shown}. From this folder (guard is .venv/bin/guard; "
                  "`source .venv/bin/activate` puts it on PATH):")
    for command in ("guard review list", "guard review show REVIEW_ID", "guard report --since 1d"):
        console.print(f"  {command}" if shown == Path(".guard/guard.db") else f"  {command} --database {store}",
                      highlight=False)


if __name__ == "__main__":
    main()
