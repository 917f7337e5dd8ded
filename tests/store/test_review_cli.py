"""`guard review`: reviewers list, read and decide items from a terminal."""

from __future__ import annotations

from guard.adapters.review_cli import review_app
from typer.testing import CliRunner

from tests.store.conftest import item

runner = CliRunner()


def run(*args: str, database: str):
    return runner.invoke(review_app, [*args, "--database", database])


def test_list_shows_pending_items_held_first(store, database):
    store.submit_review(item("rv_flagged", question="Refunds?"))
    store.submit_review(item("rv_held", policy="block"))

    listed = run("list", database=database)

    assert listed.exit_code == 0
    assert listed.output.index("rv_held") < listed.output.index("rv_flagged")


def test_audit_samples_are_marked_as_audit_in_the_list_and_the_item(store, database):
    store.submit_review(item("rv_audit", audit=True))

    listed = runner.invoke(review_app, ["list", "--database", database], terminal_width=200)
    shown = runner.invoke(review_app, ["show", "rv_audit", "--database", database], terminal_width=200)

    assert "(audit)" in listed.output
    assert "audit sample: an unflagged answer drawn at random" in shown.output


def test_show_prints_the_question_whole_draft_sources_and_unsupported_claims(store, database):
    draft = "Refunds take 90 days. " + "More detail. " * 30 + "The end of the draft."
    store.submit_review(item(question="How long do refunds take?", draft=draft, context={
        "sources": [{"id": "refunds.md#1", "title": "Refund policy", "text": "Refunds take 30 days."}],
        "unsupported": [{"text": "Refunds take 90 days.", "score": 0.08}]}))

    shown = runner.invoke(review_app, ["show", "rv_1", "--database", database], terminal_width=200)

    assert shown.exit_code == 0
    for text in ("How long do refunds take?", "The end of the draft.", "Refund policy", "Refunds take 30 days.",
                 "Refunds take 90 days."):
        assert text in shown.output


def test_approve_edit_and_reject_record_the_reviewer(store, database):
    for n in range(3):
        store.submit_review(item(f"rv_{n}"))

    approved = run("approve", "rv_0", "--reviewer", "ana", database=database)
    edited = run("edit", "rv_1", "--final-text", "Refunds take 14 days.", "--reviewer", "ana", database=database)
    rejected = run("reject", "rv_2", "--reason", "wrong period", "--reviewer", "bob", database=database)

    assert [r.exit_code for r in (approved, edited, rejected)] == [0, 0, 0]
    assert [(i.status, i.reviewer) for i in (store.get_review(f"rv_{n}") for n in range(3))] == [
        ("approved", "ana"), ("edited", "ana"), ("rejected", "bob")]
    assert store.get_review("rv_1").final_text == "Refunds take 14 days."
    assert store.get_review("rv_2").reason == "wrong period"


def test_a_second_decision_is_refused_with_who_decided_first(store, database):
    store.submit_review(item())
    run("approve", "rv_1", "--reviewer", "ana", database=database)

    again = run("reject", "rv_1", "--reason", "no", "--reviewer", "bob", database=database)

    assert again.exit_code == 1 and "already approved by ana" in again.output


def test_the_database_comes_from_the_config_file(store, database, tmp_path, monkeypatch):
    monkeypatch.delenv("GUARD_TELEMETRY__DATABASE")
    store.submit_review(item())
    (tmp_path / "guard.yaml").write_text(f"telemetry: {{database: '{database}'}}\n")

    listed = runner.invoke(review_app, ["list", "--config", str(tmp_path / "guard.yaml")])

    assert "rv_1" in listed.output


def test_an_edit_naming_personal_data_is_stored_masked_and_kept_as_written_for_the_held_answers_user(
        store, database, tmp_path):
    store.submit_review(item(policy="block"))
    (tmp_path / "guard.yaml").write_text("product: {pii_handling: redact}\n")

    edited = run("edit", "rv_1", "--final-text", "Write to ana@example.com.", "--reviewer", "ana",
                 "--config", str(tmp_path / "guard.yaml"), database=database)

    assert edited.exit_code == 0
    assert store.get_review("rv_1").final_text == "Write to [EMAIL]."
    assert store.deliverable("rv_1") == "Write to ana@example.com."
