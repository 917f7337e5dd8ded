"""guard calibrate's mechanics on a verifier whose scores are known: what it fits, refuses, writes and applies."""

from __future__ import annotations

import json
import math
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from guard import Guard
from guard.adapters.cli import app
from guard.calibrate import METRICS, LabelledAnswer, TooFewLabels, calibrate, from_file, from_store
from guard.calibration import ActiveCalibration, SupportCalibration, load_calibration
from guard.errors import ConfigError
from guard.layers.support import SupportLayer
from guard.report.build import compute_report
from guard.store import RequestRecord, ReviewItem, open_store, utcnow
from tests.calibrate.conftest import labelled


def test_the_calibration_brings_the_false_flag_rate_to_the_target_out_of_sample(config, scripted):
    metrics = calibrate(labelled(), config, verifier=scripted).cross_validated["metrics"]
    false_flags = metrics["false_flag_rate"]
    assert false_flags["before"] == pytest.approx(0.5, abs=0.05)
    assert false_flags["after"] <= 0.35  # medium's cap is 0.30 on the labels it was fitted on
    assert metrics["balanced_accuracy"]["after"] > metrics["balanced_accuracy"]["before"]


def test_every_metric_has_before_after_and_change_with_intervals(config, scripted):
    metrics = calibrate(labelled(), config, verifier=scripted).cross_validated["metrics"]
    assert set(metrics) == set(METRICS) == {"balanced_accuracy", "false_flag_rate", "catch_rate", "ece"}
    for row in metrics.values():
        for side in ("before", "after", "change"):
            low, high = row[f"{side}_95"]
            assert low <= row[side] <= high


def test_the_fitted_threshold_lies_between_the_classes(config, scripted):
    calibration = calibrate(labelled(), config, verifier=scripted)
    assert 0.41 <= calibration.thresholds["medium"] <= 0.50  # above every hallucinated answer, within the cap
    assert calibration.verifier == "combined" and calibration.id.startswith("cal_")
    assert calibration.fitted_on["faithful"] == 60 and calibration.support.slope > 0


def test_too_few_labels_are_refused_saying_how_many_more_are_needed(config, scripted):
    with pytest.raises(TooFewLabels, match=r"12 faithful and 60 hallucinated.*28 more faithful"):
        calibrate(labelled(faithful=12), config, verifier=scripted)


def test_answers_without_a_claim_to_check_do_not_count_toward_the_minimum(config, scripted):
    greetings = [LabelledAnswer("Would you like to know more?", ("Parcels are tracked.",), True)] * 10
    with pytest.raises(TooFewLabels, match="35 faithful"):
        calibrate(labelled(faithful=35) + greetings, config, verifier=scripted)


def test_a_labelled_file_in_the_suite_format_is_read(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"sources": ["a"], "response": "b", "label": "faithful", "question": "q"}\n'
                    '{"sources": "c", "response": "d", "label": "hallucinated"}\n')
    rows = from_file(path)
    assert [(r.sources, r.faithful, r.question) for r in rows] == [(("a",), True, "q"), (("c",), False, None)]


def test_a_row_without_a_label_names_its_line(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"sources": ["a"], "response": "b", "label": "faithful"}\n{"sources": ["a"], "response": "b"}\n')
    with pytest.raises(ValueError, match="labels.jsonl:2"):
        from_file(path)


# -- in force: the file, the store, the record ---------------------------------------------------------------------


FITTED_AT = datetime(2026, 12, 1, tzinfo=timezone.utc)


def calibration(medium: float = 0.7, verifier: str = "combined") -> SupportCalibration:
    return SupportCalibration(verifier=verifier, created_at=FITTED_AT, support={"intercept": 1.0, "slope": 2.0},
                              thresholds={"low": medium, "medium": medium, "high": 0.9, "critical": 0.9}).with_id()


def guard_with(config, scripted, **support) -> Guard:
    config = config.model_copy(update={"support": config.support.model_copy(update=support)})
    return Guard(config, layers=[SupportLayer(config, verifier=scripted)])


def test_a_calibration_file_sets_the_threshold_and_the_confidence(config, scripted, tmp_path):
    path = tmp_path / "cal.json"
    path.write_text(calibration(medium=0.7).model_dump_json())
    guard = guard_with(config, scripted, calibration=str(path))
    meta = guard.check("The parcel ships in crate ga.", ["Parcels ship in crates."])
    guard.close()
    assert [u.score for u in meta.unsupported] == [0.6]  # below 0.7; the shipped 0.6 lists nothing
    assert meta.confidence == pytest.approx(1 / (1 + (0.4 / 0.6) ** 2 / math.e), abs=1e-3)


def test_a_calibration_for_another_verifier_is_refused_at_start(config, scripted, tmp_path):
    path = tmp_path / "cal.json"
    path.write_text(calibration(verifier="offline").model_dump_json())
    with pytest.raises(ConfigError, match="fitted for the 'offline' verifier"):
        guard_with(config, scripted, calibration=str(path))


def test_a_calibration_file_guard_did_not_write_is_a_clear_error(tmp_path):
    path = tmp_path / "cal.json"
    path.write_text("{}")
    with pytest.raises(ConfigError, match="not a calibration guard calibrate wrote"):
        load_calibration(path)


