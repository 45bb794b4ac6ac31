"""HTML reports of evaluated designs: data first (attrs, JSON), then jinja2 + inline SVG figures.

    from cimgraph.report import write_report, render_comparison
    write_report(result, "out/report.html")
    render_comparison([result_a, result_b], "out/compare.html")

Plugins add tables through the ``cimgraph_report_sections(result)`` hook, returning
:class:`Section` objects (or dicts with the same keys).
"""
from __future__ import annotations

from .data import ReportData, Section, Tile, build_report, collect_sections
from .render import render_comparison, render_html, render_report, report_command, write_report

__all__ = ["ReportData", "Section", "Tile", "build_report", "collect_sections", "render_comparison", "render_html",
           "render_report", "report_command", "write_report"]
