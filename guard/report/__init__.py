"""The product health report: the layered health check of an LLM product, from what the store recorded.

``build_report`` reads a store; ``compute_report`` is the same over plain
lists of records. Render with ``render_html`` (a whole page) or
``render_html_fragment`` (for embedding), or ``.model_dump()`` for JSON; the
CLI's terminal rendering lives with it (``guard.adapters.report_terminal``).
"""

from guard.report.build import build_report, compute_report
from guard.report.html import render_html, render_html_fragment
from guard.report.model import HealthReport

__all__ = ["HealthReport", "build_report", "compute_report", "render_html", "render_html_fragment"]
