"""Choosing the operating point that turns a support score into "unsupported", per risk level.

Chosen on held-out development data (or a product's own labels), by the worst file, so that what holds on
the data holds on each kind of text it covers: at low and medium risk the highest threshold at which no
file has more faithful answers flagged than the cap (30 % at medium: the review queue must not become the
traffic), at high and critical the lowest at which every file still has 85 % of its hallucinated answers
flagged (never below medium's), so a person sees nearly every bad one at the price of more false alarms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

FALSE_FLAG_CAP = {"low": 0.15, "medium": 0.30}
CATCH_FLOOR = {"high": 0.85, "critical": 0.85}
RULES = {"low": f"worst file's false-flag rate <= {FALSE_FLAG_CAP['low']}",
         "medium": f"worst file's false-flag rate <= {FALSE_FLAG_CAP['medium']}",
         "high": f"worst file's catch rate >= {CATCH_FLOOR['high']}",
         "critical": f"worst file's catch rate >= {CATCH_FLOOR['critical']}"}


def read_thresholds(params: dict) -> dict[str, float]:
    """The threshold per risk level stored in a verifier's parameters by ``choose``."""
    return {risk: float(spec["threshold"]) for risk, spec in params.get("thresholds", {}).items()}


def answer_threshold(threshold: float, claims: np.ndarray | int, exponent: float) -> np.ndarray | float:
    """The per-claim threshold in an answer of ``claims`` factual claims: ``threshold * claims ** -exponent``.

    Each claim is one more chance to flag a faithful answer by mistake, so the claims of a long answer are
    held to a lower bar (exponent 0: every claim to the same one). The exponent is chosen with the thresholds
    (``guard.training.operating_points``).
    """
    return threshold * np.power(np.maximum(claims, 1), -exponent)


def file_weights(files: np.ndarray) -> np.ndarray:
    """1/size of each row's file, so every file counts the same."""
    names, counts = np.unique(files, return_counts=True)
    size = dict(zip(names.tolist(), counts.tolist()))
    return np.array([1.0 / size[f] for f in files.tolist()])


def by_rules(grid: Sequence[float], rates: Callable[[float], list[tuple[float, float]]]) -> dict[str, float]:
    """The threshold per risk level by the module's rules; ``rates(t)`` gives each file's (false-flag rate,
    catch rate) at ``t`` (NaN where a file has no answer of that label)."""
    at = {t: rates(t) for t in grid}

    def worst_false_flag(t: float) -> float:
        return max((ff for ff, _ in at[t] if not np.isnan(ff)), default=0.0)

    def worst_catch(t: float) -> float:
        return min((c for _, c in at[t] if not np.isnan(c)), default=1.0)

    chosen = {risk: float(max((t for t in grid if worst_false_flag(t) <= cap), default=grid[0]))
              for risk, cap in FALSE_FLAG_CAP.items()}
    for risk, floor in CATCH_FLOOR.items():
        strict = min((t for t in grid if worst_catch(t) >= floor), default=float(grid[-1]))
        chosen[risk] = float(max(strict, chosen["medium"]))
    return chosen


def candidates(scores: np.ndarray) -> np.ndarray:
    """Midpoints between distinct scores (and the ends): every distinct decision the data allows."""
    distinct = np.unique(scores)
    return np.concatenate([[0.0], (distinct[1:] + distinct[:-1]) / 2, [1.0]]) if distinct.size > 1 else distinct


def file_rates(flagged: np.ndarray, faithful: np.ndarray) -> tuple[float, float]:
    """(false-flag rate, catch rate); NaN where there is no answer of that label."""
    good, bad = faithful, ~faithful
    return (float(flagged[good].mean()) if good.any() else np.nan,
            float(flagged[bad].mean()) if bad.any() else np.nan)


def choose(scores: np.ndarray, faithful: np.ndarray, files: np.ndarray) -> dict[str, dict]:
    """``{risk: {threshold, rule, false_flag_rate, catch_rate}}`` on the given held-out rows (``score <
    threshold`` is flagged), the rates those of the worst file."""
    scores, faithful, files = np.asarray(scores, dtype=float), np.asarray(faithful, dtype=bool), np.asarray(files)
    groups = [files == f for f in np.unique(files)]

    def rates(t: float) -> list[tuple[float, float]]:
        return [file_rates(scores[g] < t, faithful[g]) for g in groups]

    result = {}
    for risk, threshold in by_rules(candidates(scores).tolist(), rates).items():
        per_file = rates(threshold)
        result[risk] = {"threshold": round(threshold, 4), "rule": RULES[risk],
                        "false_flag_rate": round(max((ff for ff, _ in per_file if not np.isnan(ff)), default=0.0), 4),
                        "catch_rate": round(min((c for _, c in per_file if not np.isnan(c)), default=1.0), 4)}
    return result
