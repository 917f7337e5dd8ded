"""The stakeholder summary: how many targets are met, missed or not yet settled, and what to do next."""

from __future__ import annotations

from guard.report.format import fmt, fmt_interval, fmt_target
from guard.report.health import DEFS, value_of
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
    """Count targets met, missed and unsettled; pick highlights; turn every miss and open question into an action."""
    targeted = [m for m in metrics if m.target is not None]
    on = [m for m in targeted if m.status == "PASS"]
    off = [m for m in targeted if m.status in ("WARN", "FAIL")]
    few = [m for m in targeted if m.status == "TOO FEW DATA"]
    none = [m for m in targeted if m.status == "NO DATA"]
    parts = [f"{len(on)} on target", f"{len(off)} off target", f"{len(few)} too few data"]
    status = ", ".join(parts) if on or off or few else "No data yet for any target"
    if none and (on or off or few):
        status += f" ({len(none)} without data yet)"
    highlights = [f"{overall.requests} requests: {overall.answered} answered, {overall.failed} failed."]
    highlights += [f"{m.label} {fmt(m.value, m.unit)} (95 % {fmt_interval(m.interval, m.unit)}) meets its target "
                   f"({fmt_target(m.target, m.unit)})." for m in on]
    highlights += _flags_against_estimate(overall)
    highlights += _tier_contrast(by_tier)
    actions = [_action(m, by_tier) for m in off]
    actions += [_more(m) for m in few]
    actions += [f"No data for {m.label.lower()}: {_NO_DATA_HINTS.get(m.key, 'record more requests')}." for m in none]
    if drift.status == "ALERT":
        actions.append(f"Drift alert: {drift.message} Check recent changes to the model, prompts or knowledge base.")
    return Summary(status=status, on_target=len(on), off_target=len(off), too_few_data=len(few), no_data=len(none),
                   with_target=len(on) + len(off), highlights=highlights, actions=actions)


def _action(metric: Metric, by_tier: dict[str, Figures]) -> str:
    assert metric.target is not None
    side = "above" if metric.target.direction == "max" else "below"
    text = (f"{metric.label} {side} target ({fmt(metric.value, metric.unit)}, 95 % "
            f"{fmt_interval(metric.interval, metric.unit)}, vs {fmt_target(metric.target, metric.unit)})")
    known = {t: v for t, f in by_tier.items() if (v := value_of(f, metric.key)) is not None}
    if len(known) >= 2:
        pick = max if metric.target.direction == "max" else min
        worst = pick(known, key=known.__getitem__)
        text += f": look at the {worst} tier ({fmt(known[worst], metric.unit)})"
    return text + "."


def _more(metric: Metric) -> str:
    """What would settle an open verdict, in the reader's words: "Decide about 40 more review items to know accuracy"."""
    name = metric.label.lower()
    if metric.more_needed is None and metric.target is not None and metric.value == metric.target.value:
        return (f"{metric.label} sits on its target ({fmt(metric.value, metric.unit)}, 95 % "
                f"{fmt_interval(metric.interval, metric.unit)}): more data narrows the interval, only a change settles it.")
    todo = DEFS[metric.key].more.format(about="" if metric.more_needed is None else f"about {metric.more_needed:,} ")
    todo = f"{todo[0].upper()}{todo[1:]} to know {name}"
    if metric.value is None:
        return f"{todo} ({metric.basis})."
    return f"{todo} (now {fmt(metric.value, metric.unit)}, 95 % {fmt_interval(metric.interval, metric.unit)}, from {metric.n:,})."


def _flags_against_estimate(overall: Figures) -> list[str]:
    """guard's flag rate beside the labelled estimate: how far the checker's view is from the reviewers'."""
    if overall.flag_rate is None or overall.hallucination_rate is None:
        return []
    return [f"guard flagged {overall.flag_rate:.1%} of checked answers; reviewers' labels put the hallucination "
            f"rate at {overall.hallucination_rate:.1%} ({overall.flagged_wrong} of {overall.flagged_labelled} reviewed "
            f"flags right, {overall.audit_wrong} of {overall.audit_labelled} audited unflagged answers wrong)."]


def _tier_contrast(by_tier: dict[str, Figures]) -> list[str]:
    """Whether low-tier drafts really get edited more than high-tier ones (the tiers' reason to exist), once the
    two edit rates' intervals say so."""
    low, high = by_tier.get("low"), by_tier.get("high")
    if not low or not high or low.edit_rate is None or high.edit_rate is None:
        return []
    (low_bottom, low_top), (high_bottom, high_top) = low.intervals["edit_rate"], high.intervals["edit_rate"]
    if low_bottom is not None and high_top is not None and low_bottom > high_top:
        verdict = "the tiers sort answers as intended"
    elif low_top is not None and high_bottom is not None and low_top < high_bottom:
        verdict = "the tiers do not separate weak answers from good ones"
    else:
        verdict = "too few outcomes yet to tell the tiers apart (their intervals overlap)"
    return [f"Low-tier drafts were edited {low.edit_rate:.0%} of the time ({low.drafts_with_outcome} known), "
            f"high-tier ones {high.edit_rate:.0%} ({high.drafts_with_outcome} known): {verdict}."]
