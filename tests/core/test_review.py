"""Low-confidence answers wait in a durable queue; a reviewer's decision becomes a label."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from guard.adapters.review_cli import review_app
from guard.review import ReviewQueue
from guard.sqlite import Database


def submit(queue: ReviewQueue, draft: str = "Refunds take 90 days.") -> str:
    review = queue.submit(request_id="gr_1", policy="flag", tier="low", confidence=0.3, question="Refunds?",
                          draft=draft, context={"signals": {"support": 0.2}})
    return review.id


def test_a_pending_review_survives_a_restart(tmp_path):
    review_id = submit(ReviewQueue(Database(tmp_path / "g.db")))

    reopened = ReviewQueue(Database(tmp_path / "g.db"))

    assert [item.id for item in reopened.pending()] == [review_id]


def test_a_decision_becomes_a_calibration_label(tmp_path):
    queue = ReviewQueue(Database(tmp_path / "g.db"))
    approved, rejected = submit(queue, "right"), submit(queue, "wrong")

    queue.decide(approved, "approved", final_text="right, edited", reviewer="ana")
    queue.decide(rejected, "rejected")

    assert sorted(label for _, label in queue.labels()) == [0, 1]
    assert queue.get(approved).final_text == "right, edited"
    assert queue.pending() == []


def test_a_review_cannot_be_decided_twice(tmp_path):
    queue = ReviewQueue(Database(tmp_path / "g.db"))
    review_id = submit(queue)
    queue.decide(review_id, "approved")

    with pytest.raises(ValueError, match="already approved"):
        queue.decide(review_id, "rejected")


def test_an_unknown_decision_is_refused(tmp_path):
    queue = ReviewQueue(Database(tmp_path / "g.db"))

    with pytest.raises(ValueError, match="approved' or 'rejected"):
        queue.decide(submit(queue), "maybe")  # type: ignore[arg-type]


def test_reviewers_list_and_decide_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.delenv("GUARD_TELEMETRY__DATABASE")
    db = tmp_path / "g.db"
    review_id = submit(ReviewQueue(Database(db)))
    (tmp_path / "guard.yaml").write_text(f"telemetry: {{database: {db}}}\n")
    runner = CliRunner()

    listed = runner.invoke(review_app, ["list", "--config", str(tmp_path / "guard.yaml")])
    decided = runner.invoke(review_app, ["decide", review_id, "rejected", "--config", str(tmp_path / "guard.yaml")])
    again = runner.invoke(review_app, ["decide", review_id, "approved", "--config", str(tmp_path / "guard.yaml")])

    assert review_id in listed.output
    assert decided.exit_code == 0 and "rejected" in decided.output
    assert again.exit_code == 1 and "already rejected" in again.output
