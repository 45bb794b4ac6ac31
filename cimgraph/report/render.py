"""Render report data to one self-contained HTML file (jinja2, autoescape on, inline SVG, CSS and JS).

The same Result renders the same bytes: figures are saved with a fixed hash salt and no date,
tables keep their input order, and nothing time- or machine-dependent goes into the page.
"""
from __future__ import annotations

import math
import os
import re
from importlib import resources
from typing import Any, Sequence

import jinja2
from markupsafe import Markup

from ..errors import CimgraphError
from ..units import format_si
from . import figures
from .data import PLAIN_UNITS, ROW_UNIT, ReportData, Section, build_report

_NUMBER_TEXT = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([TGMkmunpfaµ]?)(\S*)")
_PREFIX = {"T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3, "": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9,
           "p": 1e-12, "f": 1e-15, "a": 1e-18}


def cell(value: Any, unit: str = "") -> tuple[str, str | None]:
    """Display text and numeric sort key of one table cell (key None: sort as text)."""
    if value is None:
        return "-", None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value), _text_key(str(value))
    key = repr(float(value)) if math.isfinite(value) else None
    if unit == "%":
        return f"{100 * value:.1f} %", key
    if unit in PLAIN_UNITS:
        return f"{_plain(value)} {unit}", key
    if unit == "m^2" and 0 < abs(value) < 1e-6:  # um^2 with all integer digits (no '8e+05 um^2')
        return format_si(float(value), unit, max(4, len(str(int(abs(value) * 1e12))))), key
    if isinstance(value, int) and unit in ("", "1"):
        return f"{value:,}", key
    return format_si(float(value), "" if unit == "1" else unit, 4), key


def _plain(value: float) -> str:
    """A figure of merit without SI prefix: '25.3', '1,200', '100,000'."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else format_si(float(value), "", 4)


def _text_key(text: str) -> str | None:
    """Numeric key of a pre-formatted quantity such as '1.2 pJ' or '35 %' (plugin tables)."""
    match = _NUMBER_TEXT.fullmatch(text)
    if not match:
        return None
    number, prefix, unit = match.groups()
    if prefix and not unit and prefix not in ("k", "M", "G", "T"):  # a bare 'm' or 'f' is a unit, not a prefix
        prefix = ""
    factor = _PREFIX[prefix] ** (2 if unit.endswith("^2") else 1)
    return repr(float(number) * factor)


def environment() -> jinja2.Environment:
    """The jinja2 environment: templates from the package, autoescape on, strict undefined."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("cimgraph.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.globals["cell"] = cell
    env.globals["si"] = lambda value, unit="": cell(value, unit)[0]
    return env


def _static(name: str) -> Markup:
    """A static file of the package, trusted (ours), inlined into the page."""
    return Markup(resources.files("cimgraph.report").joinpath("static", name).read_text(encoding="utf-8"))


def _common() -> dict[str, Any]:
    from .. import __version__

    return {"css": _static("report.css"), "js": _static("report.js"), "version": __version__}


def report_figures(data: ReportData, prefix: str = "fig") -> dict[str, Markup]:
    """The report's figures as inline SVG, keyed by name."""
    made = {
        "chip": figures.chip_figure(data.hierarchy, data.component_groups,
                                    title=f"{data.chip} ({data.technology}, {data.cell})"),
        "floorplan": figures.floorplan_figure(data.floorplan, data.chip_tiles),
        "area": figures.area_figure(data.area_by_group),
        "latency": figures.stacked_layers_figure(data.layer_names, data.layer_latency, "s", "Latency per layer by group"),
        "energy": figures.stacked_layers_figure(data.layer_names, data.layer_energy, "J",
                                                "Dynamic energy per layer by group"),
        "efficiency": figures.efficiency_figure(data.efficiency),
    }
    return {name: Markup(figures.to_svg(fig, f"{prefix}-{name}")) for name, fig in made.items()}


def render_html(data: ReportData) -> str:
    """HTML of a one-design report."""
    template = environment().get_template("report.html.j2")
    return template.render(data=data, figs=report_figures(data), data_json=data.to_dict(), **_common())


def _write(text: str, path: str | os.PathLike | None) -> str:
    if path is not None:
        from ..output import write_text

        write_text(path, text)
    return text


def render_report(result_or_results: Any, path: str | os.PathLike | None = None, pm: Any = None) -> str:
    """Render one Result (or a sequence of one or two: two make a comparison); returns the HTML."""
    if isinstance(result_or_results, (list, tuple)):
        if len(result_or_results) == 2:
            return render_comparison(result_or_results, path, pm=pm)
        if len(result_or_results) != 1:
            raise CimgraphError(f"a report takes one result (or two to compare), got {len(result_or_results)}")
        result_or_results = result_or_results[0]
    return _write(render_html(build_report(result_or_results, pm=pm)), path)


def write_report(result: Any, path: str | os.PathLike, pm: Any = None) -> str:
    """Write the HTML report of ``result`` to ``path`` (what ``cimgraph run --report`` calls); returns the path."""
    render_report(result, path, pm=pm)
    return os.fspath(path)


# -- comparison -----------------------------------------------------------------------------------

