"""The training report: phase bars, breakdowns by group and by component, and (for two results) a
side-by-side of the two schemes with ratios. Data first (Sections), then the jinja2 template."""
from __future__ import annotations

import os
from typing import Sequence

from markupsafe import Markup

from ..errors import CimgraphError
from ..schedule.training_result import PHASE_TITLES, TrainingResult
from . import figures
from .data import ROW_UNIT, Section
from .render import _common, _write, environment

FIGURES_OF_MERIT = (("chip area", "area", "m^2"), ("weight-gradient unit area", "wg_area", "m^2"),
                    ("latency per epoch", "latency", "s"), ("dynamic energy per epoch", "dynamic_energy", "J"),
                    ("leakage power", "leakage_power", "W"), ("energy per epoch", "energy", "J"),
                    ("throughput", "tops", "TOPS"), ("energy efficiency", "tops_per_w", "TOPS/W"),
                    ("peak latency per epoch", "peak_latency", "s"), ("peak energy per epoch", "peak_energy", "J"),
                    ("peak energy efficiency", "peak_tops_per_w", "TOPS/W"), ("images per epoch", "images", ""))


SHORT = {"forward": "forward", "activation_gradient": "act. grad.", "weight_gradient": "weight grad.",
         "weight_update": "update", "dram": "DRAM"}   # axis labels of the phase bars


def _phase_groups(r: TrainingResult, attr: str) -> dict[str, list[float]]:
    groups = list(dict.fromkeys(g for p in r.phases for g in getattr(p, attr)))
    return {g: [getattr(p, attr).get(g, 0.0) for p in r.phases] for g in groups}


def sections(r: TrainingResult) -> list[Section]:
    """The tables of one training result."""
    out = [Section("Figures of merit (per epoch)", ("metric", "value", "unit"),
                   [[name, getattr(r, attr), unit] for name, attr, unit in FIGURES_OF_MERIT],
                   units=("", ROW_UNIT, ""),
                   note=f"{r.scheme}: batch {r.batch} x {r.iterations} iterations; operations = 3 x MACs x images "
                        "(seed 001 Fig. 34); peak figures count arrays, ADCs, accumulation and the WG unit only.")]
    out.append(Section("Phases (per epoch)", ("phase", "latency", "energy", "peak latency", "peak energy"),
                       [[PHASE_TITLES.get(p.name, p.name), p.latency, p.energy, p.peak_latency, p.peak_energy]
                        for p in r.phases], units=("", "s", "J", "s", "J"),
                       note="DNN+NeuroSim V2 does not pipeline the phases (seed 001 sec. 5.2): the epoch is their sum."))
    out.append(Section("By component group (per epoch)", ("group", "area", "latency", "energy"),
                       [[g, r.area_by_group.get(g, 0.0), r.latency_by_group.get(g, 0.0), r.energy_by_group.get(g, 0.0)]
                        for g in dict.fromkeys([*r.area_by_group, *r.energy_by_group])], units=("", "m^2", "s", "J")))
    comps: dict[str, list[float]] = {}
    for i, p in enumerate(r.phases):
        for path, e in p.energy_by_component.items():
            comps.setdefault(path, [0.0] * len(r.phases))[i] += e
    out.append(Section("Energy by component and phase (per epoch)",
                       ("component", *[PHASE_TITLES.get(p.name, p.name) for p in r.phases]),
                       [[path, *vals] for path, vals in sorted(comps.items(), key=lambda kv: -sum(kv[1]))],
                       units=("", *["J"] * len(r.phases))))
    return out


def comparison(a: TrainingResult, b: TrainingResult) -> list[Section]:
    """Side-by-side tables with ratios b/a."""
    ratio = lambda x, y: float(y) / float(x) if x else None  # noqa: E731
    rows = [[name, getattr(a, attr), getattr(b, attr), ratio(getattr(a, attr), getattr(b, attr)), unit]
            for name, attr, unit in FIGURES_OF_MERIT]
    la, lb = f"{a.chip} ({a.scheme})", f"{b.chip} ({b.scheme})"
    out = [Section("Figures of merit (per epoch)", ("metric", la, lb, "ratio (b/a)", "unit"), rows,
                   units=("", ROW_UNIT, ROW_UNIT, "x", ""), note="Ratios are the second result over the first.")]
    phases = list(dict.fromkeys([p.name for p in a.phases] + [p.name for p in b.phases]))
    get = lambda r, name, attr: next((getattr(p, attr) for p in r.phases if p.name == name), 0.0)  # noqa: E731
    prow = []
    for name in phases:
        for attr, unit in (("latency", "s"), ("energy", "J")):
            va, vb = get(a, name, attr), get(b, name, attr)
            prow.append([f"{PHASE_TITLES.get(name, name)} {attr}", va, vb, ratio(va, vb), unit])
    out.append(Section("Phases (per epoch)", ("quantity", la, lb, "ratio (b/a)", "unit"), prow,
                       units=("", ROW_UNIT, ROW_UNIT, "x", "")))
    return out


def render_training(results: Sequence[TrainingResult], path: str | os.PathLike | None = None) -> str:
    """HTML of one training result, or two side by side; returns the HTML."""
    if len(results) not in (1, 2):
        raise CimgraphError(f"a training report takes one result (or two to compare), got {len(results)}")
    figs: dict[str, Markup] = {}
    blocks = []
    for k, r in enumerate(results):
        names = [SHORT.get(p.name, p.name) for p in r.phases]
        made = {"latency": figures.stacked_layers_figure(names, _phase_groups(r, "latency_by_group"), "s",
                                                         "Latency per epoch by phase and group"),
                "energy": figures.stacked_layers_figure(names, _phase_groups(r, "energy_by_group"), "J",
                                                        "Dynamic energy per epoch by phase and group")}
        blocks.append({"result": r, "tables": sections(r),
                       "figs": {n: Markup(figures.to_svg(f, f"t{k}-{n}")) for n, f in made.items()}})
    compare = []
    if len(results) == 2:
        a, b = results
        labels = (f"{a.chip} ({a.scheme})", f"{b.chip} ({b.scheme})")
        phase = lambda r, attr: {PHASE_TITLES.get(p.name, p.name): getattr(p, attr) for p in r.phases}  # noqa: E731
        for n, attr, unit, title in (("latency", "latency", "s", "Latency per epoch by phase"),
                                     ("energy", "energy", "J", "Dynamic energy per epoch by phase")):
            figs[n] = Markup(figures.to_svg(figures.compare_figure(labels, phase(a, attr), phase(b, attr), unit, title),
                                            f"tc-{n}"))
        figs["area"] = Markup(figures.to_svg(figures.compare_figure(labels, a.area_by_group, b.area_by_group, "m^2",
                                                                    "Area by group"), "tc-area"))
        compare = comparison(a, b)
    template = environment().get_template("training.html.j2")
    text = template.render(blocks=blocks, compare=compare, figs=figs,
                           data_json=[r.to_dict() for r in results], **_common())
    return _write(text, path)


def write_training_report(results: Sequence[TrainingResult], path: str | os.PathLike) -> str:
    render_training(results, path)
    return os.fspath(path)


def training_report_command(paths: Sequence[str], output: str) -> str:
    results = [TrainingResult.from_json(p) for p in paths]
    write_training_report(results, output)
    what = " vs ".join(f"{r.chip} ({r.scheme})" for r in results)
    return f"wrote {output}: training report of {what} on {results[0].network}"
