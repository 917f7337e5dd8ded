"""Configuration is data: YAML, environment, keyword overrides; risk level sets the defaults."""

from __future__ import annotations

import pytest

from guard import ConfigError, GuardConfig, RiskLevel, load_config
from guard.config import configured, key_digest


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


# -- no silent fallbacks (issue 24 item 7, issue 19) ---------------------------------------------------------


def test_a_guard_config_variable_naming_a_missing_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GUARD_CONFIG", str(tmp_path / "nope.yaml"))

    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yaml \(GUARD_CONFIG\)"):
        load_config()


def test_an_unknown_guard_variable_is_an_error_naming_it_and_the_nearest_setting(monkeypatch):
    monkeypatch.setenv("GUARD_MODELS__DEFAUT", "gpt-4o-mini")

    with pytest.raises(ConfigError) as caught:
        load_config()

    assert str(caught.value) == ("environment variable GUARD_MODELS__DEFAUT names no guard setting (models.defaut); "
                                 "did you mean GUARD_MODELS__DEFAULT?")


def test_guard_variables_that_are_not_settings_are_left_alone(monkeypatch, tmp_path):
    (tmp_path / "guard.yaml").write_text("{}\n")
    monkeypatch.setenv("GUARD_CONFIG", str(tmp_path / "guard.yaml"))
    monkeypatch.setenv("GUARD_TEST_POSTGRES_URL", "postgresql://nowhere/test")

    assert load_config() == load_config()


def test_a_bad_value_from_the_environment_names_its_variable(monkeypatch):
    monkeypatch.setenv("GUARD_SERVER__PORT", "eighty")

    with pytest.raises(ConfigError, match=r"  GUARD_SERVER__PORT \(environment variable\): Input should be a valid "
                                          r"integer"):
        load_config()


def test_a_misspelt_key_in_the_file_suggests_the_nearest_valid_one(tmp_path):
    (tmp_path / "guard.yaml").write_text("modles:\n  default: gpt-4o-mini\nsupport:\n  verfier: offline\n")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "guard.yaml")

    assert "  modles: unknown key; did you mean models?" in str(caught.value)
    assert "  support.verfier: unknown key; did you mean support.verifier?" in str(caught.value)


def test_api_keys_given_as_a_json_list_are_two_keys(monkeypatch):
    first, second = "k1-" + "a" * 20, "k2-" + "b" * 20
    monkeypatch.setenv("GUARD_SERVER__API_KEYS", f'["{first}", "{second}"]')

    assert load_config().server.api_keys == [key_digest(first), key_digest(second)]


def test_api_keys_that_look_like_a_broken_json_list_are_refused(monkeypatch):
    monkeypatch.setenv("GUARD_SERVER__API_KEYS", '["k1", "k2"')

    with pytest.raises(ConfigError, match=r"GUARD_SERVER__API_KEYS \(environment variable\): starts with '\[' but "
                                          r"is not a JSON list"):
        load_config()


def test_keyword_overrides_on_a_config_are_validated_like_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"product\.risk: Input should be 'low', 'medium', 'high' or 'critical'"):
        configured(GuardConfig(), {"product": {"risk": "severe"}})
    with pytest.raises(ConfigError, match=r"product\.riks: unknown key; did you mean product\.risk\?"):
        configured(GuardConfig(), {"product": {"riks": "high"}})


def test_a_risk_given_as_an_override_brings_its_defaults_and_keeps_explicit_settings():
    base = GuardConfig(product={"name": "shop"}, citations={"required": False})

    high = configured(base, {"product": {"risk": "high"}})

    assert high.product.name == "shop" and high.review.policy == "block" and high.streaming.mode == "buffer"
    assert high.citations.required is False  # set explicitly on the base: kept
