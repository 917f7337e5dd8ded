"""The product spec as config: the fields that map to behaviour drive it, explicit settings win."""

from __future__ import annotations

import pytest

from guard import ConfigError, GuardConfig
from guard.config import load_config


def test_a_spec_written_down_in_yaml_loads_whole(tmp_path):
    (tmp_path / "guard.yaml").write_text("""
product:
  name: lumen-support
  persona: support agent answering customers
  job_to_be_done: draft a correct reply in seconds
  risk: medium
  accuracy_target: 0.95
  daily_requests_estimate: 20000
  peak_concurrency_estimate: 40
  pii_handling: redact
  data_residency: eu
""")
    spec = load_config(tmp_path / "guard.yaml").product

    assert (spec.persona, spec.job_to_be_done) == ("support agent answering customers", "draft a correct reply in seconds")
    assert (spec.accuracy_target, spec.daily_requests_estimate, spec.peak_concurrency_estimate) == (0.95, 20000, 40)
    assert (spec.pii_handling, spec.data_residency) == ("redact", "eu")


def test_defaults_change_no_behaviour():
    config = GuardConfig()

    assert config.product.pii_handling == "none" and config.product.accuracy_target == 0.9
    assert config.models.timeout_s == 60 and config.review.tiers == ["low"] and config.citations.required is False


@pytest.mark.parametrize("required", [True, False])
def test_requires_citations_sets_citations_required_over_the_risk_default(required):
    risk = "low" if required else "high"

    assert GuardConfig(product={"risk": risk, "requires_citations": required}).citations.required is required


def test_an_explicit_citations_setting_wins_over_the_spec():
    config = GuardConfig(product={"requires_citations": True}, citations={"required": False})

    assert config.citations.required is False


def test_human_review_required_routes_every_tier_to_review():
    config = GuardConfig(product={"human_review_required": True})

    assert config.review.enabled is True
    assert config.review.tiers == ["high", "medium", "low"]


def test_explicit_review_settings_win_over_human_review_required():
    config = GuardConfig(product={"human_review_required": True}, review={"enabled": False, "tiers": ["low"]})

    assert config.review.enabled is False and config.review.tiers == ["low"]


def test_max_latency_becomes_the_model_timeout():
    assert GuardConfig(product={"max_latency_s": 8}).models.timeout_s == 8


def test_an_explicit_model_timeout_wins_over_max_latency(tmp_path, monkeypatch):
    monkeypatch.setenv("GUARD_MODELS__TIMEOUT_S", "30")

    assert load_config(product={"max_latency_s": 8}).models.timeout_s == 30


@pytest.mark.parametrize(("product", "field"), [
    ({"accuracy_target": 1.5}, "product.accuracy_target"),
    ({"pii_handling": "mask"}, "product.pii_handling"),
    ({"pii_region": "XX"}, "product.pii_region"),
    ({"max_latency_s": 0}, "product.max_latency_s"),
    ({"peak_concurrency_estimate": 0}, "product.peak_concurrency_estimate"),
])
def test_an_invalid_spec_field_is_one_readable_line(product, field):
    with pytest.raises(ConfigError) as caught:
        load_config(product=product)

    [line] = [ln for ln in str(caught.value).splitlines() if field in ln]
    assert line.strip().startswith(f"{field}:")


def test_the_shipped_example_config_loads(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "guard.yaml"

    assert load_config(example).product.name == "lumen-support"
