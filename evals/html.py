"""The HTML report: one self-contained file (inline CSS and SVG) that can be mailed or archived by CI."""

from __future__ import annotations

from collections import Counter
from html import escape
from pathlib import Path

from guard.evals import metrics as m
from guard.evals.plots import bar_chart, histogram, reliability_chart, roc_chart
from guard.evals.report import Report, format_value
from guard.evals.results import DetectionResult, GenerationResult

TIER_COLORS = {"high": "#27ae60", "medium": "#f39c12", "low": "#e94560"}
MAX_ITEM_ROWS = 500

_CSS = """
body{font-family:system-ui,sans-serif;color:#2c3e50;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{margin-bottom:.2rem} .sub{color:#667;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:14px}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 10px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:bold}
.pass{background:#27ae60}.fail{background:#e94560}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots svg{border:1px solid #e3e6ea;border-radius:6px}
.muted{color:#889}.err{color:#e94560}.answer{white-space:pre-wrap;max-width:420px}
"""


def render_html(report: Report) -> str:
    title = f"{report.suite.name}" + (f" [{report.arm}]" if report.arm else "")
    body = [
        f"<h1>{escape(title)} {_badge(report.passed)}</h1>",
        f'<p class="sub">{report.suite.kind} suite · {report.counts.items} items, {report.counts.scored} scored, '
        f"{report.counts.failed} failed · {escape(report.created_at)} · guard {escape(report.guard_version)}</p>",
        _thresholds(report), _metrics(report), '<div class="plots">', *_plots(report), "</div>",
        _items(report), _provenance(report),
    ]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>")


def write_html(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")


def _badge(passed: bool) -> str:
    return f'<span class="badge {"pass" if passed else "fail"}">{"PASS" if passed else "FAIL"}</span>'


def _thresholds(report: Report) -> str:
    if not report.thresholds:
        return "<p class=muted>No thresholds: this run gates nothing.</p>"
    rows = "".join(f"<tr><td>{escape(name)}</td><td>{escape(t.target)}</td><td class=num>{format_value(t.value)}</td>"
                   f"<td>{_badge(t.passed)}</td></tr>" for name, t in report.thresholds.items())
    return f"<h2>Thresholds</h2><table><tr><th>metric</th><th>target</th><th>value</th><th></th></tr>{rows}</table>"


def _metrics(report: Report) -> str:
    rows = []
    for name, value in report.metrics.items():
        interval = report.intervals.get(name)
        span = f"[{format_value(interval[0])}, {format_value(interval[1])}]" if interval else ""
        note = escape(report.undefined.get(name, ""))
        rows.append(f"<tr><td>{escape(name)}</td><td class=num>{format_value(value)}</td><td class=num>{span}</td>"
                    f"<td class=muted>{note}</td></tr>")
    return ("<h2>Metrics</h2><table><tr><th>metric</th><th>value</th><th>95% interval</th><th></th></tr>"
            + "".join(rows) + "</table>")


def _plots(report: Report) -> list[str]:
    ok = [item for item in report.items if item.ok]
    tiers = Counter(item.tier for item in ok if item.tier)
    tier_shares = {t: tiers[t] / len(ok) for t in ("high", "medium", "low")} if ok else {}
    plots = []
    if report.suite.kind == "detection":
        scored = [i for i in ok if isinstance(i, DetectionResult) and i.score is not None]
        curve = m.roc_curve([i.hallucinated for i in scored], [i.score for i in scored])
        plots.append(roc_chart(None if isinstance(curve, m.Undefined) else curve, report.metrics.get("auroc"),
                               curve.reason if isinstance(curve, m.Undefined) else ""))
        plots.append(reliability_chart(report.reliability, report.metrics.get("ece")))
    plots.append(bar_chart("Tier mix", tier_shares, TIER_COLORS))
    plots.append(histogram("Latency", [i.latency_ms for i in ok if i.latency_ms is not None], "ms per item"))
    return plots


def _items(report: Report) -> str:
    if report.suite.kind == "detection":
        return _detection_items([i for i in report.items if isinstance(i, DetectionResult)])
    return _generation_items([i for i in report.items if isinstance(i, GenerationResult)])


def _shown(items: list, interesting) -> tuple[list, str]:
    """Failures and wrong calls first, capped so a large suite still opens quickly."""
    ordered = sorted(items, key=lambda i: (i.ok, not interesting(i)))
    hidden = len(ordered) - MAX_ITEM_ROWS
    note = f"<p class=muted>{hidden} more items in the JSON report.</p>" if hidden > 0 else ""
    return ordered[:MAX_ITEM_ROWS], note


def _detection_items(items: list[DetectionResult]) -> str:
    shown, note = _shown(items, lambda i: i.flagged is not None and i.flagged != i.hallucinated)
    rows = []
    for i in shown:
        label = "hallucinated" if i.hallucinated else "faithful"
        call = f'<span class="err">{escape(i.error)}</span>' if i.error else escape(i.verdict or "no score")
        wrong = " ✗" if i.flagged is not None and i.flagged != i.hallucinated else ""
        rows.append(f"<tr><td>{escape(i.id)}</td><td>{label}</td><td>{call}{wrong}</td>"
                    f"<td class=num>{format_value(i.score)}</td><td>{i.tier or ''}</td><td class=num>{format_value(i.latency_ms)}</td></tr>")
    return ("<h2>Items</h2><p class=muted>Failures and wrong calls first.</p><table><tr><th>id</th><th>label</th>"
            "<th>guard's call</th><th>P(hallucinated)</th><th>tier</th><th>ms</th></tr>" + "".join(rows) + "</table>" + note)


def _generation_items(items: list[GenerationResult]) -> str:
    shown, note = _shown(items, lambda i: (i.fact_recall or 0) < 1 or bool(i.flagged))
    rows = []
    for i in shown:
        facts = "<br>".join(f"{'✓' if f.supported else '✗'} {escape(f.fact)}" for f in i.facts)
        answer = f'<span class="err">{escape(i.error)}</span>' if i.error else escape(i.answer or "")
        rows.append(f"<tr><td>{escape(i.id)}</td><td>{escape(i.question)}</td><td class=answer>{answer}</td><td>{facts}</td>"
                    f"<td>{i.tier or ''}</td><td class=num>{format_value(i.fact_recall)}</td><td class=num>{format_value(i.latency_ms)}</td></tr>")
    return ("<h2>Items</h2><p class=muted>Failures and incomplete answers first.</p><table><tr><th>id</th>"
            "<th>question</th><th>answer</th><th>reference facts</th><th>tier</th><th>fact recall</th><th>ms</th></tr>"
            + "".join(rows) + "</table>" + note)


def _provenance(report: Report) -> str:
    rows = [("dataset", report.suite.dataset), ("dataset hash", report.dataset_hash), ("config hash", report.config_hash)]
    if report.documents_hash:
        rows.append(("documents hash", report.documents_hash))
    if report.decision_threshold is not None:
        rows.append(("decision threshold", f"confidence < {report.decision_threshold:g} is called hallucinated"))
    cells = "".join(f"<tr><td>{k}</td><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<h2>Provenance</h2><table>{cells}</table>"