COMPARED = (("chip area", "area", "m^2"), ("latency per image", "latency", "s"), ("period", "period", "s"),
            ("energy per image", "energy", "J"), ("dynamic energy per image", "dynamic_energy", "J"),
            ("leakage power", "leakage_power", "W"), ("throughput", "tops", "TOPS"),
            ("energy efficiency", "tops_per_w", "TOPS/W"), ("compute density", "tops_per_mm2", "TOPS/mm^2"),
            ("frames per second", "fps", "FPS"), ("peak throughput", "peak_tops", "TOPS"),
            ("peak energy efficiency", "peak_tops_per_w", "TOPS/W"), ("array utilization", "utilization", "%"),
            ("MACs per image", "macs", ""))


def _ratio(a: float, b: float) -> float | None:
    return float(b) / float(a) if a else None


def comparison_tables(a: Any, b: Any, groups: Sequence[str]) -> list[Section]:
    """Side-by-side tables with ratios b/a: figures of merit, groups, and layers (when names match)."""
    la, lb = f"{a.chip}", f"{b.chip}"
    rows = [[name, getattr(a, attr), getattr(b, attr), _ratio(getattr(a, attr), getattr(b, attr)), unit]
            for name, attr, unit in COMPARED]
    out = [Section("Figures of merit", ("metric", la, lb, "ratio (b/a)", "unit"), rows,
                   units=("", ROW_UNIT, ROW_UNIT, "x", ""),
                   note="Ratios are the second design over the first.")]
    rows = []
    for g in groups:
        for what, attr, unit in (("area", "area_by_group", "m^2"), ("latency", "latency_by_group", "s"),
                                 ("dynamic energy", "energy_by_group", "J")):
            va, vb = getattr(a, attr).get(g, 0.0), getattr(b, attr).get(g, 0.0)
            rows.append([f"{g} {what}", va, vb, _ratio(va, vb), unit])
    out.append(Section("By group", ("quantity", la, lb, "ratio (b/a)", "unit"), rows,
                       units=("", ROW_UNIT, ROW_UNIT, "x", "")))
    if [l.name for l in a.layers] == [l.name for l in b.layers]:
        out.append(Section(
            "Layers", ("layer", f"latency {la}", f"latency {lb}", "latency ratio", f"energy {la}", f"energy {lb}",
                       "energy ratio", f"duplication {la}", f"duplication {lb}"),
            [[x.name, x.latency, y.latency, _ratio(x.latency, y.latency), x.energy, y.energy,
              _ratio(x.energy, y.energy), x.duplication, y.duplication] for x, y in zip(a.layers, b.layers)],
            units=("", "s", "s", "x", "J", "J", "x", "", "")))
    return out


def render_comparison(results: Sequence[Any], path: str | os.PathLike | None = None, pm: Any = None) -> str:
    """Two designs side by side with ratios (second over first); returns the HTML."""
    if len(results) != 2:
        raise CimgraphError(f"a comparison takes exactly two results, got {len(results)}")
    a, b = results
    da, db = build_report(a, pm=pm), build_report(b, pm=pm)
    groups = tuple(dict.fromkeys([*da.groups, *db.groups]))
    labels = (a.chip, b.chip) if a.chip != b.chip else (f"{a.chip} (a)", f"{b.chip} (b)")
    made = {
        "area": figures.compare_figure(labels, da.area_by_group, db.area_by_group, "m^2", "Area by group"),
        "latency": figures.compare_figure(labels, da.latency_by_group, db.latency_by_group, "s",
                                          "Latency by group (sum over layers)"),
        "energy": figures.compare_figure(labels, da.energy_by_group, db.energy_by_group, "J", "Dynamic energy by group"),
    }
    figs = {name: Markup(figures.to_svg(fig, f"cmp-{name}")) for name, fig in made.items()}
    template = environment().get_template("compare.html.j2")
    text = template.render(a=da, b=db, labels=labels, tables=comparison_tables(a, b, groups), figs=figs,
                           figs_a=report_figures(da, "a"), figs_b=report_figures(db, "b"),
                           data_json={"a": da.to_dict(), "b": db.to_dict()}, **_common())
    return _write(text, path)


# -- command line ---------------------------------------------------------------------------------

def report_command(args: Any) -> str:
    """``cimgraph report RESULT.json [OTHER.json] -o OUT.html``: one result -> report, two -> comparison."""
    from ..schedule.result import Result

    from ..output import check_outputs
    from ..schedule.training_result import is_training_json

    paths = list(args.results)
    check_outputs([args.output], paths)
    if any(is_training_json(p) for p in paths):
        from .training import training_report_command

        return training_report_command(paths, args.output)
    if len(paths) not in (1, 2):
        raise CimgraphError(f"cimgraph report takes one result JSON (a report) or two (a comparison), got {len(paths)}")
    results = [Result.from_json(p) for p in paths]
    if len(results) == 1:
        write_report(results[0], args.output)
        return f"wrote {args.output}: report of {results[0].chip} on {results[0].network}"
    render_comparison(results, args.output)
    return f"wrote {args.output}: {results[0].chip} vs {results[1].chip} on {results[0].network}"
