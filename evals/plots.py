"""Small SVG charts drawn by hand, so an HTML report needs no script, font or file from anywhere else."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

WIDTH, HEIGHT = 360, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 14, 28, 40
_INK, _GRID, _ACCENT = "#2c3e50", "#e3e6ea", "#2e86de"


@dataclass(frozen=True)
class _Frame:
    """Maps data coordinates into the plot area and draws the axes around it."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def x(self, value: float) -> float:
        lo, hi = self.x_range
        return _LEFT + (value - lo) / ((hi - lo) or 1) * (WIDTH - _LEFT - _RIGHT)

    def y(self, value: float) -> float:
        lo, hi = self.y_range
        return HEIGHT - _BOTTOM - (value - lo) / ((hi - lo) or 1) * (HEIGHT - _TOP - _BOTTOM)

    def axes(self, title: str, x_label: str, y_label: str, x_ticks: Sequence[float], y_ticks: Sequence[float]) -> str:
        parts = [f'<text x="{WIDTH / 2}" y="17" text-anchor="middle" font-weight="bold">{escape(title)}</text>']
        for t in y_ticks:
            parts.append(f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{self.y(t):.1f}" y2="{self.y(t):.1f}" '
                         f'stroke="{_GRID}"/>')
            parts.append(f'<text x="{_LEFT - 5}" y="{self.y(t) + 4:.1f}" text-anchor="end">{_tick(t)}</text>')
        for t in x_ticks:
            parts.append(f'<text x="{self.x(t):.1f}" y="{HEIGHT - _BOTTOM + 15}" text-anchor="middle">{_tick(t)}</text>')
        bottom, left = HEIGHT - _BOTTOM, _LEFT
        parts.append(f'<polyline points="{left},{_TOP} {left},{bottom} {WIDTH - _RIGHT},{bottom}" '
                     f'fill="none" stroke="{_INK}"/>')
        parts.append(f'<text x="{(left + WIDTH - _RIGHT) / 2}" y="{HEIGHT - 6}" text-anchor="middle">'
                     f'{escape(x_label)}</text>')
        parts.append(f'<text transform="translate(12,{(_TOP + bottom) / 2}) rotate(-90)" text-anchor="middle">'
                     f'{escape(y_label)}</text>')
        return "".join(parts)


