"""pii_handling: redact masks personal data in what guard stores and logs, and leaves business numbers alone."""

from __future__ import annotations

import logging

import pytest

from guard.config import GuardConfig, ProductSpec
from guard.logs import get_logger
from guard.pii import Redactor, redact_processor


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(ProductSpec(pii_handling="redact"))


@pytest.mark.parametrize(("text", "expected"), [
    ("Write to jane.doe+orders@example.co.uk today.", "Write to [EMAIL] today."),
    ("Call me on (415) 555-2671 after 5.", "Call me on [PHONE] after 5."),
    ("Our Berlin desk: +49 30 901820.", "Our Berlin desk: [PHONE]."),
    ("London office +44 20 7946 0958", "London office [PHONE]"),
    ("Card 4111 1111 1111 1111 was declined.", "Card [CARD] was declined."),
    ("Amex 3782-822463-10005 on file", "Amex [CARD] on file"),
    ("Pay to DE89 3704 0044 0532 0130 00 please", "Pay to [IBAN] please"),
    ("IBAN GB82WEST12345698765432.", "IBAN [IBAN]."),
    ("SSN 123-45-6789 on the form", "SSN [SSN] on the form"),
])
def test_each_kind_of_personal_data_is_masked(redactor, text, expected):
    assert redactor.redact(text) == expected


@pytest.mark.parametrize("text", [
    "The Lumen Pro costs $3.99 a month, or €1,299.00 once.",
    "Order LUM-200 and LUM-200-XL ship from SKU 12345-678.",
    "Released 2024-03-15, updated 15/03/2024 at 14:30:00.",
    "Your order #100023456 shipped; ticket 4512 is closed.",
    "Error ERR-4012 after firmware 2.14.3 on build 20240315.",
    "Invoice 4111111111111112 is not a card (fails Luhn).",
    "Version 1.2.3.4 listens on port 8080 with 16 GB RAM.",
])
def test_prices_skus_dates_and_order_numbers_are_not_masked(redactor, text):
    assert redactor.redact(text) == text


@pytest.mark.parametrize("handling", ["none", "allowed"])
def test_without_redact_text_is_left_alone(handling):
    redactor = Redactor(GuardConfig(product={"pii_handling": handling}))
    text = "jane@example.com, 4111 1111 1111 1111, (415) 555-2671"

    assert redactor.redact(text) == text
    assert redactor.redact_obj({"a": [text]}) == {"a": [text]}


def test_local_phone_numbers_of_the_configured_region_are_masked():
    text = "Ring our London desk on 020 7946 0958 today."
    in_gb = Redactor(ProductSpec(pii_handling="redact", pii_region="gb"))

    assert in_gb.redact(text) == "Ring our London desk on [PHONE] today."
    assert Redactor(ProductSpec(pii_handling="redact")).redact(text) == text  # not a US number


def test_a_guard_config_redacts_by_its_product_spec():
    assert Redactor(GuardConfig(product={"pii_handling": "redact"})).redact("mail a@b.io") == "mail [EMAIL]"


def test_nested_objects_have_every_string_masked_and_other_values_kept(redactor):
    obj = {"question": "I am jane@example.com", "sources": [{"id": 1, "text": "call (415) 555-2671"}],
           "scores": (0.5, "x@y.org"), "ok": True, "none": None}

    assert redactor.redact_obj(obj) == {"question": "I am [EMAIL]", "sources": [{"id": 1, "text": "call [PHONE]"}],
                                        "scores": (0.5, "[EMAIL]"), "ok": True, "none": None}


def test_several_items_in_one_text_are_all_masked(redactor):
    text = "jane@example.com / (415) 555-2671 / 5555 5555 5555 4444 / $3.99"

    assert redactor.redact(text) == "[EMAIL] / [PHONE] / [CARD] / $3.99"


def test_a_logger_with_the_redact_processor_masks_its_events(redactor, caplog):
    log = get_logger(redact_processor(redactor))

    with caplog.at_level(logging.INFO, logger="guard"):
        log.info("answered", question="reach me at jane@example.com", tokens=12)

    [record] = [r for r in caplog.records if r.name == "guard"]
    assert "reach me at [EMAIL]" in record.getMessage() and "jane@example.com" not in record.getMessage()
