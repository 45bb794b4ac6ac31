"""Evaluate a HybridMapping: each tile design's layers as usual, plus what moving between designs costs.

Per design, :func:`cimgraph.schedule.evaluate.evaluate` costs its own sub-network (arrays, read-out, tile /
PE buffers and links) exactly as on a single-design chip. On top of that (NeuroSim V1.5's hybrid chip,
seed 003):

- dynamic write: a ``matmul`` layer's second operand (K^T or V of every head, ``weights`` values of
  ``input bits``) is written into its digital-CIM rows for every image / sequence: every stored row once,
  with the array's ``write()``; the subarrays write in parallel, each its rows one after another;
- data movement between designs: a ``matmul`` layer's inputs and its operand are read from the chip buffer
  and sent over the chip-level link to its tiles, and its outputs come back and are written; a functional
  layer's elements go to the chip's function unit and back the same way;
- functional layers: ``elements / lanes`` actions of the function unit (``softmax()``, ``layernorm()``,
  ``gelu()``), one after another, then ``rows / lanes`` of its per-row step (``row(kind)``: the reciprocal
  of a softmax row sum, the inverse square root of a layer-norm variance), rows = tokens x ``groups``
  (a softmax row is one head's scores);
- the transpose of K: a ``matmul`` operand whose stored rows are not one per token (Q K^T stores K^T,
  inner = head width; S V stores V, inner = tokens, self-attention) arrives token by token and is
  transposed through the chip buffer: one extra buffer write and read of the operand (a transpose buffer,
  as the K^T write path of TranCIM, F. Tu et al., IEEE JSSC 2023).

A design of static layers only (conv / fc / linear, e.g. NeuroSim's tile design for conventionally mapped
layers) is built over a copy of the chip level (netlist/designs.py), so its layers' chip-level work (chip
buffer, chip interconnect, accumulation, activation, pooling) is costed by evaluate() exactly as the chip's own
layers' and nothing is added for moving between designs; that copy's components are counted once, as the
chip's. A static layer on another design moves its inputs in and outputs out, never its stored weights.

An Activity has one entry per array layer of the whole network (``HybridMapping.layers`` order); each design
gets its own layers' entries.

The schedule, leakage and figures of merit follow the single-design rules of evaluate.py (pipeline: each
layer a stage). Every design runs on the chip's one clock (one clock tree; with ``clock: auto`` the slowest
design's conversion step, netlist/clock.py), so a faster design's synchronous steps wait for whole cycles. Component paths of an extra design are prefixed with its name (``attention:chip/tile/...``).
"""
from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from ..components.base import GROUPS
from ..errors import CimgraphError
from .placed import empty_box_area
from .result import LayerResult, Result

COMPUTE_GROUPS = ("array", "adc", "accumulation")


def _prefix(design: str, path: str) -> str:
    return path if design == "chip" else f"{design}:{path}"


def _movers(chip: Any) -> list[tuple[str, float, str, tuple[Any, ...], tuple[bool, bool]]]:
    """(path, width, group, action costs, (carries down, carries up)) of the chip-level buffers (read, write)
    and links (transfer) that carry data between designs; each action costed once per evaluation."""
    out = []
    for comp in chip.levels["chip"].components:
        role, model = comp.spec.kind.split(".")[0], comp.model
        width = float(getattr(model, "width", 1)) * comp.spec.count
        if role == "buffer":
            out.append((f"chip/{comp.name}", width, model.group, (model.read(), model.write()), (True, True)))
        elif role == "link":
            carries = getattr(model, "carries", "both")
            out.append((f"chip/{comp.name}", width, model.group, (model.transfer(),),
                        (carries != "output", carries != "input")))
    return out


def _movement(movers: list, reads: float, writes: float) -> dict[str, tuple[float, float, str]]:
    """Latency, energy and group per chip-level buffer / link for ``reads`` bits in and ``writes`` bits out."""
    out = {}
    for path, width, group, costs, (down, up) in movers:
        if len(costs) == 2:
            r, w = costs
            out[path] = (reads / width * r.latency + writes / width * w.latency,
                         reads / width * r.energy + writes / width * w.energy, group)
        else:
            flits = (reads * down + writes * up) / width   # a link books only the directions it carries
            out[path] = (flits * costs[0].latency, flits * costs[0].energy, group)
    return out