def test_an_activated_calibration_reaches_a_running_guard(config, scripted):
    guard = guard_with(config, scripted)
    store = open_store(config.telemetry.database)
    before = guard.check("The parcel ships in crate ga.", ["Parcels ship in crates."])
    store.save_calibration(calibration(medium=0.7).model_dump(mode="json"), activate=True)
    guard.calibration.refresh()  # what its periodic re-read does every few seconds
    after = guard.check("The parcel ships in crate ga.", ["Parcels ship in crates."])
    guard.close()
    store.close()
    assert (before.unsupported, [u.score for u in after.unsupported]) == ([], [0.6])


async def answered_before_and_after_activation(config) -> list[str]:
    """Request ids of two answers: one before a calibration is activated, one after."""
    guard = Guard(config, layers=[])
    store = open_store(config.telemetry.database)
    first = await guard.acomplete([{"role": "user", "content": "Is my parcel tracked?"}])
    store.save_calibration(calibration().model_dump(mode="json"), activate=True)
    guard.calibration.refresh()
    second = await guard.acomplete([{"role": "user", "content": "Is my parcel tracked?"}])
    await guard.aclose()
    store.close()
    return [first.guard.request_id, second.guard.request_id]


async def test_each_record_carries_the_calibration_in_force(config, upstream):
    ids = await answered_before_and_after_activation(config)
    store = open_store(config.telemetry.database)
    assert [store.get_request(i).calibration_id for i in ids] == [None, calibration().id]
    store.close()


def test_the_periodic_re_read_runs_off_the_callers_thread(config, tmp_path):
    store = open_store(config.telemetry.database)
    active = ActiveCalibration(store, None, "combined", every_s=0)
    store.save_calibration(calibration().model_dump(mode="json"), activate=True)
    seen = threading.Event()
    for _ in range(500):
        if active.current() is not None:
            seen.set()
            break
        time.sleep(0.01)
    store.close()
    assert seen.is_set()


def test_deactivating_falls_back_to_the_configured_calibration(config):
    store = open_store(config.telemetry.database)
    configured = calibration(medium=0.6)
    store.save_calibration(calibration(medium=0.7).model_dump(mode="json"), activate=True)
    active = ActiveCalibration(store, configured, "combined")
    assert active.refresh().thresholds["medium"] == 0.7
    store.deactivate_calibrations()
    assert active.refresh() is configured
    store.close()


def test_an_activated_calibration_for_another_verifier_is_not_applied(config):
    store = open_store(config.telemetry.database)
    store.save_calibration(calibration(verifier="offline").model_dump(mode="json"), activate=True)
    assert ActiveCalibration(store, None, "combined").refresh() is None
    store.close()


async def test_the_report_says_which_calibration_was_in_force(config, upstream):
    await answered_before_and_after_activation(config)
    now = utcnow()
    store = open_store(config.telemetry.database)
    records = store.requests_between(now - timedelta(hours=1), now)
    store.close()
    report = compute_report(records, [], [], since=now - timedelta(hours=1), until=now, config=config)
    assert report.calibrations == {"shipped": 1, calibration().id: 1}


# -- the command ---------------------------------------------------------------------------------------------------


def test_the_command_refuses_too_few_labels_before_loading_any_model(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps({"sources": ["s"], "response": "r", "label": label}) + "\n"
                            for label in ["faithful"] * 5 + ["hallucinated"] * 50))
    result = CliRunner().invoke(app, ["calibrate", "--from-file", str(path)])
    assert result.exit_code == 1
    assert "35 more faithful" in " ".join(result.output.split())


def test_the_command_asks_where_the_labels_are():
    result = CliRunner().invoke(app, ["calibrate"])
    assert result.exit_code != 0 and "--from-file" in result.output


# -- labels from the store -----------------------------------------------------------------------------------------


def queue(store, request_id: str) -> None:
    store.submit_review(ReviewItem(
        id=f"rv_{request_id}", request_id=request_id, created_at=utcnow(), policy="flag", tier="low",
        question="Is my parcel tracked?", draft="The parcel ships in crate ga.",
        context={"sources": [{"id": "s1", "title": None, "text": "Parcels are tracked."}]}))


def test_store_labels_come_from_decisions_first_then_feedback(config):
    store = open_store(config.telemetry.database)
    for request_id in ("approved", "rejected", "pending", "approved_thumbs_down"):
        queue(store, request_id)
    store.decide_review("rv_approved", "approved", reviewer="ann")
    store.decide_review("rv_rejected", "rejected", reviewer="ann")
    store.decide_review("rv_approved_thumbs_down", "approved", reviewer="ann")
    store.record_feedback("pending", rating=-1)
    store.record_feedback("approved_thumbs_down", rating=-1)
    store.write_requests([RequestRecord(request_id="never_queued", created_at=utcnow(), product="shop")])
    store.record_feedback("never_queued", rating=1)
    rows, skipped = from_store(store, utcnow() - timedelta(days=90))
    store.close()
    assert sorted((r.origin, r.faithful) for r in rows) == [
        ("feedback", False), ("review", False), ("review", True), ("review", True)]
    assert rows[0].sources == ("Parcels are tracked.",) and rows[0].question == "Is my parcel tracked?"
    assert skipped == {"feedback on an answer never queued for review (no stored sources)": 1}
