"""Small inline SVG charts: no script, no external resource, readable without colour.

Every chart carries a text title and description for screen readers; values
are written beside bars, and series are named in a text legend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

W, H = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 34
PW, PH = W - LEFT - RIGHT, H - TOP - BOTTOM

Series = tuple[str, str, Sequence[float | None]]  # name, colour, one value per x label
Fmt = Callable[[float], str]


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[Series], fmt: Fmt) -> str:
    """Vertical bars, one per label, stacked by series; the total is written above each bar."""
    totals = [sum(v or 0 for v in col) for col in zip(*(s[2] for s in series))] or [0]
    top = nice_max(max(totals))
    slot = PW / max(len(labels), 1)
    bar = min(slot * 0.7, 48)
    parts = [_axes(labels, top, fmt)]
    for i in range(len(labels)):
        x = LEFT + i * slot + (slot - bar) / 2
        base = 0.0
        for name, colour, values in series:
            v = values[i] or 0
            if v:
                y0, y1 = _y(base, top), _y(base + v, top)
                parts.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar:.1f}" height="{y0 - y1:.1f}" '
                             f'fill="{colour}"><title>{escape(labels[i])}, {escape(name)}: {fmt(v)}</title></rect>')
            base += v
        if totals[i] and len(labels) <= 16:
            parts.append(f'<text class="val" x="{x + bar / 2:.1f}" y="{_y(totals[i], top) - 4:.1f}" '
                         f'text-anchor="middle">{escape(fmt(totals[i]))}</text>')
    return _figure(title, _describe_bars(labels, totals, fmt), parts, series)


def lines(title: str, labels: Sequence[str], series: Sequence[Series], fmt: Fmt, target: float | None = None,
          target_label: str = "target") -> str:
    """One line per series over the labels; a missing value breaks the line. A dashed line marks the target."""
    known = [v for _, _, values in series for v in values if v is not None]
    top = nice_max(max(known + ([target] if target is not None else []) + [0]))
    slot = PW / max(len(labels), 1)
    parts = [_axes(labels, top, fmt)]
    if target is not None:
        y = _y(target, top)
        parts.append(f'<line class="target" x1="{LEFT}" x2="{LEFT + PW}" y1="{y:.1f}" y2="{y:.1f}"/>')
    for name, colour, values in series:
        segment: list[str] = []
        for i, v in enumerate(list(values) + [None]):
            if v is None:
                if len(segment) > 1:
                    parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(segment)}"/>')
                segment = []
                continue
            x, y = LEFT + (i + 0.5) * slot, _y(v, top)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(labels[i])}, {escape(name)}: {fmt(v)}</title></circle>')
    desc = "; ".join(f"{name}: " + ", ".join(f"{lab} {fmt(v)}" for lab, v in zip(labels, values) if v is not None)
                     for name, _, values in series)
    note = f"{target_label} {fmt(target)}" if target is not None else None
    return _figure(title, desc or "no data", parts, series, note)


def hbars(title: str, items: Sequence[tuple[str, str, float | None]], fmt: Fmt, target: float | None = None,
          target_label: str = "target") -> str:
    """Horizontal bars, one per item (label, colour, value), the value written beside it; a dashed target line."""
    known = [v for _, _, v in items if v is not None]
    top = nice_max(max(known + ([target] if target is not None else []) + [0]))
    row = PH / max(len(items), 1)
    span = PW - 56  # room to write the value after the longest bar
    parts = [f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + PH}"/>']
    for i, (label, colour, v) in enumerate(items):
        y = TOP + i * row + row * 0.2
        parts.append(f'<text x="{LEFT - 6}" y="{y + row * 0.35:.1f}" text-anchor="end" '
                     f'dominant-baseline="middle">{escape(label)}</text>')
        if v is None:
            parts.append(f'<text class="val" x="{LEFT + 6}" y="{y + row * 0.35:.1f}" dominant-baseline="middle">'
                         f'no data</text>')
            continue
        width = span * v / top
        parts.append(f'<rect x="{LEFT}" y="{y:.1f}" width="{width:.1f}" height="{row * 0.6:.1f}" fill="{colour}">'
                     f'<title>{escape(label)}: {fmt(v)}</title></rect>'
                     f'<text class="val" x="{LEFT + width + 6:.1f}" y="{y + row * 0.35:.1f}" '
                     f'dominant-baseline="middle">{escape(fmt(v))}</text>')
    if target is not None:
        x = LEFT + span * target / top
        parts.append(f'<line class="target" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + PH}"/>'
                     f'<text class="val" x="{x:.1f}" y="{TOP + PH + 16}" text-anchor="middle">'
                     f'{escape(target_label)} {escape(fmt(target))}</text>')
    desc = ", ".join(f"{label} {'no data' if v is None else fmt(v)}" for label, _, v in items)
    return _figure(title, desc, parts, [])


def nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def _y(value: float, top: float) -> float:
    return TOP + PH - PH * value / top


def _axes(labels: Sequence[str], top: float, fmt: Fmt) -> str:
    parts = []
    for frac in (0, 0.5, 1):
        y = _y(top * frac, top)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + PW}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{LEFT - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle">'
                     f'{escape(fmt(top * frac))}</text>')
    slot = PW / max(len(labels), 1)
    step = max(1, math.ceil(len(labels) / 8))
    for i in range(0, len(labels), step):
        parts.append(f'<text x="{LEFT + (i + 0.5) * slot:.1f}" y="{TOP + PH + 18}" text-anchor="middle">'
                     f'{escape(labels[i])}</text>')
    return "".join(parts)


def _describe_bars(labels: Sequence[str], totals: Sequence[float], fmt: Fmt) -> str:
    return ", ".join(f"{lab}: {fmt(t)}" for lab, t in zip(labels, totals)) or "no data"


def _figure(title: str, desc: str, parts: list[str], series: Sequence[Series], dashed: str | None = None) -> str:
    """The chart with its caption and a text legend; ``dashed`` names the dashed target line."""
    legend = "".join(f'<span class="key"><span class="swatch" style="background:{colour}"></span>{escape(name)}</span>'
                     for name, colour, _ in series)
    if dashed:
        legend += f'<span class="key"><span class="dash"></span>{escape(dashed)}</span>'
        desc += f"; dashed line: {dashed}"
    return (f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
            f'<svg role="img" viewBox="0 0 {W} {H}" aria-label="{escape(title)}: {escape(desc)}">'
            f'<title>{escape(title)}</title><desc>{escape(desc)}</desc>{"".join(parts)}</svg>'
            f'{_legend(legend)}</figure>')


def _legend(keys: str) -> str:
    return f'<div class="legend">{keys}</div>' if keys else ""
