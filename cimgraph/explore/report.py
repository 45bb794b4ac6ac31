"""`cimgraph report study.sqlite -o study.html`: the study's Pareto front, trade-offs and every point.

Data first (``study_data``: plain dicts and report Sections), then figures (pure functions returning
matplotlib Figures, inline SVG through the report package's deterministic ``to_svg``), then the jinja2
template (autoescape on). Each Pareto point links to its netlist, embedded as a downloadable YAML.
"""
from __future__ import annotations

import base64
import os
from typing import Any, Sequence

import numpy as np
import yaml
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from markupsafe import Markup

from ..errors import CimgraphError
from ..report import figures
from ..report.data import PLAIN_UNITS, Section
from .pareto import non_dominated, objective_matrix
from .store import Store

UNITS = {"area": "m^2", "energy": "J", "latency": "s", "period": "s", "dynamic_energy": "J", "leakage_power": "W",
         "tops": "TOPS", "tops_per_w": "TOPS/W", "tops_per_mm2": "TOPS/mm^2", "fps": "FPS", "utilization": "%",
         "accuracy": "%"}
SHOWN = ("energy", "latency", "area", "tops_per_w", "tops_per_mm2", "fps")
LABELS = {"tops_per_w": "energy efficiency", "tops_per_mm2": "compute density", "tops": "throughput",
          "fps": "frames per second", "leakage_power": "leakage power", "dynamic_energy": "dynamic energy"}
RASTER_ABOVE = 400  # point clouds larger than this are drawn as one embedded image (the page stays small)


def _scale(values: Sequence[float], unit: str) -> tuple[float, str]:
    """Axis factor and label: SI prefixes for physical units, figures of merit (TOPS/W, FPS) and % as they are."""
    if unit == "%":
        return 100.0, "%"
    if unit in PLAIN_UNITS:
        return 1.0, unit.replace("mm^2", "mm²")
    return figures.scale(values, unit)


