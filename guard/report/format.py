"""How figures read to people: one place, so the terminal, the HTML page and the summary agree."""

from __future__ import annotations

import math

from guard.report.model import Interval, Target, Unit


def fmt(value: float | None, unit: Unit) -> str:
    """``4.2%``, ``812 ms`` / ``1.24 s``, ``$0.000083``; ``no data`` for a missing value."""
    if value is None:
        return "no data"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "ms":
        return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"
    if value <= 0 or value >= 1:
        return f"${value:.2f}"
    return f"${value:.{1 - math.floor(math.log10(value))}f}"  # two significant digits, never 8.3e-05


def fmt_status_value(value: float | None, unit: Unit, status: str | None) -> str:
    """``fmt``, except that a missing value whose labels are still too few reads ``too few data``, not ``no data``."""
    return "too few data" if value is None and status == "TOO FEW DATA" else fmt(value, unit)


def fmt_target(target: Target | None, unit: Unit) -> str:
    """``≤ 5.0%`` or ``≥ 80.0%``; empty when the metric has no target."""
    if target is None:
        return ""
    return ("≤ " if target.direction == "max" else "≥ ") + fmt(target.value, unit)


def fmt_interval(interval: Interval | None, unit: Unit) -> str:
    """``3.1%–8.2%``; ``≥ 812 ms`` when the data bound only one side; ``n/a`` when neither."""
    low, high = interval or (None, None)
    if low is None and high is None:
        return "n/a"
    if high is None:
        return f"≥ {fmt(low, unit)}"
    if low is None:
        return f"≤ {fmt(high, unit)}"
    return f"{fmt(low, unit)}–{fmt(high, unit)}"
