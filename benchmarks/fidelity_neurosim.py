"""cimgraph vs DNN+NeuroSim V1.4 on its own default chip: side-by-side tables with ratios.

The reference figures, the netlists and the activity of NeuroSim's traces are in neurosim_reference.py. Leakage,
dynamic energy and the pipeline period are also counted NeuroSim's way with cimgraph's models, step by step
(neurosim_accounts.py), and so is the placed area term by term (neurosim_area.py). The must-show bands of
issue 18 are held by tests/test_fidelity.py; docs/fidelity.md explains every remaining difference.

    python benchmarks/fidelity_neurosim.py [A|B ...] [--markdown] [--nodes]

``--markdown`` prints the same tables as markdown (the tables of docs/fidelity.md are made this way);
``--nodes`` prints the derived clock, period, energy and TOPS/W at 22 / 32 / 45 nm and with conventional
mapping instead (:func:`node_table`).
"""
from __future__ import annotations

import os
import sys

# sibling modules: running a script puts its folder (benchmarks/) first on sys.path
from neurosim_accounts import (at_neurosim_vector_count, energy_account, interconnect_at_neurosim_counting,
                               leakage_account, period_account)
from neurosim_area import placed_area_account, subarray_box_rows
from neurosim_reference import (AREA_GROUPS, ENERGY_GROUPS, INPUT_DENSITY, INPUT_TOGGLE, NETLISTS, OUTPUT_TOGGLE,
                                REFERENCE, ROOT, SOURCE, ZETA, component_area, evaluate, neurosim_vectors,
                                weight_cell_density)


def rows(config: str, result) -> list[tuple[str, float, float]]:
    """(quantity, NeuroSim, cimgraph) for the chip totals and categories of ``config``."""
    ref = REFERENCE[config]
    out = [("dynamic energy (J)", ref["dynamic_energy"], result.dynamic_energy),
           ("TOPS/W", ref["tops_per_w"], result.tops_per_w),
           ("TOPS/W before NeuroSim's zeta", ref["tops_per_w"] * ZETA, result.tops_per_w),
           ("leakage (W)", ref["leakage_power"], result.leakage_power),
           ("pipeline period (s)", ref["period"], result.period)]
    if "empty_area" in ref:
        out.append(("component area (m^2)", ref["area"] - ref["empty_area"], component_area(result)))
    out.append(("chip area, placed subarrays (m^2)", ref["area"], result.placed_area or result.area))
    if "fps" in ref:
        out.append(("FPS", ref["fps"], result.fps))
    for name, groups in ENERGY_GROUPS.items():
        out.append((f"energy: {name} (J)", ref["energy"][name], sum(result.energy_by_group[g] for g in groups)))
    for name, groups in AREA_GROUPS.items():
        if name in ref.get("area_by", {}):
            out.append((f"area: {name} (m^2)", ref["area_by"][name], sum(result.area_by_group[g] for g in groups)))
    return out


def layer_rows(config: str, result) -> list[tuple[str, float, float, float, float]]:
    """(layer, NeuroSim latency, cimgraph latency, NeuroSim energy, cimgraph energy) where NeuroSim gives them."""
    ref = REFERENCE[config]
    if "layer_latency" not in ref:
        return []
    return [(layer.name, ref["layer_latency"][i], layer.latency, ref["layer_energy"][i], layer.energy)
            for i, layer in enumerate(result.layers)]


def floorplan_rows(config: str, mapping) -> list[tuple[str, int, int, int, int]]:
    """(layer, NeuroSim tiles, cimgraph tiles, NeuroSim speed-up, cimgraph copies)."""
    ref = REFERENCE[config]
    if "tiles" not in ref:
        return []
    return [(p.layer.name, ref["tiles"][i], p.tiles, ref["speedup"][i], p.duplication)
            for i, p in enumerate(mapping.layers)]


def _fmt(value: float, unit: str = "") -> str:
    from cimgraph.units import format_si

    return format_si(value, unit) if unit else f"{value:.3g}"


UNITS = {"(J)": "J", "(W)": "W", "(s)": "s", "(m^2)": "m^2"}
Table = tuple[list[str], list[list[str]]]


