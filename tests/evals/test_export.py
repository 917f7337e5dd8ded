"""Reviewed answers become eval data: ``guard eval export --from-reviews`` writes suites ``guard eval run`` runs as is."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from typer.testing import CliRunner

from guard.adapters.cli import app
from guard.store import ReviewItem, open_store
from tests.support.fake_upstream import Reply

runner = CliRunner()
REFUNDS = {"id": "refund_policy.md#c0", "title": "Refund policy",
           "text": "Items can be returned within 30 days of delivery. Refunds reach the card in 5 business days."}
WARRANTY = {"id": "warranty.md#c0", "title": "Warranty", "text": "The Lumen lamp has a two-year warranty."}


def _item(store, n: int, question: str, draft: str, sources: list[dict], decision: str | None,
          final_text: str | None = None, reason: str | None = None, age_h: float = 1.0) -> None:
    store.submit_review(ReviewItem(id=f"rv_{n}", request_id=f"gr_{n}", policy="flag", tier="low", question=question,
                                   created_at=datetime.now(timezone.utc) - timedelta(hours=age_h), draft=draft,
                                   context={"sources": sources}))
    if decision:
        store.decide_review(f"rv_{n}", decision, reviewer="ana", final_text=final_text, reason=reason)


@pytest.fixture
def exported(tmp_path, upstream):
    config = tmp_path / "guard.yaml"
    config.write_text(yaml.safe_dump({
        "product": {"name": "lumen", "pii_handling": "redact"},
        "models": {"default": "openai/fake-model", "max_attempts": 1},
        "telemetry": {"database": str(tmp_path / "guard.db")}, "support": {"verifier": "offline"}}))
    store = open_store(str(tmp_path / "guard.db"))
    _item(store, 1, "How long do refunds take?", "Refunds reach the card in 5 business days [1].", [REFUNDS],
          "approved", age_h=2)
    _item(store, 2, "How long do refunds take ?", "Refunds take 5 days.", [REFUNDS], "approved", age_h=1)
    _item(store, 3, "How long is the warranty? Mail me at ana@example.com",
          "The warranty lasts ninety days and covers water damage.", [WARRANTY],
          "edited", final_text="The Lumen lamp has a two-year warranty [1].")
    _item(store, 4, "Can I return a used lamp?", "Yes, any lamp can be returned at any time.", [REFUNDS],
          "rejected", reason="wrong")
    _item(store, 5, "Is it dimmable?", "Yes.", [WARRANTY], None)  # still pending: no label, no reference
    store.close()
    out = tmp_path / "suites"
    result = runner.invoke(app, ["eval", "export", "--from-reviews", "--since", "7d", "--out", str(out),
                                 "-c", str(config)])
    assert result.exit_code == 0, result.output
    upstream.script["fake-model"] = [Reply(text="Refunds reach the card in 5 business days [1].")]
    return out, config


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_generation_suite_holds_each_question_once_with_the_answer_people_approved_or_wrote(exported):
    out, _ = exported
    rows = {r["question"]: r for r in _rows(out / "data" / "generation.jsonl")}
    assert len(rows) == 2  # the rejected draft has no reference; the repeated question counts once
    assert rows["How long do refunds take ?"]["reference_answer"] == "Refunds take 5 days."  # newest decision
    warranty = next(r for q, r in rows.items() if q.startswith("How long is the warranty"))
    assert warranty["reference_answer"] == "The Lumen lamp has a two-year warranty [1]."
    assert "ana@example.com" not in warranty["question"]
    assert (out / "documents" / warranty["expected_sources"][0]).read_text().endswith(WARRANTY["text"] + "\n")


def test_the_detection_suite_labels_drafts_as_guard_labels_reads_the_decisions(exported):
    out, _ = exported
    labels = {r["response"]: r["label"] for r in _rows(out / "data" / "detection.jsonl")}
    assert labels == {
        "Refunds take 5 days.": "faithful",
        "Refunds reach the card in 5 business days [1].": "faithful",
        "The warranty lasts ninety days and covers water damage.": "hallucinated",  # rewritten by the reviewer
        "Yes, any lamp can be returned at any time.": "hallucinated",
    }


@pytest.mark.parametrize("suite", ["generation.yaml", "detection.yaml"])
def test_guard_eval_run_accepts_the_exported_suite_as_it_is(exported, suite, tmp_path):
    out, config = exported
    report = tmp_path / f"{suite}.report.json"
    result = runner.invoke(app, ["eval", "run", str(out / suite), "--config", str(config), "--report", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["metrics"]["items_scored"] == len(_rows(out / "data" / suite.replace(".yaml", ".jsonl")))
    assert data["metrics"]["error_rate"] == 0