def dynamic_write(part: Any, placement: Any) -> tuple[float, float]:
    """(latency, energy) of writing a matmul layer's operand into its digital-CIM rows for one image."""
    write = part.chip.subarray.write()
    groups = placement.row_groups()
    per_group = placement.subarrays_per_copy / len(groups)        # subarrays each row group spans
    rows_written = sum(len(g) for g in groups) * per_group * placement.duplication
    return placement.rows_per_subarray * write.latency, rows_written * write.energy


def needs_transpose(layer: Any) -> bool:
    """Whether a dynamic operand must be transposed before it is written: its stored rows (the inner
    dimension, in_channels / groups) are not one per token (K^T of Q K^T, not V of S V; self-attention)."""
    return layer.role == "dynamic" and layer.in_channels // layer.groups != layer.input_vectors


def _extend(result: LayerResult, extra: dict[str, tuple[float, float, str]]) -> LayerResult:
    lat, en = dict(result.latency_by_group), dict(result.energy_by_group)
    comp = dict(result.energy_by_component)
    for path, (latency, energy, group) in extra.items():
        lat[group] = lat.get(group, 0.0) + latency
        en[group] = en.get(group, 0.0) + energy
        comp[path] = comp.get(path, 0.0) + energy
    return attrs.evolve(result, latency=result.latency + sum(v[0] for v in extra.values()),
                        energy=result.energy + sum(v[1] for v in extra.values()),
                        latency_by_group=lat, energy_by_group=en, energy_by_component=comp)


def _functional(mapping: Any, layer: Any, bits: int, movers: list, costs: dict) -> LayerResult:
    path = mapping.functional[layer.name]
    unit = mapping.chip.model(path)
    actions = layer.elements / unit.lanes
    if (path, layer.kind) not in costs:
        costs[path, layer.kind] = getattr(unit, layer.kind)()
    cost = costs[path, layer.kind]
    latency, energy = actions * cost.latency, actions * cost.energy
    row = getattr(unit, "row", None)
    if row is not None:
        if (path, layer.kind, "row") not in costs:
            costs[path, layer.kind, "row"] = row(layer.kind)
        per_row = costs[path, layer.kind, "row"]
        if per_row is not None:
            rows = layer.input_vectors * layer.groups / unit.lanes
            latency, energy = latency + rows * per_row.latency, energy + rows * per_row.energy
    extra = {path: (latency, energy, unit.group)}
    extra.update(_movement(movers, layer.input_vectors * layer.in_channels * bits, layer.elements * bits))
    zero = {g: 0.0 for g in GROUPS}
    base = LayerResult(name=layer.name, kind=layer.kind, macs=0, tiles=0, pes=0, subarrays=0, duplication=0,
                       utilization=0.0, latency=0.0, energy=0.0, latency_by_group=dict(zero),
                       energy_by_group=dict(zero), energy_by_component={}, input_activity=0.5, weight_density=0.5)
    return _extend(base, extra)


def _part_activity(mapping: Any, part: Any, activity: Any) -> Any:
    """The entries of ``activity`` (one per array layer of the whole mapping, ``mapping.layers`` order)
    that belong to ``part``'s layers, toggle rates included where given; None stays None (the defaults)."""
    if activity is None:
        return None
    from .activity import Activity

    activity.check(len(mapping.layers))
    index = {p.layer.name: i for i, p in enumerate(mapping.layers)}
    rows = [index[p.layer.name] for p in part.layers]
    pick = lambda values: None if values is None else values[rows]  # noqa: E731
    return Activity(activity.input[rows], activity.weight[rows], input_toggle=pick(activity.input_toggle),
                    output_toggle=pick(activity.output_toggle))


def _gated_share(part: Any, path: str, result: Result, period: float) -> float:
    """A ``power_gating: idle`` component's leakage in a design was counted over that design's own schedule
    (evaluate._powered); on the hybrid chip the time it is off runs to the whole network's ``period``."""
    gated = part.chip.node(path).get("power_gating", "none") == "idle"
    if not gated or period <= 0 or (result.schedule == "pipeline" and not path.startswith("chip/tile/")):
        return 1.0   # a chip-level block of the pipeline is on all period once any stage uses it
    return result.period / period


