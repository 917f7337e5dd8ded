"""The product health report: the layered health check of an LLM product, from what the store recorded.

``build_report`` reads a store; ``compute_report`` is the same over plain
lists of records. Render with ``render_terminal``, ``render_html`` (a whole
page) or ``render_html_fragment`` (for embedding), or ``.model_dump()`` for JSON.
"""

from guard.report.build import build_report, compute_report
from guard.report.html import render_html, render_html_fragment
from guard.report.model import HealthReport
from guard.report.terminal import render_terminal

__all__ = ["HealthReport", "build_report", "compute_report", "render_html", "render_html_fragment", "render_terminal"]
