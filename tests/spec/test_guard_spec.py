"""``guard spec``: the spec checked and explained, and a model and a worker count recommended from the records."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import yaml
from typer.testing import CliRunner

from guard.adapters.cli import app
from guard.store import RequestRecord, ReviewItem, open_store

runner = CliRunner()
NOW = datetime.now(timezone.utc)


def _config(tmp_path, **product) -> str:
    path = tmp_path / "guard.yaml"
    path.write_text(yaml.safe_dump({
        "product": {"name": "lumen", "risk": "high", "max_latency_s": 2, "daily_requests_estimate": 20000,
                    "peak_concurrency_estimate": 40, **product},
        "telemetry": {"database": str(tmp_path / "guard.db")}}))
    return str(path)


def _serve(store, model: str, *, answers: int, approved: int, latency_ms: float, cost: float,
           guard_ms: float = 50.0, variant: str | None = None) -> None:
    """``answers`` answers by ``model``, each reviewed: the first ``approved`` approved, the rest rejected."""
    rows = [RequestRecord(request_id=f"gr_{model}_{i}", created_at=NOW - timedelta(hours=1), product="lumen",
                          model_requested=model, model_served=model, tier="low", confidence=0.5,
                          latency_total_ms=latency_ms, latency_model_ms=latency_ms - guard_ms, latency_guard_ms=guard_ms,
                          cost_usd=cost, answer="Two years.", review_id=f"rv_{model}_{i}",
                          experiment="model-swap" if variant else None, variant=variant)
            for i in range(answers)]
    store.write_requests(rows)
    for i, row in enumerate(rows):
        store.submit_review(ReviewItem(id=row.review_id, request_id=row.request_id, created_at=row.created_at,
                                       policy="flag", tier="low", draft="Two years.", model=model))
        if i < approved:
            store.decide_review(row.review_id, "approved", reviewer="ana")
        else:
            store.decide_review(row.review_id, "rejected", reviewer="ana", reason="wrong")


def _spec(config: str, *more: str):
    result = runner.invoke(app, ["spec", "-c", config, *more])
    assert result.exit_code == 0, result.output
    return result


def _two_models(tmp_path):
    store = open_store(str(tmp_path / "guard.db"))
    _serve(store, "gpt-4o", answers=40, approved=39, latency_ms=1500, cost=0.01, variant="control")
    _serve(store, "gpt-4o-mini", answers=40, approved=38, latency_ms=1000, cost=0.001, variant="mini")
    store.close()


def test_the_cheapest_model_that_meets_accuracy_and_latency_is_recommended(tmp_path):
    config = _config(tmp_path)
    _two_models(tmp_path)

    report = json.loads(_spec(config, "--json").output)

    models = {m["model"]: m for m in report["models"]}
    assert models["gpt-4o-mini"]["accuracy"] == 0.95 and models["gpt-4o"]["accuracy"] == 0.975
    assert models["gpt-4o-mini"]["variants"] == ["model-swap/mini"]
    assert report["recommendation"].startswith("gpt-4o-mini: meets the accuracy and latency targets at the lowest cost")
    assert "gpt-4o also meets them at a higher cost" in report["recommendation"]


def test_when_no_model_meets_the_targets_it_says_by_how_much(tmp_path):
    config = _config(tmp_path, accuracy_target=0.99, max_latency_s=1.2)
    _two_models(tmp_path)

    report = json.loads(_spec(config, "--json").output)

    assert report["recommendation"].startswith("no model meets the targets")
    assert "gpt-4o-mini: accuracy 95% is 4% short of 99%" in report["recommendation"]
    assert "gpt-4o: accuracy 98% is 2% short of 99%; p95 latency 1.50 s is 0.30 s over 1.2 s" in report["recommendation"]


def test_capacity_is_workers_for_the_peak_at_the_measured_guard_time(tmp_path):
    config = _config(tmp_path)
    _two_models(tmp_path)

    capacity = json.loads(_spec(config, "--json").output)["capacity"]

    # 50 ms of guard CPU per answer: 14 answers/s per worker at 70 % busy; 40 in flight at a p50 of
    # 1.25 s is 32 requests/s: 3 workers. 20,000 a day is 0.23 requests/s: 1.
    assert capacity["guard_ms_per_answer"] == 50.0
    assert (capacity["workers_for_peak"], capacity["workers_for_daily"], capacity["workers"]) == (3, 1, 3)


def test_the_risk_level_settings_are_explained_and_explicit_overrides_named(tmp_path):
    config = tmp_path / "guard.yaml"
    config.write_text(yaml.safe_dump({"product": {"risk": "high"}, "citations": {"required": False},
                                      "telemetry": {"database": str(tmp_path / "guard.db")}}))
    output = _spec(str(config)).output
    assert "risk high (a wrong answer can cause financial or legal harm)" in output
    assert "review.policy = block  (risk default)" in output
    assert "citations.required = False  (set explicitly; the risk default is True)" in output
    assert "check: risk is high but citations.required is false" in " ".join(output.split())


def test_without_records_it_says_what_it_would_need(tmp_path):
    output = " ".join(_spec(_config(tmp_path)).output.split())
    assert "no answered request recorded yet" in output
    assert "capacity: no estimate" in output


def test_an_invalid_spec_is_refused_with_the_field_named(tmp_path):
    result = runner.invoke(app, ["spec", "-c", _config(tmp_path, accuracy_target=1.5)])
    assert result.exit_code == 2
    assert "product.accuracy_target" in result.output