def tables(config: str) -> list[Table]:
    """The side-by-side tables of ``config``: (header, rows of cells)."""
    mapping, result = evaluate(config)
    totals = []
    for name, ref, ours in rows(config, result):
        unit = next((u for k, u in UNITS.items() if name.endswith(k)), "")
        label = name.rsplit(" (", 1)[0] if unit else name
        totals.append([label, _fmt(ref, unit), _fmt(ours, unit), f"{ours / ref:.2f}"])
        if name == "leakage (W)":
            counted = leakage_account(mapping, result)[-1][1]
            totals.append(["leakage counted NeuroSim's way", _fmt(ref, unit), _fmt(counted, unit),
                           f"{counted / ref:.2f}"])
        if name == "energy: interconnect (J)":
            counted = interconnect_at_neurosim_counting(mapping, result)
            totals.append(["interconnect at NeuroSim's bit counts", _fmt(ref, unit), _fmt(counted, unit),
                           f"{counted / ref:.2f}"])
            counted = interconnect_at_neurosim_counting(*at_neurosim_vector_count(mapping))
            totals.append(["interconnect at NeuroSim's bit and vector counts", _fmt(ref, unit), _fmt(counted, unit),
                           f"{counted / ref:.2f}"])
    out = [([f"{config}: quantity", "NeuroSim", "cimgraph", "ratio"], totals)]
    per_layer = []
    for (name, lat_ref, lat, e_ref, e), layer in zip(layer_rows(config, result), mapping.network.layers):
        scale = neurosim_vectors(layer) / layer.input_vectors
        per_layer.append([name, _fmt(lat_ref, "s"), _fmt(lat, "s"), f"{lat / lat_ref:.2f}", _fmt(e_ref, "J"),
                          _fmt(e, "J"), f"{e / e_ref:.2f}", f"{e * scale / e_ref:.2f}"])
    if per_layer:
        out.append((["layer", "latency NeuroSim", "cimgraph", "ratio", "energy NeuroSim", "cimgraph", "ratio",
                     "energy ratio at NeuroSim's vector count"], per_layer))
    leak_ref = REFERENCE[config]["leakage_power"]
    out.append((["leakage, step by step", "cimgraph", f"ratio to NeuroSim's {_fmt(leak_ref, 'W')}"],
                [[step, _fmt(value, "W"), f"{value / leak_ref:.2f}"]
                 for step, value in leakage_account(mapping, result)]))
    energy_ref = REFERENCE[config]["dynamic_energy"]
    out.append((["dynamic energy, step by step", "cimgraph", f"ratio to NeuroSim's {_fmt(energy_ref, 'J')}"],
                [[step, _fmt(value, "J"), f"{value / energy_ref:.2f}"] for step, value in energy_account(mapping, result)]))
    period_ref = REFERENCE[config]["period"]
    out.append((["pipeline period, step by step", "cimgraph", f"ratio to NeuroSim's {_fmt(period_ref, 's')}",
                 "slowest layer"],
                [[step, _fmt(value, "s"), f"{value / period_ref:.2f}", layer]
                 for step, value, layer in period_account(config, mapping, result)]))
    out.append((["placed subarray block", "side", "area", "extent"],
                [[name, side, _fmt(area, "m^2"), _fmt(extent, "m") if extent else "corner"]
                 for name, side, area, extent in subarray_box_rows(mapping.chip)]))
    area_ref = REFERENCE[config]["area"]
    empty_ref = REFERENCE[config].get("empty_area")
    out.append((["placed chip area, step by step", "cimgraph", f"ratio to NeuroSim's {_fmt(area_ref, 'm^2')}",
                 "empty box" + (f" (NeuroSim {_fmt(empty_ref, 'm^2')})" if empty_ref else "")],
                [[step, _fmt(value, "m^2"), f"{value / area_ref:.2f}", _fmt(empty, "m^2")]
                 for step, value, empty in placed_area_account(mapping, result)]))
    plan = [[n, str(a), str(b), str(c), str(d)] for n, a, b, c, d in floorplan_rows(config, mapping)]
    if plan:
        ref = REFERENCE[config]
        plan.append(["total / utilization", f"{sum(ref['tiles'])} / {ref['utilization']:.1%}",
                     f"{mapping.tiles_used} / {mapping.utilization:.1%}", "", ""])
        out.append((["layer", "tiles NeuroSim", "cimgraph", "speed-up NeuroSim", "copies cimgraph"], plan))
    return out


def render(table: Table, markdown: bool = False) -> str:
    header, body = table
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    fmt = lambda row: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))  # noqa: E731
    return "\n".join([fmt(header)] + [fmt(row) for row in body])


def report(config: str, markdown: bool = False) -> str:
    parts = [render(t, markdown) for t in tables(config)]
    if not markdown:
        parts.insert(0, f"== config {config}: {NETLISTS[config]} (VGG-8, pipeline, per image) ==\n   reference: "
                        f"{SOURCE}\n   activity: input density {INPUT_DENSITY:.3f}, cell density "
                        f"{weight_cell_density():.3f}, toggle {INPUT_TOGGLE} in / {OUTPUT_TOGGLE} out")
    return "\n\n".join(parts)


NODES = ("22nm", "32nm", "45nm")
NEUROSIM_CLOCK = "601.3MHz"   # NeuroSim V1.4's derived clock at 22 nm (period 1.663 ns), the netlists' former copy


def node_table(config: str) -> Table:
    """``config`` at 22 / 32 / 45 nm, novel (the netlist's) and conventional mapping: the clock period the netlist
    derives (``clock: {auto: true, margin: 1.4}``: NeuroSim's beta x the slowest conversion step), pipeline period,
    dynamic energy and TOPS/W, next to the same chip on NeuroSim's 22 nm clock (601.3 MHz at every node, as the
    netlists stated it before)."""
    from cimgraph.netlist.loader import read_netlist_file

    raw = read_netlist_file(os.path.join(ROOT, NETLISTS[config]))
    body = []
    for node in NODES:
        for method in (None, "conventional"):
            row = [node, method or "novel"]
            for clock in (raw["clock"], NEUROSIM_CLOCK):
                mapping, result = evaluate(config, method, {**raw, "technology": node, "clock": clock})
                row += ([_fmt(1 / mapping.chip.spec.clock, "s")] if clock != NEUROSIM_CLOCK else []) + [
                    _fmt(result.period, "s"), _fmt(result.energy, "J"), f"{result.tops_per_w:.3g}"]
            body.append(row)
    return ([f"{config}: node", "mapping", "clock period (derived)", "pipeline period", "energy (with leakage)", "TOPS/W",
             f"period at {NEUROSIM_CLOCK}", f"energy at {NEUROSIM_CLOCK}", f"TOPS/W at {NEUROSIM_CLOCK}"], body)


def main(args: list[str]) -> None:
    configs = [a for a in args if not a.startswith("--")] or list(NETLISTS)
    markdown = "--markdown" in args
    if not markdown:
        print(f"load: {os.getloadavg()[0]:.2f} (1-min average)")
    if "--nodes" in args:
        print("\n\n".join(render(node_table(config), markdown) for config in configs))
        return
    print("\n\n".join(report(config, markdown) for config in configs))


if __name__ == "__main__":
    main(sys.argv[1:])