def evaluate_hybrid(mapping: Any, schedule: str = "pipeline", activity: Any = None) -> Result:
    """Cost a HybridMapping per image (see the module docstring)."""
    from .evaluate import SCHEDULES, evaluate

    if schedule not in SCHEDULES:
        raise CimgraphError(f"unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")
    chip = mapping.chip
    bits = chip.spec.precision.input
    results = {name: evaluate(part, schedule=schedule, activity=_part_activity(mapping, part, activity))
               for name, part in mapping.parts.items()}
    movers, unit_costs = _movers(chip), {}
    by_name: dict[str, LayerResult] = {}
    for design, res in results.items():
        part = mapping.parts[design]
        for lr in res.layers:
            lr = attrs.evolve(lr, energy_by_component={_prefix(design, p): e
                                                       for p, e in lr.energy_by_component.items()})
            if design != "chip" and not shares_chip_level(chip, design):
                placement = part.layer(lr.name)
                layer = placement.layer
                w_lat, w_en = dynamic_write(part, placement) if layer.role == "dynamic" else (0.0, 0.0)
                extra = {_prefix(design, "chip/tile/pe/subarray"): (w_lat, w_en, "array")}
                moved_in = layer.input_vectors * layer.in_channels * bits
                if layer.role == "dynamic":      # the operand is written for every input
                    moved_in += layer.weights * bits
                extra.update(_movement(movers, moved_in, layer.elements * bits))
                if needs_transpose(layer):
                    buffers = [m for m in movers if len(m[3]) == 2]
                    operand = layer.weights * bits
                    for path, (latency, energy, group) in _movement(buffers, operand, operand).items():
                        old = extra.get(path, (0.0, 0.0, group))
                        extra[path] = (old[0] + latency, old[1] + energy, group)
                lr = _extend(lr, extra)
            by_name[lr.name] = lr
    for layer in mapping.network:
        if layer.name in mapping.functional:
            by_name[layer.name] = _functional(mapping, layer, bits, movers, unit_costs)
    layers = tuple(by_name[layer.name] for layer in mapping.network)

    latency_per_layer = np.array([lr.latency for lr in layers])
    latency = float(latency_per_layer.sum())
    period = float(latency_per_layer.max()) if schedule == "pipeline" else latency
    components = tuple(attrs.evolve(c, path=_prefix(design, c.path),
                                    leakage=c.leakage * _gated_share(mapping.parts[design], c.path, res, period))
                       for design, res in results.items() for c in res.components
                       if design == "chip" or not (shares_chip_level(chip, design) and c.path.count("/") == 1))
    if "chip" not in results:   # every array layer on extra designs: the chip level still exists
        from .evaluate import _component_results

        components = tuple(c for c in _component_results(chip) if c.path.count("/") == 1) + components
    dynamic = float(sum(lr.energy for lr in layers))
    leak_power = float(sum(c.leakage for c in components))
    energy = dynamic + leak_power * period
    area = float(sum(c.area for c in components))
    macs = int(sum(lr.macs for lr in layers))
    ops = 2.0 * macs
    compute = np.array([sum(lr.latency_by_group.get(g, 0.0) for g in COMPUTE_GROUPS) for lr in layers])
    peak_latency = float(compute.max() if schedule == "pipeline" else compute.sum())
    peak_energy = float(sum(lr.energy_by_group.get(g, 0.0) for lr in layers for g in COMPUTE_GROUPS))
    return Result(
        chip=chip.spec.name, network=mapping.network.name, technology=chip.tech.name, cell=chip.cell.name,
        schedule=schedule, method=mapping.method, area=area,
        area_by_group={g: sum(c.area for c in components if c.group == g) for g in GROUPS},
        components=components, layers=layers, latency=latency, period=period, dynamic_energy=dynamic,
        leakage_power=leak_power, leakage_energy=leak_power * period, energy=energy, macs=macs,
        tops=ops / period / 1e12, tops_per_w=ops / energy / 1e12, tops_per_mm2=ops / period / 1e12 / (area * 1e6),
        fps=1.0 / period, peak_latency=peak_latency, peak_energy=peak_energy,
        peak_tops=ops / peak_latency / 1e12 if peak_latency > 0 else 0.0,
        peak_tops_per_w=ops / peak_energy / 1e12 if peak_energy > 0 else 0.0,
        utilization=float(mapping.utilization),
        latency_by_group={g: float(sum(lr.latency_by_group.get(g, 0.0) for lr in layers)) for g in GROUPS},
        energy_by_group={g: float(sum(lr.energy_by_group.get(g, 0.0) for lr in layers)) for g in GROUPS},
        netlist=chip.to_dict(), designs=design_summary(mapping, results),
        placed_area=area + sum(empty_box_area(part.chip) for part in mapping.parts.values()),
        **_primary_subarray(results))


