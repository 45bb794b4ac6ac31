"""`cimgraph run`: netlist + network -> printed summary, JSON, CSV and (optionally) HTML report."""
from __future__ import annotations

import os
from typing import Any

import attrs

from ..components.base import GROUPS
from ..units import format_si
from .result import Result

GROUP_TITLES = {
    "array": "Synaptic arrays",
    "adc": "ADC / sense amplifiers",
    "accumulation": "Accumulation (shift-add, adder trees)",
    "buffer": "Buffers",
    "interconnect": "Interconnect (H-tree, bus)",
    "peripheral": "Other peripherals (decoders, mux, switch matrices, pooling, activation)",
}


def format_summary(r: Result) -> str:
    """The text summary `cimgraph run` prints (NeuroSim-style, per image)."""
    device = next((p["value"] for p in (r.netlist or {}).get("technology_parameters", []) if p["name"] == "device"), "")
    node = f"{r.technology} ({device})" if device else r.technology
    lines = [f"----- {r.chip}: {r.network} on {node} {r.cell}, {r.method} mapping, {r.schedule} schedule -----",
             f"Chip area: {format_si(r.area, 'm^2')}   memory utilization {r.utilization * 100:.2f} %",
             f"  placed (subarray periphery aligned to the array): {format_si(r.placed_area, 'm^2')}; one subarray "
             f"{format_si(r.subarray_area, 'm^2')} of parts in a {format_si(r.subarray_placed_area, 'm^2')} box"]
    for g in GROUPS:
        share = r.area_by_group[g] / r.area * 100 if r.area else 0.0
        lines.append(f"  {GROUP_TITLES[g]:72} {format_si(r.area_by_group[g], 'm^2'):>12} {share:5.1f} %")
    lines.append("")
    name_width = max([12] + [len(layer.name) for layer in r.layers])
    lines.append(f"{'layer':{name_width}} {'tiles':>5} {'PEs':>4} {'SAs':>4} {'dup':>4} {'util':>6} {'latency':>11} {'energy':>11}")
    for layer in r.layers:
        lines.append(f"{layer.name:{name_width}} {layer.tiles:5d} {layer.pes:4d} {layer.subarrays:4d} {layer.duplication:4d} "
                     f"{layer.utilization * 100:5.1f}% {format_si(layer.latency, 's'):>11} {format_si(layer.energy, 'J'):>11}")
    lines.append("")
    lines.append("Breakdown of latency (sum over layers) and dynamic energy per image:")
    for g in GROUPS:
        lines.append(f"  {GROUP_TITLES[g]:72} {format_si(r.latency_by_group[g], 's'):>11} "
                     f"{format_si(r.energy_by_group[g], 'J'):>11}")
    lines += [
        "",
        f"Latency per image: {format_si(r.latency, 's')}   period: {format_si(r.period, 's')}",
        f"Dynamic energy per image: {format_si(r.dynamic_energy, 'J')}",
        f"Leakage power: {format_si(r.leakage_power, 'W')}   leakage energy per image: {format_si(r.leakage_energy, 'J')}",
        f"Total energy per image: {format_si(r.energy, 'J')}",
        f"Throughput: {r.fps:.4g} FPS   {r.tops:.4g} TOPS   {r.tops_per_mm2:.4g} TOPS/mm^2",
        f"Energy efficiency: {r.tops_per_w:.4g} TOPS/W",
        f"Peak (compute only): {r.peak_tops:.4g} TOPS   {r.peak_tops_per_w:.4g} TOPS/W",
    ]
    return "\n".join(lines)


CSV_FILES = ("layers.csv", "components.csv")


def write_csv(r: Result, directory: str) -> list[str]:
    """Write layers.csv (per layer x component energy) and components.csv atomically; return the paths."""
    from ..output import write_tables

    comps = [c.path for c in r.components]
    layers = [["layer", "latency_s", "energy_J"] + [f"latency_{g}_s" for g in GROUPS]
              + [f"energy_{g}_J" for g in GROUPS] + [f"energy_J:{p}" for p in comps]]
    layers += [[layer.name, layer.latency, layer.energy] + [layer.latency_by_group[g] for g in GROUPS]
               + [layer.energy_by_group[g] for g in GROUPS]
               + [layer.energy_by_component.get(p, 0.0) for p in comps] for layer in r.layers]
    components = [["path", "kind", "group", "plugin", "version", "instances", "area_m2", "leakage_W", "source"]]
    components += [[c.path, c.kind, c.group, c.plugin, c.version, c.instances, c.area, c.leakage, c.source]
                   for c in r.components]
    return write_tables(directory, dict(zip(CSV_FILES, (layers, components))))


