"""The store keeps support calibrations and says which one is in force, on both backends."""

from __future__ import annotations


def body(name: str) -> dict:
    return {"id": name, "verifier": "combined", "thresholds": {"medium": 0.3}}


def test_the_calibration_activated_last_is_in_force(store):
    store.save_calibration(body("cal_a"), activate=True)
    store.save_calibration(body("cal_b"), activate=True)
    store.save_calibration(body("cal_c"))  # kept, not activated
    assert store.active_calibration()["id"] == "cal_b"


def test_activating_an_older_calibration_again_puts_it_back_in_force(store):
    store.save_calibration(body("cal_a"), activate=True)
    store.save_calibration(body("cal_b"), activate=True)
    store.save_calibration(body("cal_a"), activate=True)
    assert store.active_calibration()["id"] == "cal_a"


def test_after_deactivating_none_is_in_force(store):
    store.save_calibration(body("cal_a"), activate=True)
    assert store.deactivate_calibrations() == 1
    assert store.active_calibration() is None
