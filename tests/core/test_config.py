"""Configuration is data: YAML, environment, keyword overrides; risk level sets the defaults."""

from __future__ import annotations

import pytest

from guard import ConfigError, GuardConfig, RiskLevel, load_config


def test_low_risk_defaults_flag_and_stream_provisionally():
    config = GuardConfig(product={"risk": "low"})

    assert config.review.policy == "flag"
    assert config.streaming.mode == "provisional"
    assert config.consistency.enabled is False and config.citations.required is False


@pytest.mark.parametrize("risk", [RiskLevel.high, RiskLevel.critical])
def test_high_risk_turns_on_the_stricter_defaults(risk):
    config = GuardConfig(product={"risk": risk})

    assert config.citations.required is True
    assert config.consistency.enabled is True
    assert config.review.policy == "block"
    assert config.streaming.mode == "buffer"
    assert config.grounding.refuse_without_source is True


def test_an_explicit_setting_overrides_the_risk_default():
    config = GuardConfig(product={"risk": "critical"}, review={"policy": "flag"}, streaming={"mode": "provisional"})

    assert config.review.policy == "flag" and config.streaming.mode == "provisional"
    assert config.consistency.enabled is True


def test_yaml_file_is_read_and_environment_overrides_it(tmp_path, monkeypatch):
    path = tmp_path / "guard.yaml"
    path.write_text("product: {risk: high}\nmodels: {default: gpt-4o-mini, timeout_s: 12}\n")
    monkeypatch.setenv("GUARD_MODELS__TIMEOUT_S", "30")

    config = load_config(path)

    assert config.product.risk is RiskLevel.high
    assert config.models.default == "gpt-4o-mini"
    assert config.models.timeout_s == 30


def test_keyword_overrides_win_over_file_and_environment(tmp_path, monkeypatch):
    path = tmp_path / "guard.yaml"
    path.write_text("models: {default: gpt-4o-mini}\n")
    monkeypatch.setenv("GUARD_MODELS__DEFAULT", "from-env")

    assert load_config(path, models={"default": "from-code"}).models.default == "from-code"


def test_guard_yaml_in_the_working_directory_is_found_without_a_path(tmp_path):
    (tmp_path / "guard.yaml").write_text("product: {name: helpdesk}\n")

    assert load_config().product.name == "helpdesk"


def test_invalid_config_error_lists_every_problem(tmp_path):
    path = tmp_path / "guard.yaml"
    path.write_text("product: {risk: extreme}\nmodels: {timeout_s: -1}\nunknown_section: 1\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert "product.risk" in message and "models.timeout_s" in message and "unknown_section" in message


def test_tier_thresholds_out_of_order_are_rejected():
    with pytest.raises(ConfigError, match="tiers"):
        load_config(tiers={"high": 0.5, "medium": 0.7})


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_a_config_file_that_is_not_a_mapping_is_rejected(tmp_path):
    path = tmp_path / "guard.yaml"
    path.write_text("- just\n- a list\n")

    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)