def color_axis(axes: Sequence[str], rows: Sequence[dict[str, Any]]) -> str | None:
    """The axis the scatter plots are coloured by: the first that takes more than one value."""
    for name in axes:
        if len({repr(r["axes"].get(name)) for r in rows}) > 1:
            return name
    return axes[0] if axes else None


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, list[Any], bool]:
    """Numbers as they are, anything else as category indices (sorted); returns (x, labels, numeric)."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=float), [], True
    labels = sorted({str(v) for v in values})
    return np.array([labels.index(str(v)) for v in values], dtype=float), labels, False


@figures.styled
def scatter_figure(ok: Sequence[dict[str, Any]], front: np.ndarray, infeasible: Sequence[dict[str, Any]],
                   x: str, y: str, axis: str | None, title: str) -> Figure:
    """``y`` against ``x`` for every feasible point coloured by ``axis``, the Pareto set outlined, infeasible grey."""
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_axes((0.13, 0.14, 0.62, 0.76))
    xs, ys = [r["metrics"][x] for r in ok], [r["metrics"][y] for r in ok]
    fx, ux = _scale(xs + [r["metrics"][x] for r in infeasible], UNITS[x])
    fy, uy = _scale(ys + [r["metrics"][y] for r in infeasible], UNITS[y])
    if infeasible:
        ax.scatter([r["metrics"][x] * fx for r in infeasible], [r["metrics"][y] * fy for r in infeasible], marker="x",
                   s=14, color="#bbbbbb", linewidths=0.8, label="infeasible",
                   rasterized=len(infeasible) > RASTER_ABOVE)
    if ok:
        values = [r["axes"].get(axis) for r in ok] if axis else []
        code, labels, numeric = _codes(values) if axis else (np.zeros(len(ok)), [], True)
        distinct = sorted(set(code.tolist()))
        points = ax.scatter(np.array(xs) * fx, np.array(ys) * fy, c=code, cmap="viridis", s=16, alpha=0.85,
                            linewidths=0, rasterized=len(ok) > RASTER_ABOVE)
        if axis:
            bar = fig.colorbar(points, ax=ax, fraction=0.05, pad=0.02)
            bar.set_label(figures._text(axis))
            if not numeric:
                bar.set_ticks(range(len(labels)), labels=[figures._text(v) for v in labels])
            elif len(distinct) <= 8:
                bar.set_ticks(distinct)
        pareto = np.flatnonzero(front)
        ax.scatter([xs[i] * fx for i in pareto], [ys[i] * fy for i in pareto], s=44, facecolors="none",
                   edgecolors="#c44e52", linewidths=1.2, label="Pareto set")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"{LABELS.get(x, x)} ({ux})")
    ax.set_ylabel(f"{LABELS.get(y, y)} ({uy})")
    ax.set_title(figures._text(title), loc="left")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", frameon=False)
    return fig


@figures.styled
def multiples_figure(ok: Sequence[dict[str, Any]], front: np.ndarray, axes: Sequence[str],
                     objectives: Sequence[str]) -> Figure:
    """Small multiples: each axis (columns) against each objective (rows); Pareto points in red."""
    axes = list(axes)[:6]
    objectives = list(objectives)[:4]
    fig = Figure(figsize=(1.9 * max(1, len(axes)) + 0.8, 1.7 * max(1, len(objectives)) + 0.6))
    grid = fig.subplots(max(1, len(objectives)), max(1, len(axes)), squeeze=False)
    for i, objective in enumerate(objectives):
        factor, unit = _scale([r["metrics"][objective] for r in ok], UNITS[objective])
        ys = np.array([r["metrics"][objective] * factor for r in ok])
        for j, name in enumerate(axes):
            ax = grid[i][j]
            code, labels, _ = _codes([r["axes"].get(name) for r in ok])
            ax.scatter(code, ys, s=6, color="#4c72b0", alpha=0.5, linewidths=0,
                       rasterized=len(ok) > RASTER_ABOVE / 4)
            ax.scatter(code[front], ys[front], s=10, color="#c44e52", linewidths=0)
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(NullFormatter())
            if labels:
                ax.set_xticks(range(len(labels)), [figures._text(v) for v in labels], rotation=45, fontsize=7)
            if i == len(objectives) - 1:
                ax.set_xlabel(figures._text(name.rsplit(".", 2)[-1] if name.count(".") > 1 else name), fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{LABELS.get(objective, objective)}\n({unit})", fontsize=8)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=0.14, wspace=0.35, hspace=0.3)
    return fig


def study_data(store: Store) -> dict[str, Any]:
    """Everything the study report shows, as plain data and Sections."""
    meta = store.meta("study") or {}
    rows = store.rows(with_netlist=True)
    if not rows:
        raise CimgraphError(f"{store.path}: the store holds no points")
    axes = meta.get("axes") or list(dict.fromkeys(k for r in rows for k in r["axes"]))
    objectives = meta.get("objectives") or [["energy", "min"], ["latency", "min"]]
    ok = [r for r in rows if r["status"] == "ok"]
    front = non_dominated(objective_matrix(ok, objectives)) if ok else np.zeros(0, dtype=bool)
    pareto = [r for r, on in zip(ok, front) if on]
    metrics = list(dict.fromkeys([o[0] for o in objectives] + list(SHOWN)))
    table = [{"key": r["key"], "pareto": bool(on), "axes": [r["axes"].get(a) for a in axes],
              "metrics": [r["metrics"][m] for m in metrics], "netlist": _netlist_link(r) if on else None}
             for r, on in zip(ok, front)]
    infeasible = [r for r in rows if r["status"] == "infeasible"]
    errors = [r for r in rows if r["status"] == "error"]
    sections = []
    if infeasible:
        sections.append(Section("Infeasible points (constraints broken)", [*axes, "violated", *metrics[:3]],
                                [[*(r["axes"].get(a) for a in axes), r["violated"] or "",
                                  *(r["metrics"][m] for m in metrics[:3])] for r in infeasible],
                                units=("",) * (len(axes) + 1) + tuple(UNITS[m] for m in metrics[:3]),
                                note=f"Constraints: {'; '.join(meta.get('constraints', [])) or 'none'}.", warning=True))
    if errors:
        sections.append(Section("Points that failed", [*axes, "error"],
                                [[*(r["axes"].get(a) for a in axes), r["error"]] for r in errors], warning=True))
    return {"meta": meta, "rows": rows, "axes": axes, "objectives": objectives, "ok": ok, "front": front,
            "pareto": pareto, "metrics": metrics, "units": [UNITS[m] for m in metrics], "table": table,
            "infeasible": infeasible, "errors": errors, "sections": sections, "color": color_axis(axes, ok)}


def _netlist_link(row: dict[str, Any]) -> str:
    netlist = dict(row["netlist"])
    if row.get("method"):
        netlist["mapping"] = {**(netlist.get("mapping") or {}), "method": row["method"]}
    text = yaml.safe_dump(netlist, sort_keys=False)
    return "data:application/x-yaml;base64," + base64.b64encode(text.encode()).decode()


def study_figures(data: dict[str, Any]) -> dict[str, str]:
    """The report's figures as inline SVG (deterministic bytes), keyed by name."""
    ok, front, infeasible, color = data["ok"], data["front"], data["infeasible"], data["color"]
    made = {
        "energy_latency": scatter_figure(ok, front, infeasible, "latency", "energy", color,
                                         "Energy vs latency per image"),
        "efficiency": scatter_figure(ok, front, infeasible, "tops_per_mm2", "tops_per_w", color,
                                     "Energy efficiency vs compute density"),
    }
    if ok:
        made["multiples"] = multiples_figure(ok, front, data["axes"], [o[0] for o in data["objectives"]])
    return {name: figures.to_svg(fig, f"study-{name}") for name, fig in made.items()}


def render_study(store: Store) -> str:
    from ..report.render import _common, environment

    data = study_data(store)
    figs = {name: Markup(svg) for name, svg in study_figures(data).items()}
    summary = {s: sum(r["status"] == s for r in data["rows"]) for s in ("ok", "infeasible", "error")}
    template = environment().get_template("study.html.j2")
    return template.render(d=data, figs=figs, summary=summary, data_json=_json(data), **_common())


def _json(data: dict[str, Any]) -> dict[str, Any]:
    return {"study": data["meta"], "points": [{k: r[k] for k in ("key", "seq", "status", "axes", "metrics", "error")}
                                              for r in data["rows"]],
            "pareto": [r["key"] for r in data["pareto"]]}


def report_command(args: Any) -> str:
    """``cimgraph report STUDY.sqlite -o STUDY.html``."""
    if len(args.results) != 1:
        raise CimgraphError("a study report takes one store")
    path = args.results[0]
    if not os.path.exists(path):
        raise CimgraphError(f"{path}: no such study store")
    if os.path.abspath(path) == os.path.abspath(args.output):
        raise CimgraphError(f"{args.output}: refusing to overwrite the store")
    with Store(path) as store:
        text = render_study(store)
        name = (store.meta("study") or {}).get("name", "study")
    folder = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(folder, exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return f"wrote {args.output}: study {name}"
