"""The health report as one self-contained HTML page: inline CSS and SVG, no script, no network.

``render_html_fragment`` is the report without the page shell (its styles
scoped under ``.guard-report``), so the review console can embed the same
report in its own page.
"""

from __future__ import annotations

from html import escape

from guard.report.format import fmt, fmt_interval, fmt_status_value, fmt_target
from guard.report.health import DEFS, MODEL_COLUMNS, TIER_COLUMNS, value_of
from guard.report.model import Figures, HealthReport, Metric, Status
from guard.report.svg import hbars, lines, stacked_bars

TIER_COLOURS = {"high": "#27ae60", "medium": "#f39c12", "low": "#e94560"}
_MARKS = {"PASS": "✓", "WARN": "!", "FAIL": "✗", "TOO FEW DATA": "?", "NO DATA": "–"}

_CSS = """
.guard-report{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;max-width:1180px;margin:0 auto;padding:8px 20px}
.guard-report h1{font-size:22px;margin:8px 0 2px}.guard-report h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
.guard-report .sub{color:#566074;margin:0 0 12px}
.guard-report .headline{font-size:18px;font-weight:600;margin:10px 0}
.guard-report table{border-collapse:collapse;width:100%;margin:6px 0}
.guard-report th,.guard-report td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e9ef;vertical-align:top}
.guard-report th{background:#f4f6f9;font-weight:600}.guard-report td.num{text-align:right;font-variant-numeric:tabular-nums}
.guard-report .basis{color:#566074;font-size:12px}
.guard-report .st{display:inline-block;min-width:64px;padding:1px 6px;border-radius:4px;font-weight:600;font-size:12px;text-align:center}
.guard-report .PASS{background:#e2f4e8;color:#17663a}.guard-report .WARN{background:#fff1d6;color:#7a4b00}
.guard-report .FAIL{background:#fde3e6;color:#9b1c2c}.guard-report .NODATA{background:#eceef2;color:#4a5263}
.guard-report .TOOFEWDATA{background:#fdf6dc;color:#5c4a00}.guard-report .iv{color:#566074;font-size:12px;white-space:nowrap}
.guard-report .drift{padding:8px 12px;border-radius:6px;margin:10px 0;border-left:5px solid #8a94a6;background:#f4f6f9}
.guard-report .drift.ALERT{border-color:#e94560;background:#fde3e6}.guard-report .drift.OK{border-color:#27ae60}
.guard-report .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:18px}
.guard-report figure.chart{margin:0;border:1px solid #e6e9ef;border-radius:6px;padding:8px 10px}
.guard-report figcaption{font-weight:600;margin-bottom:4px}
.guard-report svg{width:100%;height:auto;font-size:11px;fill:#3a4356}
.guard-report svg .grid{stroke:#e6e9ef}.guard-report svg .axis{stroke:#8a94a6}
.guard-report svg .target{stroke:#1d2330;stroke-dasharray:5 4}.guard-report svg .val{fill:#1d2330;font-weight:600}
.guard-report .legend{font-size:12px;color:#3a4356}.guard-report .key{margin-right:14px;white-space:nowrap}
.guard-report .swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.guard-report .dash{display:inline-block;width:18px;border-top:2px dashed #1d2330;margin-right:5px;vertical-align:middle}
.guard-report .two{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:8px 28px}
.guard-report tr.group th{background:none;border-bottom:2px solid #dde1e8;padding-top:12px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#3a4356}
.guard-report .st{min-width:58px;margin-left:4px}
.guard-report table.tiers td{white-space:nowrap}.guard-report table.tiers .st{min-width:0}
.guard-report ul{margin:4px 0 4px 20px;padding:0}
"""


def render_html(report: HealthReport) -> str:
    """The whole page: open it from disk, mail it, archive it; it needs nothing else."""
    title = f"{report.product}: product health report"
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{escape(title)}</title></head><body>{render_html_fragment(report)}</body></html>\n")