def load_network(name_or_file: str) -> Any:
    """A bundled network by name, or a NetWork.csv / YAML network file by path."""
    import os

    from ..workload import BUNDLED, bundled, read_network

    if name_or_file in BUNDLED or not os.path.splitext(name_or_file)[1]:
        return bundled(name_or_file)
    return read_network(name_or_file)


def shadowing_warnings(chip: Any, method: str = "") -> list[str]:
    """One line per built-in kind, cell, technology or mapping this chip uses that a plugin replaced."""
    used = {chip.node(path)["kind"] for path in chip.components()} | {chip.cell.name, chip.tech.name, method}
    return [f"{e.name} is modelled by plugin {e.plugin} {e.version}, which overrides the built-in one of {e.overrides}"
            for e in chip.registry.shadowed_builtins() if e.name in used]


def assumption_warnings(chip: Any) -> list[str]:
    """One line per level with several children but no interconnect or no adder, and for a subarray
    without shift-adder: what moves, adds or combines that data is then costed as free, an
    assumption the user should see."""
    from ..netlist.schema import CHILD_KEYS

    lines = []
    slices = chip.spec.precision.input * chip.cells_per_weight
    subarray_roles = {c.spec.kind.split(".")[0] for c in chip.levels["subarray"].components}
    if slices > 1 and "shiftadd" not in subarray_roles and not getattr(type(chip.subarray), "digital", False):
        lines.append(f"$.chip.tile.pe.subarray has no shiftadd.* component: combining its "
                     f"{chip.spec.precision.input} input-bit cycles x {chip.cells_per_weight} cells per weight "
                     "is assumed free")
    for level, child in CHILD_KEYS.items():
        children = chip.levels[child].count
        if children < 2:
            continue
        roles = {c.spec.kind.split(".")[0] for c in chip.levels[level].components}
        where = "$." + ".".join(("chip", "tile", "pe")[: ("chip", "tile", "pe").index(level) + 1])
        for role, what in (("link", "moving data to and from"), ("adder", "adding the partial sums of")):
            if role not in roles:
                lines.append(f"{where} has no {role}.* component: {what} its {children} {child}s is assumed free")
        carried = {getattr(c.model, "carries", "both") for c in chip.levels[level].components
                   if c.spec.kind.startswith("link.")}
        for data, way in (("input", "inputs down to"), ("output", "results up from")):
            if carried and not carried & {"both", data}:
                lines.append(f"{where} has no link.* carrying {data}s: moving {way} its {children} {child}s "
                             f"is assumed free")
    return lines


def run_command(args: Any) -> str:
    from ..mapping import map_network
    from ..netlist import load_netlist
    from ..output import check_outputs
    from .activity import activity_for
    from .evaluate import evaluate

    csv_paths = [os.path.join(args.csv, name) for name in CSV_FILES] if args.csv else []
    inputs = [args.netlist, args.network if os.path.isfile(args.network) else None]
    traces = getattr(args, "traces", None)
    if traces and os.path.isdir(traces):
        inputs += [os.path.join(traces, name) for name in sorted(os.listdir(traces))]
    check_outputs([args.json, args.report, *csv_paths], inputs)
    chip = load_netlist(args.netlist)
    mapping = map_network(chip, load_network(args.network), method=args.method)
    activity = activity_for(mapping, args.activity, args.traces, args.activity_model, args.activity_data)
    result = evaluate(mapping, schedule=args.schedule, activity=activity)
    warnings = shadowing_warnings(mapping.chip, mapping.method) + assumption_warnings(mapping.chip)
    if warnings:
        import sys

        result = attrs.evolve(result, warnings=tuple(warnings))
        for line in warnings:
            print(f"cimgraph run: warning: {line}", file=sys.stderr)
    text = format_summary(result)
    if result.designs:
        from .hybrid import format_designs

        text += "\n" + format_designs(result)
    from ..report import write_report

    return "\n".join([text] + write_outputs(result, args, write_csv, write_report))


def write_outputs(result: Any, args: Any, csv_writer: Any, report_writer: Any) -> list[str]:
    """Write ``--json`` / ``--csv`` / ``--report`` (each only when asked); return the 'wrote ...' lines.
    The outputs were checked against the command's inputs (`output.check_outputs`) before the work."""
    notes = []
    if args.json:
        result.to_json(args.json)
        notes.append(f"wrote {args.json}")
    if args.csv:
        notes.extend(f"wrote {p}" for p in csv_writer(result, args.csv))
    if args.report:
        report_writer(result, args.report)
        notes.append(f"wrote {args.report}")
    return notes