def _primary_subarray(results: dict[str, Result]) -> dict[str, float]:
    """One subarray's parts and placed box: the primary design's where it has layers, else the first design's
    that has (a conventionally mapped network may run on an extra design alone)."""
    name = "chip" if "chip" in results else next(iter(results), None)
    if name is None:
        return {}
    return {"subarray_area": results[name].subarray_area, "subarray_placed_area": results[name].subarray_placed_area}


def shares_chip_level(chip: Any, design: str) -> bool:
    """Whether extra design ``design`` is built over a copy of the chip level (it runs only static layers)."""
    return design != "chip" and chip.spec.designs[design].static


def design_summary(mapping: Any, results: dict[str, Result]) -> list[dict[str, Any]]:
    """One row per tile design used and per function unit: what it is, how many tiles, area."""
    rows = []
    for design, part in mapping.parts.items():
        array = part.chip.subarray
        kind = "DCIM" if getattr(array, "digital", False) else "ACIM"
        runs = sorted({p.layer.kind for p in part.layers})
        own_chip_level = design != "chip" and not shares_chip_level(mapping.chip, design)
        rows.append({"design": design, "type": kind, "array": array.kind, "cell": part.chip.cell.name,
                     "tiles": int(part.tiles_used), "pe_grid": list(part.pe_grid),
                     "subarray_grid": list(part.subarray_grid), "layers": len(part.layers), "runs": runs,
                     "area": float(results[design].area if own_chip_level
                                   else sum(c.area for c in results[design].components
                                            if c.path.startswith("chip/tile")))})
    for path, model in {p: mapping.chip.model(p) for p in set(mapping.functional.values())}.items():
        kinds = sorted({mapping.network.layer(n).kind for n, q in mapping.functional.items() if q == path})
        rows.append({"design": path, "type": "function", "array": type(model).kind, "cell": "", "tiles": 0,
                     "pe_grid": [], "subarray_grid": [], "runs": kinds,
                     "layers": sum(1 for q in mapping.functional.values() if q == path),
                     "area": float(model.area())})
    return rows


def kind_totals(result: Result) -> list[tuple[str, int, int, float, float]]:
    """(layer kind, layers, MACs, latency, energy) summed per layer kind, in first-seen order."""
    totals: dict[str, list] = {}
    for lr in result.layers:
        row = totals.setdefault(lr.kind, [0, 0, 0.0, 0.0])
        row[0] += 1
        row[1] += lr.macs
        row[2] += lr.latency
        row[3] += lr.energy
    return [(kind, *values) for kind, values in totals.items()]


def format_designs(result: Result) -> str:
    """The text `cimgraph run` adds for a hybrid chip: tile designs and the cost per layer kind."""
    from ..units import format_si

    lines = ["", "Tile designs:"]
    for d in result.designs:
        grid = f"{'x'.join(map(str, d['pe_grid']))} PEs of {'x'.join(map(str, d['subarray_grid']))} subarrays" \
            if d["pe_grid"] else "chip-level unit"
        lines.append(f"  {d['design']:16} {d['type']:8} {d['array']:14} {d['cell']:10} {d['tiles']:5d} tiles "
                     f"({grid})  runs {', '.join(d['runs'])}  {format_si(d['area'], 'm^2')}")
    lines += ["", f"{'layer kind':12} {'layers':>6} {'MACs':>12} {'latency':>11} {'energy':>11}"]
    for kind, count, macs, latency, energy in kind_totals(result):
        lines.append(f"{kind:12} {count:6d} {macs:12d} {format_si(latency, 's'):>11} {format_si(energy, 'J'):>11}")
    return "\n".join(lines)