def render_html_fragment(report: HealthReport) -> str:
    """The report as one ``<section>`` with its own scoped styles, for embedding in another page."""
    w = report.window
    return "".join([
        f"<section class=\"guard-report\"><style>{_CSS}</style>",
        f"<h1>{escape(report.product)}: product health</h1>",
        f"<p class=\"sub\">{w.since:%Y-%m-%d %H:%M} → {w.until:%Y-%m-%d %H:%M} UTC · {report.requests} requests</p>",
        f"<p class=\"headline\">{escape(report.summary.status)}</p>",
        _summary(report),
        f"<div class=\"drift {report.drift.status.replace(' ', '')}\"><strong>Drift: {report.drift.status}.</strong> "
        f"{escape(report.drift.message)}</div>",
        "<div class=\"two\"><div><h2>Health check</h2>", _health_table(report.metrics), "</div>",
        "<div><h2>By confidence tier</h2>", _tier_table(report), "<h2>By model</h2>", _model_table(report),
        "</div></div>",
        "<h2>Over time</h2>", _charts(report),
        _daily_table(report),
        "</section>",
    ])


def _badge(status: Status | None) -> str:
    if status is None:
        return "<span class=\"basis\">no target</span>"
    return f"<span class=\"st {status.replace(' ', '')}\">{_MARKS[status]} {status}</span>"


def _summary(report: HealthReport) -> str:
    s = report.summary
    actions = "".join(f"<li>{escape(a)}</li>" for a in s.actions) or "<li>Nothing needs attention.</li>"
    highlights = "".join(f"<li>{escape(h)}</li>" for h in s.highlights)
    return (f"<div class=\"two\"><div><h2>Highlights</h2><ul>{highlights}</ul></div>"
            f"<div><h2>Actions</h2><ul>{actions}</ul></div></div>")


def _health_table(metrics: list[Metric]) -> str:
    rows, layer = [], None
    for m in metrics:
        if m.layer != layer:
            layer = m.layer
            rows.append(f"<tr class=\"group\"><th colspan=\"5\" scope=\"rowgroup\">{escape(layer.capitalize())}</th></tr>")
        more = f"<div class=\"basis\">about {m.more_needed:,} more to settle</div>" if m.more_needed else ""
        method = f"<div class=\"basis\">Estimated: {escape(m.method)}</div>" if m.method else ""
        rows.append(f"<tr><td>{escape(m.label)}<div class=\"basis\">{escape(m.basis)}</div>{method}</td>"
                    f"<td class=\"num\">{escape(fmt_status_value(m.value, m.unit, m.status))}</td>"
                    f"<td class=\"num iv\">{escape(fmt_interval(m.interval, m.unit)) if m.n else ''}</td>"
                    f"<td class=\"num\">{escape(fmt_target(m.target, m.unit))}</td><td>{_badge(m.status)}{more}</td></tr>")
    return ("<table><thead><tr><th scope=\"col\">Metric</th><th scope=\"col\">Value</th>"
            "<th scope=\"col\">95 % interval</th><th scope=\"col\">Target</th><th scope=\"col\">Status</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")


def _tier_table(report: HealthReport) -> str:
    """Tiers as columns: one reads across a row to see whether low-tier answers fare worse."""
    head = "".join(f"<th scope=\"col\" class=\"num\"><span class=\"swatch\" style=\"background:"
                   f"{TIER_COLOURS.get(tier, '#8a94a6')}\"></span>{escape(tier)}<div class=\"basis\">"
                   f"{figs.requests} requests</div></th>" for tier, figs in report.by_tier.items())
    rows = []
    for key in TIER_COLUMNS:
        cells = []
        for tier, figs in report.by_tier.items():
            status = report.tier_health[tier].get(key)
            mark = f" {_badge(status)}" if status in ("PASS", "WARN", "FAIL", "TOO FEW DATA") else ""
            value = fmt_status_value(value_of(figs, key), DEFS[key].unit, status)
            cells.append(f"<td class=\"num\">{escape(value)}{mark}{_iv(figs, key)}</td>")
        rows.append(f"<tr><th scope=\"row\">{escape(DEFS[key].label)}</th>{''.join(cells)}</tr>")
    return (f"<table class=\"tiers\"><thead><tr><th scope=\"col\">Metric</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "<p class=\"basis\">Each tier is graded against the same targets as the whole.</p>")


