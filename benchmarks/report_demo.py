"""Demo material for the product health report: a few hundred requests, recorded, then ``guard report``.

Requests go through the real pipeline (grounding in examples/kb, the checks,
confidence, tiers, review routing, the background writer) against a local fake
OpenAI-compatible upstream whose replies vary: cited and supported answers,
half-invented ones, invented ones, and some upstream failures. Simulated users
then rate, edit and resolve answers, and a simulated reviewer decides the
review queue, each more harshly for weaker answers.

Everything is recorded "now"; to give the charts a week to show, the records'
times are then spread over the last seven days (the last day gets more weak
answers, so the drift check has something to find). Prints the terminal
report and writes the HTML page.

    python -m benchmarks.report_demo --requests 300 --html /tmp/report.html
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402

from guard import Guard, ModelCallError, load_config  # noqa: E402
from guard.adapters.cli import app  # noqa: E402
from guard.kb import KnowledgeBase  # noqa: E402
from tests.support.fake_upstream import FakeUpstream, Reply  # noqa: E402

SAMPLE_KB = Path(__file__).resolve().parent.parent / "examples" / "kb"
MODEL = "gpt-4o-mini"  # a name litellm's price map knows, so costs are real figures (see CONFIG)

# question, a grounded answer, a half-invented one, an invented one
CASES = [
    ("How many days after delivery can I return a lamp for a full refund?",
     "You can return any lamp within 30 days of delivery for a full refund [1].",
     "You can return any lamp within 30 days of delivery [1]. Refunds are paid in store credit only.",
     "Returns are accepted for 90 days and we refund twice the price."),
    ("How long is the warranty on the Lumen Arc Pro?",
     "The Lumen Arc Pro is covered for 3 years from delivery [1].",
     "The Lumen Arc Pro is covered for 3 years from delivery [1]. The warranty also covers drops and liquid damage.",
     "The Arc Pro has a lifetime warranty that covers any damage."),
    ("How much does standard shipping cost to Canada?",
     "Standard shipping to Canada costs $9.95, and it is free on orders of $100 or more [1].",
     "Standard shipping to Canada costs $9.95 [1]. Delivery always takes exactly two days.",
     "Shipping to Canada is always free and arrives the next morning."),
    ("When do refunds appear after a return is inspected?",
     "Refunds go back to the original payment method and usually appear within 5-7 business days [1].",
     "Refunds usually appear within 5-7 business days [1]. You also get a 20% voucher for your next order.",
     "Refunds are instant and paid in cash at any store."),
]
CONFIG = """
product: {{name: Lumen support assistant}}
models: {{default: openai/gpt-4o-mini, max_attempts: 1}}
telemetry: {{database: {tmp}/guard.db}}
knowledge_base: {{path: {tmp}/kb}}
review: {{tiers: [low], policy: flag}}
support: {{verifier: offline}}  # the faster verifier: the report is about the records, not the verdicts
logging: {{level: error}}
"""
KINDS = ("good", "plain", "half", "bad")  # cited and supported, supported but uncited, half-invented, invented
MIX = {day: (62, 20, 9, 9) for day in range(6)} | {6: (35, 20, 20, 25)}  # weights per day: the last day drifts
FAIL_SHARE = 0.03


def plan(n: int, rng: random.Random) -> list[tuple[int, int, str]]:
    """(day, case, kind) per request; kind is one of KINDS, or "fail" for an upstream error."""
    rows = []
    for i in range(n):
        day = i * 7 // n
        kind = "fail" if rng.random() < FAIL_SHARE else rng.choices(KINDS, weights=MIX[day])[0]
        rows.append((day, rng.randrange(len(CASES)), kind))
    return rows


def reply_for(case: int, kind: str) -> Reply:
    if kind == "fail":
        return Reply(status=500, error_message="upstream overloaded")
    _, good, half, bad = CASES[case]
    text = {"good": good, "plain": good.replace(" [1]", ""), "half": half, "bad": bad}[kind]
    return Reply(text=text, prompt_tokens=420 + 7 * case, completion_tokens=len(text.split()) * 2)


async def record_all(guard: Guard, upstream: FakeUpstream,
                     rows: list[tuple[int, int, str]]) -> list[tuple[str, int, str]]:
    """Run each request through the pipeline; returns (request id, day, kind) of the recorded ones."""
    done = []
    for i, (day, case, kind) in enumerate(rows):
        upstream.script[MODEL] = [reply_for(case, kind)]
        messages = [{"role": "user", "content": CASES[case][0]}]
        try:
            if i % 5 == 0:  # some streamed
                last = None
                async for chunk in guard.astream(messages, stream_options={"include_usage": True}):
                    last = chunk
                request_id = last.guard.request_id
            else:
                request_id = (await guard.acomplete(messages)).guard.request_id
        except ModelCallError:
            continue  # recorded as a failed call by guard itself
        done.append((request_id, day, kind))
    return done


def react(guard: Guard, done: list[tuple[str, int, str]], rng: random.Random) -> None:
    """Users rate, edit and resolve; a reviewer decides the queue. Weaker answers fare worse, as in life."""
    odds = {"good": (0.92, 0.08, 0.85), "plain": (0.85, 0.2, 0.8), "half": (0.5, 0.5, 0.5),
            "bad": (0.2, 0.8, 0.25)}  # thumbs-up, edited, resolved
    for request_id, _, kind in done:
        up, edited, resolved = odds[kind]
        if rng.random() < 0.6:  # not every user gives feedback
            draft = guard.store.get_request(request_id).answer or ""
            final = draft + " Let us know if anything else is unclear." if rng.random() < edited else draft
            guard.feedback(request_id, rating=1 if rng.random() < up else -1, final_text=final,
                           resolved=rng.random() < resolved)
        item = guard.review_for(request_id)
        if item is not None and rng.random() < 0.8:
            decision = rng.choices(["approved", "edited", "rejected"],
                                   weights={"good": (7, 2, 1), "plain": (5, 3, 2), "half": (3, 4, 3),
                                            "bad": (1, 3, 6)}[kind])[0]
            guard.decide(item.id, decision, reviewer="demo-reviewer",
                         final_text=item.draft + " (checked by support)" if decision == "edited" else None)


def spread_over_week(guard: Guard, done: list[tuple[str, int, str]], until: datetime, rng: random.Random) -> None:
    """Move each record to its planned day of the last week (failed calls to a random day)."""
    day_of = {request_id: day for request_id, day, _ in done}
    records = guard.store.requests_between(until - timedelta(days=1), until + timedelta(hours=1))
    start = until - timedelta(days=7)
    for r in records:
        day = day_of.get(r.request_id, rng.randrange(7))
        r.created_at = start + timedelta(days=day, seconds=rng.randrange(600, 86_000))
    guard.store.write_requests(records)


async def main(requests: int, html: Path, seed: int) -> None:
    rng = random.Random(seed)
    litellm.suppress_debug_info = True  # the scripted upstream failures would each print a help banner
    upstream = FakeUpstream()
    os.environ.update(OPENAI_API_BASE=upstream.base_url, OPENAI_BASE_URL=upstream.base_url, OPENAI_API_KEY="sk-demo")
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp, "guard.yaml")
        config_file.write_text(CONFIG.format(tmp=tmp))
        config = load_config(config_file)
        kb = KnowledgeBase.open(config.knowledge_base)
        kb.add([SAMPLE_KB])
        kb.close()
        guard = Guard(config)
        done = await record_all(guard, upstream, plan(requests, rng))
        guard.writer.flush(timeout=30)
        await asyncio.to_thread(react, guard, done, rng)
        spread_over_week(guard, done, datetime.now(timezone.utc), rng)
        await guard.aclose()
        upstream.close()
        print(f"$ guard report --since 7d --html {html}")
        app(["report", "--since", "7d", "--config", str(config_file), "--html", str(html)], standalone_mode=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--html", type=Path, default=Path("report.html"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.html, args.seed))
