"""Hard-row mining for a training run: the rows the starting model gets most wrong, balanced, never repeated."""

import numpy as np

from guard.training.splits import TRAIN, Row, side
from guard.training.train import mine_hard_rows

SUPPORT = {"f1": 0.9, "f2": 0.2, "f3": 0.05, "h1": 0.1, "h2": 0.7, "h3": 0.95}  # the starting model's scores


class _Rows:
    """Stands in for ``PairBuilder``: the pair of a row is the row itself."""

    def build(self, rows: list[Row]) -> list[Row]:
        return rows


def _row(name: str) -> Row:
    return Row(file="train/vitaminc", id=name, sources=("s",), response=name, faithful=name.startswith("f"),
               question=None, group=f"title:{name}")


def _predict(rows: list[Row]) -> np.ndarray:
    return np.array([SUPPORT[r.id] for r in rows])


def test_mining_keeps_the_misjudged_rows_of_each_class_and_skips_rows_already_chosen():
    rows = [_row(name) for name in SUPPORT]
    assert all(side(r) == TRAIN for r in rows)
    chosen = [rows[2]]  # f3, the worst faithful row, is already in the run

    mined = mine_hard_rows(_predict, _Rows(), rows, chosen, {"vitaminc": 2}, seed=0, pool_factor=3)

    assert sorted(r.id for r in mined) == ["f2", "h3"]


def test_rows_misjudged_beyond_the_loss_cap_are_left_out_as_likely_mislabelled():
    rows = [_row(name) for name in SUPPORT]

    mined = mine_hard_rows(_predict, _Rows(), rows, [], {"vitaminc": 2}, seed=0, pool_factor=3, max_loss=2.0)

    assert sorted(r.id for r in mined) == ["f2", "h2"]  # not f3 (support 0.05) nor h3 (0.95): loss ~3.0 each
