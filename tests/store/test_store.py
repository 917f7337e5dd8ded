"""One store behind records, reviews and feedback: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from guard.errors import (
    AlreadyDecided,
    ReviewNotFound,
    StoreUnavailable,
    UnknownRequest,
)
from guard.store import open_store
from tests.store.conftest import NOW, item, record

# -- request records ------------------------------------------------------------

def test_a_record_reads_back_with_every_field(store):
    written = record(model_requested="openai/a", model_served="openai/b", tier="medium", confidence=0.7,
                     signals={"support": 0.6}, layers={"support": {"status": "ok", "ms": 3.2}},
                     citations=[{"marker": "[1]", "source_id": "faq#1"}], unsupported=[{"text": "x", "score": 0.1}],
                     latency_total_ms=812.0, ttft_ms=120.5, prompt_tokens=12, completion_tokens=5, cost_usd=0.0003,
                     samples_cost_usd=0.0006, verification_cost_usd=0.0001, review_id="rv_1", review_policy="flag",
                     question="Refunds?", streamed=True, delivered=False)

    store.write_requests([written])

    assert store.get_request("gr_1") == written


def test_writing_a_record_again_replaces_it(store):
    store.write_requests([record(tier="low")])
    store.write_requests([record(tier="high"), record(tier="medium")])

    assert store.get_request("gr_1").tier == "medium"


def test_requests_between_returns_the_window_in_time_order(store):
    store.write_requests([record(f"gr_{h}", at=NOW + timedelta(hours=h)) for h in (3, 0, 1, 5)])

    found = store.requests_between(NOW, NOW + timedelta(hours=4))

    assert [r.request_id for r in found] == ["gr_0", "gr_1", "gr_3"]


# -- the review queue -------------------------------------------------------------

def test_a_pending_review_survives_a_restart(store, database):
    store.submit_review(item(question="Refunds?", context={"sources": [{"id": "faq#1", "title": "FAQ", "text": "t"}]}))
    store.close()

    reopened = open_store(database)

    assert [(i.id, i.question, i.context["sources"][0]["id"]) for i in reopened.list_reviews()] == [
        ("rv_1", "Refunds?", "faq#1")]
    reopened.close()


def test_held_items_are_listed_first_then_oldest_first(store):
    start = datetime.now(timezone.utc)
    store.submit_review(item("rv_old_flag", at=start - timedelta(hours=3)))
    store.submit_review(item("rv_new_block", policy="block", at=start - timedelta(hours=1)))
    store.submit_review(item("rv_old_block", policy="block", at=start - timedelta(hours=2)))

    assert [i.id for i in store.list_reviews()] == ["rv_old_block", "rv_new_block", "rv_old_flag"]
    assert [i.id for i in store.list_reviews(policy="flag")] == ["rv_old_flag"]


def test_review_counts_are_by_tier(store):
    for n, tier in enumerate(["low", "low", "medium"]):
        store.submit_review(item(f"rv_{n}", tier=tier))

    assert store.review_counts() == {"low": 2, "medium": 1}


def test_each_transition_is_recorded_with_reviewer_reason_and_time(store):
    store.submit_review(item())

    decided = store.decide_review("rv_1", "rejected", reviewer="ana", reason="wrong refund period")

    assert (decided.status, decided.reviewer, decided.reason) == ("rejected", "ana", "wrong refund period")
    events = store.review_events("rv_1")
    assert [(e["from_status"], e["to_status"], e["reviewer"]) for e in events] == [
        (None, "pending", None), ("pending", "rejected", "ana")]
    assert events[1]["at"] == decided.decided_at


def test_an_edited_approval_keeps_the_final_text_and_its_distance_from_the_draft(store):
    store.submit_review(item(draft="Refunds take 30 days."))

    decided = store.decide_review("rv_1", "edited", reviewer="ana", final_text="Refunds take 14 days.")

    assert decided.final_text == "Refunds take 14 days."
    assert 0 < decided.edit_distance < 0.2


def test_a_review_cannot_be_decided_twice(store):
    store.submit_review(item())
    store.decide_review("rv_1", "approved", reviewer="ana")

    with pytest.raises(AlreadyDecided, match="already approved by ana") as raised:
        store.decide_review("rv_1", "rejected", reviewer="bob")

    assert (raised.value.status, raised.value.reviewer) == ("approved", "ana")
    assert store.get_review("rv_1").status == "approved"


def test_two_concurrent_reviewers_exactly_one_wins(store):
    for n in range(8):
        store.submit_review(item(f"rv_{n}"))
    outcomes: dict[str, list[str]] = {f"rv_{n}": [] for n in range(8)}

    def reviewer(name: str, decision: str, barrier: threading.Barrier) -> None:
        for review_id in outcomes:
            barrier.wait()
            try:
                store.decide_review(review_id, decision, reviewer=name)
                outcomes[review_id].append(name)
            except AlreadyDecided:
                pass

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=reviewer, args=(n, d, barrier)) for n, d in (("ana", "approved"), ("bob", "rejected"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert all(len(winners) == 1 for winners in outcomes.values()), outcomes
    for review_id, winners in outcomes.items():
        assert store.get_review(review_id).reviewer == winners[0]
        assert len(store.review_events(review_id)) == 2


def test_an_unknown_review_is_a_clear_error(store):
    with pytest.raises(ReviewNotFound, match="rv_nope"):
        store.decide_review("rv_nope", "approved", reviewer="ana")


@pytest.mark.parametrize(("decision", "final_text"), [("edited", None), ("approved", "new text"), ("maybe", None)])
def test_a_malformed_decision_is_refused(store, decision, final_text):
    store.submit_review(item())

    with pytest.raises(ValueError):
        store.decide_review("rv_1", decision, reviewer="ana", final_text=final_text)  # type: ignore[arg-type]

    assert store.get_review("rv_1").status == "pending"


def test_items_past_their_time_expire_when_read(store):
    store.submit_review(item("rv_late", at=datetime.now(timezone.utc) - timedelta(hours=2), expires_in=timedelta(hours=1)))
    store.submit_review(item("rv_fresh"))

    assert [i.id for i in store.list_reviews()] == ["rv_fresh"]
    assert store.get_review("rv_late").status == "expired"
    assert [e["to_status"] for e in store.review_events("rv_late")] == ["pending", "expired"]


def test_an_expired_item_cannot_be_decided(store):
    store.submit_review(item(at=datetime.now(timezone.utc) - timedelta(seconds=2), expires_in=timedelta(seconds=1)))

    with pytest.raises(AlreadyDecided, match="expired"):
        store.decide_review("rv_1", "approved", reviewer="ana")


def test_expire_reviews_counts_what_moved(store):
    store.submit_review(item("rv_a"))
    store.submit_review(item("rv_b", expires_in=None))

    assert store.expire_reviews(datetime.now(timezone.utc) + timedelta(days=4)) == 1
    assert store.get_review("rv_b").status == "pending"


def test_the_newest_review_of_a_request_is_found_by_request_id(store):
    store.submit_review(item("rv_1", request_id="gr_9"))

    assert store.review_for_request("gr_9").id == "rv_1"
    assert store.review_for_request("gr_unknown") is None


# -- feedback -----------------------------------------------------------------------

def test_feedback_for_an_unknown_request_is_a_clear_error(store):
    with pytest.raises(UnknownRequest, match="gr_nope"):
        store.record_feedback("gr_nope", rating=1)


def test_feedback_with_final_text_measures_the_edit(store):
    store.write_requests([record(answer="Refunds take 30 days.")])

    fb = store.record_feedback("gr_1", rating=-1, final_text="Refunds take 14 days, from delivery.")

    assert fb.rating == -1 and fb.edited is True and 0 < fb.edit_distance < 1


def test_a_second_feedback_updates_the_first_and_history_is_kept(store):
    store.write_requests([record()])
    first = store.record_feedback("gr_1", rating=1, user="u1")

    second = store.record_feedback("gr_1", final_text="refunds take 30 days", resolved=True)

    assert (second.rating, second.user, second.resolved, second.edited) == (1, "u1", True, False)
    assert second.created_at == first.created_at and second.updated_at >= first.updated_at
    assert [(e["rating"], e["resolved"]) for e in store.feedback_events("gr_1")] == [(1, None), (None, True)]


def test_feedback_works_from_the_review_draft_when_no_record_was_kept(store):
    store.submit_review(item(request_id="gr_7", draft="Refunds take 30 days."))

    fb = store.record_feedback("gr_7", final_text="Refunds take 30 days.")

    assert fb.edited is False and fb.edit_distance == 0.0


def test_a_rating_other_than_plus_or_minus_one_is_refused(store):
    store.write_requests([record()])

    with pytest.raises(ValueError, match="rating"):
        store.record_feedback("gr_1", rating=5)


def test_feedback_between_goes_by_the_answer_time(store):
    store.write_requests([record("gr_old", at=NOW - timedelta(days=10)), record("gr_new", at=NOW)])
    for request_id in ("gr_old", "gr_new"):
        store.record_feedback(request_id, rating=1)

    found = store.feedback_between(NOW - timedelta(days=1), NOW + timedelta(days=1))

    assert [f.request_id for f in found] == ["gr_new"]


# -- text the database can hold -------------------------------------------------

NUL, REPLACED = "\x00", "\ufffd"


def test_nul_in_a_records_text_and_json_is_stored_as_a_replacement_character(store):
    store.write_requests([record(question=f"why{NUL}?", answer=f"because{NUL}", error_message=f"e{NUL}",
                                 layers={"support": {"status": "error", "reason": f"bad {NUL} byte"}},
                                 citations=[{"marker": "[1]", f"ti{NUL}tle": f"A{NUL}"}])])

    stored = store.get_request("gr_1")

    assert (stored.question, stored.answer, stored.error_message) == (f"why{REPLACED}?", f"because{REPLACED}",
                                                                       f"e{REPLACED}")
    assert stored.layers["support"]["reason"] == f"bad {REPLACED} byte"
    assert stored.citations == [{"marker": "[1]", f"ti{REPLACED}tle": f"A{REPLACED}"}]


def test_a_review_with_nul_is_queued_decided_and_told_to_the_app(store):
    store.submit_review(item(policy="block", question=f"q{NUL}", draft=f"d{NUL}",
                             context={"sources": [{"text": f"s{NUL}"}]}))

    store.decide_review("rv_1", "edited", reviewer=f"ana{NUL}", final_text=f"fixed{NUL}", reason=f"r{NUL}")

    stored = store.get_review("rv_1")
    assert (stored.question, stored.draft, stored.final_text, stored.reviewer) == (
        f"q{REPLACED}", f"d{REPLACED}", f"fixed{REPLACED}", f"ana{REPLACED}")
    assert stored.context["sources"][0]["text"] == f"s{REPLACED}"
    assert store.outbox_events()[0].payload["answer"] == f"fixed{REPLACED}"


def test_feedback_with_nul_is_kept(store):
    store.write_requests([record()])

    fb = store.record_feedback("gr_1", final_text=f"sent{NUL}", comment=f"c{NUL}", user=f"u{NUL}")

    assert (fb.final_text, fb.comment, fb.user) == (f"sent{REPLACED}", f"c{REPLACED}", f"u{REPLACED}")


def test_a_lookup_by_an_id_with_nul_finds_nothing_instead_of_failing(store):
    assert store.get_request(f"gr{NUL}") is None
    with pytest.raises(UnknownRequest):
        store.record_feedback(f"gr{NUL}", rating=1)


def test_text_longer_than_its_column_is_cut_to_fit(store):
    store.write_requests([record(model_requested="m" * 300, error_class="E" * 300)])

    stored = store.get_request("gr_1")

    assert (stored.model_requested, stored.error_class) == ("m" * 200, "E" * 200)


# -- migrations and failures --------------------------------------------------------------

def test_a_database_at_the_newest_revision_reopens_cleanly(store, database):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from guard.store.engine import MIGRATIONS, current_revision

    store.write_requests([record()])
    store.close()

    reopened = open_store(database)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert current_revision(reopened.engine) == ScriptDirectory.from_config(config).get_current_head()
    assert reopened.get_request("gr_1") is not None
    reopened.close()


def test_the_schema_code_queries_is_the_schema_migrations_build(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from guard.store.engine import VERSION_TABLE
    from guard.store.schema import metadata

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_an_unreachable_store_is_a_store_unavailable_error(tmp_path):
    (tmp_path / "taken").mkdir()

    with pytest.raises(StoreUnavailable):
        open_store(str(tmp_path / "taken"))


def test_request_records_commit_without_an_fsync_and_everything_else_with_one(tmp_path):
    """Records are telemetry written in batches (synchronous=NORMAL); reviews and feedback stay FULL."""
    store = open_store(str(tmp_path / "guard.db"))

    def synchronous() -> int:
        with store.engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA synchronous").scalar()

    store.write_requests([record("gr_1")])
    assert synchronous() == 1  # NORMAL
    store.submit_review(item("rv_1", request_id="gr_1"))
    assert synchronous() == 2  # FULL
    store.close()