def _model_table(report: HealthReport) -> str:
    """The labelled hallucination estimate beside guard's flag rate, per served model."""
    head = "".join(f"<th scope=\"col\" class=\"num\">{escape(model)}<div class=\"basis\">{figs.requests} requests</div></th>"
                   for model, figs in report.by_model.items())
    rows = "".join(
        f"<tr><th scope=\"row\">{escape(DEFS[key].label)}</th>" + "".join(
            f"<td class=\"num\">{escape(fmt(value_of(figs, key), DEFS[key].unit))}{_iv(figs, key)}</td>"
            for figs in report.by_model.values()) + "</tr>" for key in MODEL_COLUMNS)
    return (f"<table class=\"tiers\"><thead><tr><th scope=\"col\">Metric</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
            if report.by_model else "<p class=\"basis\">No requests in this window.</p>")


def _iv(figs: Figures, key: str) -> str:
    """The 95 % interval under a value, when there is one."""
    if value_of(figs, key) is None:
        return ""
    return f"<div class=\"iv\">{escape(fmt_interval(figs.intervals.get(key), DEFS[key].unit))}</div>"


def _charts(report: HealthReport) -> str:
    labels = [f"{d.date:%d %b}" for d in report.daily]
    tiers = stacked_bars("Answers per day by confidence tier", labels,
                         [(t, TIER_COLOURS[t], [d.tiers.get(t, 0) for d in report.daily]) for t in TIER_COLOURS], _count)
    p95_target = report.targets.get("latency_p95_ms")
    latency = lines("Latency per day (p50 and p95)", labels,
                    [("p50", "#3b6fd8", [d.latency_ms.p50 for d in report.daily]),
                     ("p95", "#8e44ad", [d.latency_ms.p95 for d in report.daily])],
                    lambda v: fmt(v, "ms"), target=p95_target.value if p95_target else None, target_label="p95 target")
    edit_target = report.targets.get("edit_rate")
    edits = hbars("Edit rate by tier", [(t, TIER_COLOURS.get(t, "#8a94a6"), f.edit_rate) for t, f in report.by_tier.items()],
                  lambda v: fmt(v, "ratio"), target=edit_target.value if edit_target else None)
    cost = stacked_bars("Cost per day (USD)", labels, [("cost", "#16a085", [d.cost_usd for d in report.daily])],
                        lambda v: fmt(v, "usd"))
    return f"<div class=\"charts\">{tiers}{latency}{edits}{cost}</div>"


def _count(value: float) -> str:
    return f"{value:.0f}"


def _daily_table(report: HealthReport) -> str:
    rows = "".join(
        f"<tr><td>{d.date:%Y-%m-%d}</td><td class=\"num\">{d.requests}</td>"
        + "".join(f"<td class=\"num\">{d.tiers.get(t, 0)}</td>" for t in TIER_COLOURS)
        + f"<td class=\"num\">{fmt(d.latency_ms.p50, 'ms')}</td><td class=\"num\">{fmt(d.latency_ms.p95, 'ms')}</td>"
        f"<td class=\"num\">{fmt(d.cost_usd, 'usd')}</td></tr>" for d in report.daily)
    return ("<details><summary>Daily figures: the numbers behind the charts</summary><table><thead><tr>"
            "<th scope=\"col\">Day</th><th scope=\"col\">Requests</th><th scope=\"col\">High</th>"
            "<th scope=\"col\">Medium</th><th scope=\"col\">Low</th><th scope=\"col\">Latency p50</th>"
            "<th scope=\"col\">Latency p95</th><th scope=\"col\">Cost</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>")
