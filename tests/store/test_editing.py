"""Edit distance and the edited/not-edited call, on hand-made draft/final pairs."""

from __future__ import annotations

import pytest

from guard.editing import edit_distance, is_edited


@pytest.mark.parametrize(("draft", "final", "distance"), [
    ("Refunds take 30 days.", "Refunds take 30 days.", 0.0),
    ("abcd", "wxyz", 1.0),
    ("kitten", "sitting", 3 / 7),
    ("", "Hello", 1.0),
])
def test_edit_distance_is_normalised_levenshtein(draft, final, distance):
    assert edit_distance(draft, final) == pytest.approx(distance)


@pytest.mark.parametrize(("draft", "final"), [
    ("Refunds take 30 days.", "refunds take 30 days"),
    ("Refunds take 30 days.", "  Refunds   take\n30 days!  "),
    ("Hello, Ana - welcome.", "hello ana: welcome"),
])
def test_whitespace_case_and_punctuation_are_not_edits(draft, final):
    assert not is_edited(draft, final)


@pytest.mark.parametrize(("draft", "final"), [
    ("Refunds take 30 days.", "Refunds take 14 days."),
    ("Refunds take 30 days.", "Refunds take 30 days, from delivery."),
    ("Refunds take 30 days.", "Refunds take days."),
])
def test_a_changed_word_is_an_edit(draft, final):
    assert is_edited(draft, final)


def test_edit_rate_over_a_batch_of_pairs():
    pairs = [("Yes.", "Yes"), ("Two years.", "Three years."), ("Call us.", "call us"), ("No.", "No, sorry.")]

    rate = sum(is_edited(d, f) for d, f in pairs) / len(pairs)

    assert rate == 0.5