def _tick(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if abs(value) >= 1 else f"{value:.2g}"


def _svg(body: str, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
            f'height="{HEIGHT}" role="img" aria-label="{escape(label)}" font-family="sans-serif" font-size="11" '
            f'fill="{_INK}">{body}</svg>')


def _empty(title: str, reason: str) -> str:
    return _svg(f'<text x="{WIDTH / 2}" y="17" text-anchor="middle" font-weight="bold">{escape(title)}</text>'
                f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{escape(reason)}</text>', title)


_UNIT = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def roc_chart(points: Sequence[tuple[float, float]] | None, auroc: float | None, reason: str = "") -> str:
    title = "ROC curve" + (f" (AUROC {auroc:.3f})" if auroc is not None else "")
    if not points:
        return _empty("ROC curve", reason or "not defined")
    f = _Frame((0, 1), (0, 1))
    curve = " ".join(f"{f.x(a):.1f},{f.y(b):.1f}" for a, b in points)
    body = (f.axes(title, "false-positive rate", "true-positive rate", _UNIT, _UNIT)
            + f'<line x1="{f.x(0)}" y1="{f.y(0)}" x2="{f.x(1)}" y2="{f.y(1)}" stroke="#aaa" stroke-dasharray="4 3"/>'
            + f'<polyline points="{curve}" fill="none" stroke="{_ACCENT}" stroke-width="2"/>')
    return _svg(body, title)


def reliability_chart(bins: Sequence[dict], ece: float | None) -> str:
    """Observed hallucination rate per predicted-probability bin; a calibrated detector follows the diagonal."""
    title = "Reliability" + (f" (ECE {ece:.3f})" if ece is not None else "")
    filled = [b for b in bins if b["count"]]
    if not filled:
        return _empty("Reliability", "no scored items")
    f = _Frame((0, 1), (0, 1))
    marks = []
    for b in filled:
        x0, x1 = f.x(b["lower"]) + 1, f.x(b["upper"]) - 1
        top = f.y(b["observed_rate"])
        marks.append(f'<rect x="{x0:.1f}" y="{top:.1f}" width="{x1 - x0:.1f}" height="{f.y(0) - top:.1f}" '
                     f'fill="{_ACCENT}" fill-opacity="0.35"><title>{b["lower"]:.1f}-{b["upper"]:.1f}: '
                     f'{b["count"]} items, predicted {b["mean_score"]:.2f}, observed {b["observed_rate"]:.2f}'
                     f'</title></rect>')
    # Each bin's mean prediction against what was observed: on the diagonal when calibrated.
    points = " ".join(f'{f.x(b["mean_score"]):.1f},{f.y(b["observed_rate"]):.1f}' for b in filled)
    marks.append(f'<polyline points="{points}" fill="none" stroke="{_INK}" stroke-width="1.5"/>')
    marks += [f'<circle cx="{f.x(b["mean_score"]):.1f}" cy="{f.y(b["observed_rate"]):.1f}" r="3" fill="{_INK}"/>'
              for b in filled]
    body = (f.axes(title, "predicted P(hallucinated)", "observed hallucination rate", _UNIT, _UNIT)
            + f'<line x1="{f.x(0)}" y1="{f.y(0)}" x2="{f.x(1)}" y2="{f.y(1)}" stroke="#aaa" stroke-dasharray="4 3"/>'
            + "".join(marks))
    return _svg(body, title)


def bar_chart(title: str, shares: dict[str, float], colors: dict[str, str]) -> str:
    """Shares (0-1) as labelled vertical bars."""
    if not shares:
        return _empty(title, "no items")
    f = _Frame((0, len(shares)), (0, 1))
    bars = []
    for i, (name, share) in enumerate(shares.items()):
        x0, x1, top = f.x(i) + 10, f.x(i + 1) - 10, f.y(share)
        bars.append(f'<rect x="{x0:.1f}" y="{top:.1f}" width="{x1 - x0:.1f}" height="{f.y(0) - top:.1f}" '
                    f'fill="{colors.get(name, _ACCENT)}"/>')
        bars.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top - 4:.1f}" text-anchor="middle">{share:.0%}</text>')
        bars.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{f.y(0) + 15:.1f}" text-anchor="middle">{escape(name)}</text>')
    return _svg(f.axes(title, "", "share of items", [], _UNIT) + "".join(bars), title)


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Ticks from 0 past ``high`` in round steps (1, 2 or 5 times a power of ten)."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(high / step - 1e-9) + 1)]


def histogram(title: str, values: Sequence[float], x_label: str, bins: int = 20) -> str:
    """Counts from 0 to the 99th percentile; the few slower values join the last bar, so one outlier
    (a model loading on the first item) cannot squash the rest into a single bar."""
    data = np.asarray([v for v in values if v is not None], dtype=float)
    if data.size == 0:
        return _empty(title, "no values")
    x_ticks = nice_ticks(float(np.percentile(data, 99)))
    top = x_ticks[-1]
    beyond = int((data > top).sum())
    counts, edges = np.histogram(np.minimum(data, top), bins=bins, range=(0, top))
    y_ticks = nice_ticks(float(counts.max()), 4)
    f = _Frame((0, top), (0, y_ticks[-1]))
    bars = [
        f'<rect x="{f.x(lo) + 0.5:.1f}" y="{f.y(c):.1f}" width="{max(f.x(hi) - f.x(lo) - 1, 0.5):.1f}" '
        f'height="{f.y(0) - f.y(c):.1f}" fill="{_ACCENT}"><title>{lo:.0f}-{hi:.0f}: {c}</title></rect>'
        for lo, hi, c in zip(edges[:-1], edges[1:], counts) if c
    ]
    label = x_label + (f" ({beyond} above {_tick(top)} in the last bar)" if beyond else "")
    return _svg(f.axes(title, label, "items", x_ticks, y_ticks) + "".join(bars), title)
