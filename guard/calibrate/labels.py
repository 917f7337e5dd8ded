"""Labelled answers to calibrate on: a file in the detection suites' row format, or the store's verdicts.

A label needs the answer, the sources it was checked against and (for verifiers that read it) the
question, so the answer can be scored again by the configured verifier. The store keeps sources only
with review items, so:

- a decided review item gives a label by ``guard.labels.review_label`` (approved, rejected, edited by
  how much changed);
- feedback gives one by ``guard.labels.feedback_label`` when its answer was also queued for review
  (the item holds the sources) and that item was not decided: a reviewer's decision is the better
  label, so it wins. Feedback on an answer never queued has no stored sources and is counted as skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from guard.labels import feedback_label, review_label
from guard.store import ReviewItem, Store, utcnow

DECIDED = ("approved", "edited", "rejected")


@dataclass(frozen=True)
class LabelledAnswer:
    response: str
    sources: tuple[str, ...]
    faithful: bool
    question: str | None = None
    origin: str = "file"  # "file", "review" or "feedback"


def from_file(path: Path) -> list[LabelledAnswer]:
    """Rows with ``sources`` (texts), ``response``, ``label`` (faithful / hallucinated) and an optional ``question``."""
    rows = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            sources = [row["sources"]] if isinstance(row["sources"], str) else list(row["sources"])
            label, response = row["label"], row["response"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: a row needs sources, response and label ({exc})") from None
        if label not in ("faithful", "hallucinated") or not isinstance(response, str):
            raise ValueError(f"{path}:{number}: label must be 'faithful' or 'hallucinated', response a string")
        rows.append(LabelledAnswer(response=response, sources=tuple(str(s) for s in sources),
                                   faithful=label == "faithful", question=row.get("question")))
    return rows


def from_store(store: Store, since: datetime) -> tuple[list[LabelledAnswer], Counter[str]]:
    """Labels from reviews and feedback on answers given since ``since``, and why others were left out."""
    now = utcnow()
    skipped: Counter[str] = Counter()
    items = {item.request_id: item for item in store.reviews_between(since, now)}
    rows: list[LabelledAnswer] = []
    labelled: set[str] = set()
    for item in items.values():
        if item.status not in DECIDED:
            continue
        label = review_label(item.status, item.draft, item.final_text)
        if label is None:
            skipped["review edited by neither a little nor a lot"] += 1
            continue
        rows.append(_labelled(item, label == "faithful", "review"))
        labelled.add(item.request_id)
    for feedback in store.feedback_between(since, now):
        item = items.get(feedback.request_id)
        if feedback.request_id in labelled:
            continue  # the reviewer's decision speaks for it
        if item is None:
            skipped["feedback on an answer never queued for review (no stored sources)"] += 1
            continue
        label = feedback_label(item.draft, feedback.rating, feedback.final_text)
        if label is None:
            skipped["feedback that says neither faithful nor hallucinated"] += 1
            continue
        rows.append(_labelled(item, label == "faithful", "feedback"))
    without_sources = [r for r in rows if not r.sources]
    skipped["label without stored sources"] += len(without_sources)
    return [r for r in rows if r.sources], +skipped


def _labelled(item: ReviewItem, faithful: bool, origin: str) -> LabelledAnswer:
    sources = tuple(s.get("text") or "" for s in item.context.get("sources", []) if (s.get("text") or "").strip())
    return LabelledAnswer(response=item.draft, sources=sources, faithful=faithful, question=item.question,
                          origin=origin)
