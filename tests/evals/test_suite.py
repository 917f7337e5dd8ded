"""Loading suite files and their datasets: good ones resolve, broken ones say what is wrong."""

from __future__ import annotations

import pytest

from guard.evals.suite import SuiteError, Threshold, load_rows, load_suite
from tests.evals.conftest import DETECTION_ROWS, write_suite


def test_dataset_path_is_relative_to_the_suite_file(tmp_path):
    suite = load_suite(write_suite(tmp_path, DETECTION_ROWS))
    assert suite.dataset == (tmp_path / "data" / "rows.jsonl").resolve()


def test_thresholds_parse_into_comparisons(tmp_path):
    suite = load_suite(write_suite(tmp_path, DETECTION_ROWS, thresholds={"auroc": ">= 0.75", "ece": "<0.1"}))
    assert suite.thresholds["auroc"] == Threshold(op=">=", target=0.75)
    assert suite.thresholds["ece"].passes(0.05) and not suite.thresholds["ece"].passes(0.1)


def test_an_unavailable_metric_never_passes_its_threshold():
    assert not Threshold.parse(">= 0").passes(None)


@pytest.mark.parametrize("text", ["0.7", "=> 0.7", ">= high", ""])
def test_a_threshold_without_comparison_and_number_is_rejected(tmp_path, text):
    with pytest.raises(SuiteError, match="auroc: .* is not a threshold"):
        load_suite(write_suite(tmp_path, DETECTION_ROWS, thresholds={"auroc": text}))


def test_a_threshold_on_an_unknown_metric_lists_the_known_ones(tmp_path):
    with pytest.raises(SuiteError, match=r"unknown detection metrics \['aucroc'\].*balanced_accuracy"):
        load_suite(write_suite(tmp_path, DETECTION_ROWS, thresholds={"aucroc": ">= 0.7"}))


def test_an_unknown_kind_is_rejected(tmp_path):
    with pytest.raises(SuiteError, match="kind"):
        load_suite(write_suite(tmp_path, DETECTION_ROWS, kind="ranking"))


def test_a_missing_dataset_is_named(tmp_path):
    path = write_suite(tmp_path, DETECTION_ROWS, dataset="../data/nope.jsonl")
    with pytest.raises(SuiteError, match="dataset not found: .*nope.jsonl"):
        load_suite(path)


def test_a_suite_that_is_not_yaml_is_rejected(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(SuiteError, match="not valid YAML"):
        load_suite(path)


def test_invalid_rows_are_reported_by_line_number(tmp_path):
    rows = [DETECTION_ROWS[0], {"id": "x", "sources": ["s"], "response": "r", "label": "maybe"}]
    suite = load_suite(write_suite(tmp_path, rows))
    (tmp_path / "data" / "rows.jsonl").write_text((tmp_path / "data" / "rows.jsonl").read_text() + "{not json\n")
    with pytest.raises(SuiteError, match=r"(?s)2 invalid detection row.*line 2: label.*line 3"):
        load_rows(suite)


def test_duplicate_item_ids_are_rejected(tmp_path):
    suite = load_suite(write_suite(tmp_path, [DETECTION_ROWS[0], DETECTION_ROWS[0]]))
    with pytest.raises(SuiteError, match="duplicate id 'a'"):
        load_rows(suite)


def test_rows_without_an_id_are_named_by_line(tmp_path):
    row = {k: v for k, v in DETECTION_ROWS[0].items() if k != "id"}
    suite = load_suite(write_suite(tmp_path, [row]))
    assert [r.id for r in load_rows(suite)] == ["line-1"]


def test_a_generation_row_with_only_a_reference_answer_checks_it_as_one_fact(tmp_path):
    suite = load_suite(write_suite(tmp_path, [{"id": "q", "question": "Why?", "reference_answer": "Because."}],
                                   kind="generation", thresholds={"fact_recall": ">= 0.5"}))
    assert load_rows(suite)[0].facts == ["Because."]
