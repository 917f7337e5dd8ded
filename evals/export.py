"""Reviewed answers become eval data: ``guard eval export --from-reviews`` writes two suites ``guard eval run``
accepts as they are.

- A **generation** suite: each reviewed question, the sources it was answered from
  (written as documents, so the suite grounds answers in exactly those), and the
  answer a person approved or wrote as the reference. Rejected drafts give no
  reference: nobody said what the right answer is.
- A **detection** suite: each draft with its sources and its label, as
  ``guard.labels.review_label`` reads the decision (the same definition the
  verifier's calibration uses); decisions that say neither (a middling edit) are left out.

Rows are de-duplicated (the newest decision of a question or a draft wins), and
every text is masked again when ``product.pii_handling`` is ``redact``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from guard.config import GuardConfig
from guard.labels import review_label
from guard.pii import Redactor
from guard.store import ReviewItem, Store

DECIDED = ("approved", "edited", "rejected")


@dataclass(frozen=True)
class Exported:
    generation: Path
    detection: Path
    generation_rows: int
    detection_rows: int
    reviews: int


def export_reviews(store: Store, config: GuardConfig, out: Path, *, since: datetime, until: datetime) -> Exported:
    """Write ``out/generation.yaml`` and ``out/detection.yaml`` (with ``data/`` and ``documents/``) from the reviews
    decided in ``[since, until)``."""
    redactor = Redactor(config)
    items = [i for i in store.reviews_between(since, until) if i.status in DECIDED]
    items.sort(key=lambda i: i.decided_at or i.created_at, reverse=True)  # newest decision first: it wins
    documents = out / "documents"
    generation: dict[str, dict[str, Any]] = {}
    detection: dict[str, dict[str, Any]] = {}
    written: set[str] = set()
    for item in items:
        question = redactor.redact(item.question or "").strip()
        sources = [_source(s, redactor) for s in (item.context or {}).get("sources") or [] if _has_text(s)]
        reference = {"approved": item.draft, "edited": item.final_text}.get(item.status)
        if question and reference and _key(question) not in generation:
            names = [_write_document(documents, s, written) for s in sources]
            generation[_key(question)] = {"id": item.id, "question": question,
                                          "reference_answer": redactor.redact(reference),
                                          "expected_sources": sorted(set(names))}
        label = review_label(item.status, item.draft, item.final_text)
        draft = redactor.redact(item.draft)
        key = _key(draft + "\x00" + "\x00".join(s["text"] for s in sources))
        if label is not None and sources and key not in detection:
            detection[key] = {"id": item.id, "question": question or None, "response": draft,
                              "sources": [s["text"] for s in sources], "label": label}
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    documents.mkdir(parents=True, exist_ok=True)
    _jsonl(data / "generation.jsonl", generation.values())
    _jsonl(data / "detection.jsonl", detection.values())
    window = f"reviews decided {since:%Y-%m-%d} to {until:%Y-%m-%d}"
    product = config.product.name
    gen_file, det_file = out / "generation.yaml", out / "detection.yaml"
    grounded = {"documents": "documents"} if written else {}  # no sources: answers use the config's knowledge base
    _suite(gen_file, {"name": f"{product}-reviewed-answers", "kind": "generation",
                      "description": f"Questions {product}'s reviewers answered ({window}); reference: the approved "
                                     "or edited answer.",
                      "dataset": "data/generation.jsonl", **grounded, "thresholds": {}})
    _suite(det_file, {"name": f"{product}-reviewed-drafts", "kind": "detection",
                      "description": f"Drafts {product}'s reviewers judged ({window}), labelled by guard.labels.",
                      "dataset": "data/detection.jsonl", "thresholds": {}})
    return Exported(gen_file, det_file, len(generation), len(detection), len(items))


def _has_text(source: Any) -> bool:
    return isinstance(source, dict) and isinstance(source.get("text"), str) and bool(source["text"].strip())


def _source(source: dict[str, Any], redactor: Redactor) -> dict[str, str]:
    return {"id": str(source.get("id") or ""), "title": str(source.get("title") or ""),
            "text": redactor.redact(source["text"])}


def _key(text: str) -> str:
    """Case, spacing and punctuation do not make two questions different."""
    return " ".join(re.findall(r"\w+", text.lower()))


def _write_document(folder: Path, source: dict[str, str], written: set[str]) -> str:
    """The source as a Markdown file named after its id (and content, so two texts never share a name)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", source["id"].split("#", 1)[0]).strip("._") or "source"
    digest = hashlib.sha256(source["text"].encode()).hexdigest()[:8]
    name = f"{stem[:60]}-{digest}.md"
    if name not in written:
        folder.mkdir(parents=True, exist_ok=True)
        title = f"# {source['title']}\n\n" if source["title"] else ""
        (folder / name).write_text(title + source["text"] + "\n", encoding="utf-8")
        written.add(name)
    return name


def _jsonl(path: Path, rows: Any) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _suite(path: Path, suite: dict[str, Any]) -> None:
    header = ("# Written by `guard eval export --from-reviews`. Add thresholds before gating releases on it,\n"
              "# e.g. {fact_recall: \">= 0.8\"} or {auroc: \">= 0.75\"}.\n")
    path.write_text(header + yaml.safe_dump(suite, sort_keys=False, allow_unicode=True), encoding="utf-8")
