"""Operating points are chosen on whole answers, where users see flags, and the worst file decides."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from guard.training.operating_points import TREES_ALONE as IDENTITY  # a claim's support is its trees' score
from guard.training.operating_points import Answer, Scored, choose, fit_penalties, leave_one_file_out


def answer(file: str, faithful: bool, *scores: float, specifics: bool = False) -> Answer:
    n = len(scores)
    return Answer("select", file, faithful, np.array(scores), np.full(n, 0.5),
                  tuple(frozenset({"value_contradicted"} if specifics else ()) for _ in range(n)))


def test_an_answer_is_flagged_when_any_one_of_its_claims_is_under_the_threshold():
    scored = Scored([answer("f", True, 0.9, 0.9, 0.3), answer("f", True, 0.9, 0.9)], IDENTITY)

    assert scored.flagged(0.5).tolist() == [True, False]


def test_a_claim_with_contradicted_specifics_is_flagged_whatever_the_verifier_says():
    scored = Scored([answer("f", True, 0.97, specifics=True)], IDENTITY)

    assert scored.flagged(0.1).tolist() == [True]


def test_the_medium_threshold_keeps_the_worst_files_false_flags_at_most_thirty_percent():
    # file a: faithful answers at 0.2..0.95; file b is easier. Flagging below t flags faithful answers under t.
    a = [answer("a", True, s) for s in np.linspace(0.2, 0.95, 10)] + [answer("a", False, 0.1)] * 5
    b = [answer("b", True, s) for s in np.linspace(0.6, 0.95, 10)] + [answer("b", False, 0.1)] * 5
    files = {"a": Scored(a, IDENTITY), "b": Scored(b, IDENTITY)}

    medium = choose(files)["medium"]

    assert max(s.rates(medium)[0] for s in files.values()) <= 0.30
    assert max(s.rates(medium + 0.1)[0] for s in files.values()) > 0.30  # and it is the highest such threshold


def test_high_risk_catches_at_least_85_percent_on_every_file_and_is_never_laxer_than_medium():
    a = [answer("a", True, 0.9)] * 10 + [answer("a", False, s) for s in np.linspace(0.05, 0.7, 20)]
    files = {"a": Scored(a, IDENTITY)}

    chosen = choose(files)

    assert files["a"].rates(chosen["high"])[1] >= 0.85
    assert chosen["high"] >= chosen["medium"] and chosen["critical"] == chosen["high"]


def test_leaving_a_file_out_chooses_without_it_and_measures_on_its_report_rows():
    strict = [answer("strict", True, 0.35)] * 10 + [answer("strict", False, 0.1)] * 10
    easy = [answer("easy", True, 0.9)] * 10 + [answer("easy", False, 0.1)] * 10
    select = {"strict": Scored(strict, IDENTITY), "easy": Scored(easy, IDENTITY)}

    out = leave_one_file_out(select, report=select)

    # chosen on "easy" alone, the threshold sits above 0.35 and flags every faithful answer of "strict"
    assert out["strict"]["medium"]["false_flag"] == 1.0
    assert out["easy"]["medium"]["false_flag"] == 0.0


def test_a_finding_that_is_usually_wrong_weighs_more_than_one_faithful_answers_also_produce():
    def with_group(faithful: bool, group: str) -> Answer:
        return Answer("select", "f", faithful, np.array([0.7]), np.array([0.5]), (frozenset({group}),))

    # contradicted values: always hallucinated; names in no source: half the time (paraphrases, chit-chat)
    rows = ([with_group(False, "value_contradicted")] * 40 + [with_group(True, "name")] * 20
            + [with_group(False, "name")] * 20 + [with_group(False, "negation")] * 5 + [answer("f", True, 0.7)] * 40)

    penalties = fit_penalties({"f": rows}, IDENTITY)

    assert penalties["value_contradicted"] > penalties["name"] >= 0.0
    assert "negation" not in penalties  # too rare to weigh: it keeps the cap


def _scores_file(path: Path, precisions: tuple[str, ...] = ("int8",)) -> Path:
    """Two files' answers on both halves, as ``verify_answers score`` writes them."""
    rng = np.random.default_rng(0)
    with path.open("w") as out:
        for half in ("select", "report"):
            for file in ("a", "b"):
                for i in range(40):
                    faithful = i % 2 == 0
                    claims = [{"text": "c", "trees": float(rng.uniform(0.4, 1.0) if faithful else rng.uniform(0.0, 0.6)),
                               "model": float(rng.uniform(0.0, 1.0)), "specifics": []}]
                    out.write(json.dumps({"half": half, "file": file, "id": f"{file}{i}", "faithful": faithful,
                                          "precision": precisions[i % len(precisions)], "claims": claims}) + "\n")
    return path


@pytest.mark.parametrize(("precision", "name"), [("int8", "combined.json"), ("fp32", "combined-fp32.json")])
def test_the_command_writes_its_precisions_parameters_into_the_folder_it_is_given_and_leaves_the_installed_alone(
        tmp_path, precision, name):
    from guard.training.operating_points import main
    from guard.verify.offline import params_path

    installed = {n: params_path(n).read_bytes() for n in ("combined.json", "combined-fp32.json", "confidence.json")}

    main(["--scores", str(_scores_file(tmp_path / "answers.jsonl", (precision,))), "--out", str(tmp_path / "params")])

    written = json.loads((tmp_path / "params" / name).read_text())
    assert set(written["thresholds"]) == {"low", "medium", "high", "critical"}
    assert written["chosen_on"]["precision"] == precision
    assert not (tmp_path / "params" / ({"combined.json", "combined-fp32.json"} - {name}).pop()).exists()
    before = json.loads(installed["confidence.json"])
    after = json.loads((tmp_path / "params" / "confidence.json").read_text())
    refitted = {"default": after["intercept"] != before["intercept"],
                "fp32": after["support_by_verifier"].get("combined-fp32") != before["support_by_verifier"].get("combined-fp32")}
    assert refitted == {"default": precision == "int8", "fp32": precision == "fp32"}
    assert {n: params_path(n).read_bytes() for n in installed} == installed


def test_scores_of_two_precisions_mixed_are_refused(tmp_path):
    from guard.training.operating_points import main

    with pytest.raises(ValueError, match="precisions"):
        main(["--scores", str(_scores_file(tmp_path / "answers.jsonl", ("int8", "fp32"))), "--out", str(tmp_path)])


def test_the_trees_alone_are_reported_at_their_own_per_claim_thresholds(tmp_path):
    from benchmarks.verify_answers import scored_by_file

    files, params = scored_by_file(_scores_file(tmp_path / "answers.jsonl"), "report", None, trees=True)
    medium = params["thresholds"]["medium"]["threshold"]
    answer_rows = [json.loads(line) for line in (tmp_path / "answers.jsonl").read_text().splitlines()]
    trees = np.array([r["claims"][0]["trees"] for r in answer_rows if r["half"] == "report" and r["file"] == "a"])
    assert files["a"].flagged(medium).tolist() == (trees < medium).tolist()
