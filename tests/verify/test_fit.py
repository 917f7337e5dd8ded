"""The fitting machinery: exported trees predict what scikit-learn predicts, synthetic negatives really contradict."""

import random

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from guard.verify.calibration import expected_calibration_error
from guard.training.fit import export_trees
from guard.training.synthetic import add_clause, flip_negation, summary_edits, swap_name, swap_number, synthesize
from guard.verify.text import numbers
from guard.verify.trees import BoostedTrees

SOURCES = ["The Oberoi Group was founded in 1934 by Mohan Singh Oberoi and runs 31 hotels from Delhi."]


def test_exported_trees_predict_like_scikit_learn():
    rng = np.random.default_rng(0)
    X = rng.random((300, 15))
    y = X[:, 0] + 0.3 * rng.random(300) > 0.7
    model = HistGradientBoostingClassifier(max_depth=3, max_iter=20).fit(X, y)
    trees = BoostedTrees.from_dict(export_trees(model))
    assert np.allclose(trees.predict_proba(X), model.predict_proba(X)[:, 1], atol=1e-9)


def test_trees_refuse_rows_of_the_wrong_width():
    trees = BoostedTrees(features=("a", "b"), baseline=0.0, trees=())
    with pytest.raises(ValueError, match="2 features"):
        trees.predict_proba(np.zeros((1, 3)))


def test_a_swapped_number_is_one_the_sources_lack():
    claim = "The group was founded in 1934 and runs 31 hotels."
    for seed in range(20):
        changed = swap_number(claim, SOURCES, random.Random(seed))
        assert changed != claim and not numbers(changed) <= numbers(SOURCES[0])


def test_a_swapped_name_is_one_the_sources_lack():
    changed = swap_name("The hotels are run from Delhi.", SOURCES, ["Mumbai"], random.Random(0))
    assert changed == "The hotels are run from Mumbai."


def test_negation_flips_both_ways():
    assert flip_negation("The group was founded in 1934.") == "The group was not founded in 1934."
    assert flip_negation("The group was not founded in 1934.") == "The group was founded in 1934."


def test_an_added_clause_makes_a_longer_claim():
    assert add_clause("It runs 31 hotels.", "The museum opens at nine.") == "It runs 31 hotels, and the museum opens at nine."


def test_synthesis_is_reproducible_and_remembers_origins():
    supported = [("The Oberoi Group was founded in 1934.", SOURCES), ("It runs 31 hotels from Delhi.", SOURCES)]
    first, second = synthesize(supported, seed=3), synthesize(supported, seed=3)
    assert first == second and {p.origin for p in first} <= {0, 1}
    assert any(not p.supported for p in first)


def test_a_summary_edit_is_one_sentence_as_written_and_the_same_sentence_with_a_fact_changed():
    summary = "The Oberoi Group was founded in 1934 in Delhi. It now runs 31 hotels in six countries."
    pairs = summary_edits([(summary, SOURCES)], seed=1)

    (kept, edited), = [pairs]
    assert kept.supported and kept.claim in summary and not edited.supported
    assert edited.kind != "extra_clause" and edited.claim != kept.claim
    assert len(edited.claim.split()) - len(kept.claim.split()) in (0, 1)  # one word swapped, or a "not"


def test_calibration_error_is_zero_for_perfect_frequencies():
    assert expected_calibration_error([0.25] * 4, [True, False, False, False]) == pytest.approx(0.0)
    assert expected_calibration_error([0.9] * 2, [False, False]) == pytest.approx(0.9)
