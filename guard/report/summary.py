"""The stakeholder summary: how many targets are met, what went well, what to do next, in plain words."""

from __future__ import annotations

from guard.report.format import fmt, fmt_target
from guard.report.health import value_of
from guard.report.model import Drift, Figures, Metric, Summary

# What to do when a targeted metric has no data yet.
_NO_DATA_HINTS = {
    "hallucination_rate": "turn on the support check (support.enabled) so answers are checked claim by claim",
    "accuracy": "decide review items (guard review ...) so reviewed answers count",
    "latency_p95_ms": "record requests (telemetry.enabled)",
    "thumbs_up_ratio": "collect ratings with guard.feedback(request_id, rating=+1 or -1)",
    "edit_rate": "send what was really sent with guard.feedback(request_id, final_text=...)",
    "deflection": "record requests (telemetry.enabled)",
    "resolution_rate": "report outcomes with guard.feedback(request_id, resolved=True or False)",
    "cost_per_answer_usd": "use models with a known price, or register one with litellm",
}


def summarize(metrics: list[Metric], overall: Figures, by_tier: dict[str, Figures], drift: Drift) -> Summary:
    """Count targets met, pick highlights, and turn every miss into an action naming the tier to look at."""
    targeted = [m for m in metrics if m.target is not None]
    graded = [m for m in targeted if m.status != "NO DATA"]
    on_target = sum(m.status == "PASS" for m in graded)
    status = f"{on_target} of {len(graded)} on target" if graded else "No data yet for any target"
    if graded and len(graded) < len(targeted):
        status += f" ({len(targeted) - len(graded)} without data yet)"
    highlights = [f"{overall.requests} requests: {overall.answered} answered, {overall.failed} failed."]
    highlights += [f"{m.label} {fmt(m.value, m.unit)} meets its target ({fmt_target(m.target, m.unit)})."
                   for m in graded if m.status == "PASS"]
    highlights += _tier_contrast(by_tier)
    actions = [_action(m, by_tier) for m in graded if m.status in ("WARN", "FAIL")]
    actions += [f"No data for {m.label.lower()}: {_NO_DATA_HINTS.get(m.key, 'record more requests')}."
                for m in targeted if m.status == "NO DATA"]
    if drift.status == "ALERT":
        actions.append(f"Drift alert: {drift.message} Check recent changes to the model, prompts or knowledge base.")
    return Summary(status=status, on_target=on_target, with_target=len(graded), highlights=highlights, actions=actions)


def _action(metric: Metric, by_tier: dict[str, Figures]) -> str:
    assert metric.target is not None
    side = "above" if metric.target.direction == "max" else "below"
    text = (f"{metric.label} {side} target ({fmt(metric.value, metric.unit)} vs "
            f"{fmt_target(metric.target, metric.unit)})")
    known = {t: v for t, f in by_tier.items() if (v := value_of(f, metric.key)) is not None}
    if len(known) >= 2:
        pick = max if metric.target.direction == "max" else min
        worst = pick(known, key=known.__getitem__)
        text += f": look at the {worst} tier ({fmt(known[worst], metric.unit)})"
    return text + "."


def _tier_contrast(by_tier: dict[str, Figures]) -> list[str]:
    """Whether low-tier drafts really get edited more than high-tier ones: the tiers' reason to exist."""
    low, high = by_tier.get("low"), by_tier.get("high")
    if not low or not high or low.edit_rate is None or high.edit_rate is None:
        return []
    verdict = ("the tiers sort answers as intended" if low.edit_rate > high.edit_rate
               else "the tiers do not yet separate weak answers from good ones")
    return [f"Low-tier drafts were edited {low.edit_rate:.0%} of the time, high-tier ones {high.edit_rate:.0%}: {verdict}."]
