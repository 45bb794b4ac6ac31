"""Evaluate a mapped network: action counts x action costs -> per-layer, per-component figures.

Each distinct component model is evaluated once per action (activity-dependent actions once per
layer); the per-layer work is numpy arrays, so one VGG-8 evaluation is a few hundred model calls
and some vector arithmetic. Schedules (seed 001 sec. 4.4):

- ``layer``: layers run one after another; an image takes the sum of the layer latencies and
  the whole chip leaks for that long.
- ``pipeline``: each layer is a stage; the pipeline clock is the slowest stage, a new image
  enters every period, idle stages leak, so leakage per image is P_leak x period.

In both, every component instance is powered and leaks for the whole time, except a component whose netlist
entry says ``power_gating: idle`` (:func:`_powered`). DNN+NeuroSim V1.4 counts the tiles only, each layer's
only while it is idle: docs/fidelity.md ("Leakage") and benchmarks/fidelity_neurosim.py (``leakage_account``)
compare the two.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memo
from ..components.base import GROUPS
from ..components.digital import clocked
from ..errors import CimgraphError, PluginError
from ..netlist.graph import LEVEL_PATHS
from .activity import Activity
from .counts import action_counts, book_latency, conversion_step, layer_work, parameters, sensing_step
from .placed import placed_area, subarray_box
from .result import ComponentResult, LayerResult, Result

COMPUTE_GROUPS = ("array", "adc", "accumulation")
SCHEDULES = ("pipeline", "layer")


def _group(model: Any) -> str:
    return model.group if model.group in GROUPS else "peripheral"


def evaluate(chip_or_mapping: Any, mapping: Any = None, schedule: str = "pipeline",
             activity: Activity | None = None) -> Result:
    """Cost ``mapping`` (a cimgraph.mapping.Mapping) on its chip; returns a Result per image."""
    mapping = mapping if mapping is not None else chip_or_mapping
    if hasattr(mapping, "parts"):   # a HybridMapping: several tile designs (schedule/hybrid.py)
        from .hybrid import evaluate_hybrid

        return evaluate_hybrid(mapping, schedule=schedule, activity=activity)
    if not hasattr(mapping, "layers") or not hasattr(mapping, "chip"):
        raise CimgraphError("evaluate() needs a Mapping from map_network(chip, network)")
    if schedule not in SCHEDULES:
        raise CimgraphError(f"unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")
    chip = mapping.chip
    n_layers = len(mapping.layers)
    activity = activity or Activity.uniform(n_layers)
    activity.check(n_layers)
    work = layer_work(mapping)

    latency_by_node: dict[str, np.ndarray] = {}
    energy_by_node: dict[str, np.ndarray] = {}
    conduction = sensing_step(chip, lambda path, method: _call(chip, path, method))  # per column and bit
    step = conversion_step(chip, lambda path, method: _call(chip, path, method))
    toggles = activity.toggles()
    spans = _tile_spans(mapping)
    step_path, step_wait = _synchronous_step(chip, step)
    step += step_wait
    works: dict[str, np.ndarray] = {}
    longest: dict[tuple[str, str], np.ndarray] = {}   # (node, overlap key) -> the longest of those actions
    for ac in action_counts(mapping, work):
        works[ac.path] = works.get(ac.path, np.zeros(n_layers, dtype=bool)) | (np.asarray(ac.count) > 0)
        model = chip.model(ac.path)
        method = getattr(model, ac.action)
        if ac.data:
            costs = [_call(chip, ac.path, method, **_data_kwargs(method, toggles[ac.data][i], spans[i]))
                     for i in range(n_layers)]
            lat = np.array([c.latency for c in costs])
            en = np.array([c.energy for c in costs])
        elif ac.activity_dependent:
            extra = _read_kwargs(method, ac.action, conduction)
            costs = [_call(chip, ac.path, method, input_activity=float(a), **_weight_kw(method, ac.action, d),
                           **extra)
                     for a, d in zip(activity.input, activity.weight)]
            # a column's cells conduct while it is sensed, a time booked to the ADC and mux
            booked = extra.get("pulse", 0.0)
            lat = np.array([c.latency - booked for c in costs])
            en = np.array([c.energy for c in costs])
        else:
            cost = _call(chip, ac.path, method)
            lat, en = np.full(n_layers, cost.latency), np.full(n_layers, cost.energy)
        if ac.path == step_path:
            lat = lat + step_wait
        if ac.pipelined:  # overlaps the conversion step: only its excess adds latency
            lat = np.maximum(lat - step, 0.0)
        per_instance = np.divide(ac.count, ac.active, out=np.zeros(n_layers), where=ac.active > 0)
        book_latency(latency_by_node, longest, ac.path, per_instance * lat, ac.overlap)
        energy_by_node[ac.path] = energy_by_node.get(ac.path, 0.0) + ac.count * en

    layer_latency = sum(latency_by_node.values(), np.zeros(n_layers))
    period = float(layer_latency.max()) if schedule == "pipeline" else float(layer_latency.sum())
    components = _component_results(chip, _powered(mapping, works, layer_latency, period, schedule))
    group_of = {c.path: c.group for c in components}
    layer_energy = sum(energy_by_node.values(), np.zeros(n_layers))
    lat_group = {g: sum((v for p, v in latency_by_node.items() if group_of[p] == g), np.zeros(n_layers)) for g in GROUPS}
    en_group = {g: sum((v for p, v in energy_by_node.items() if group_of[p] == g), np.zeros(n_layers)) for g in GROUPS}

    layers = tuple(
        LayerResult(
            name=p.layer.name, kind=p.layer.kind, macs=int(p.layer.macs), tiles=int(p.tiles), pes=int(p.pes),
            subarrays=int(p.subarrays), duplication=int(p.duplication), utilization=float(p.utilization),
            latency=float(layer_latency[i]), energy=float(layer_energy[i]),
            latency_by_group={g: float(v[i]) for g, v in lat_group.items()},
            energy_by_group={g: float(v[i]) for g, v in en_group.items()},
            energy_by_component={path: float(v[i]) for path, v in energy_by_node.items()},
            input_activity=float(activity.input[i]), weight_density=float(activity.weight[i]),
        )
        for i, p in enumerate(mapping.layers))

    macs = int(sum(p.layer.macs for p in mapping.layers))
    latency = float(layer_latency.sum())
    dynamic = float(layer_energy.sum())
    leak_power = sum(c.leakage for c in components)
    leak_energy = leak_power * period
    energy = dynamic + leak_energy
    area = chip.area()
    compute_lat = sum(lat_group[g] for g in COMPUTE_GROUPS)
    peak_latency = float(compute_lat.max() if schedule == "pipeline" else compute_lat.sum())
    peak_energy = float(sum(en_group[g].sum() for g in COMPUTE_GROUPS))
    ops = 2.0 * macs
    return Result(
        chip=chip.spec.name, network=mapping.network.name, technology=chip.tech.name, cell=chip.cell.name,
        schedule=schedule, method=mapping.method, area=area,
        area_by_group={g: sum(c.area for c in components if c.group == g) for g in GROUPS},
        components=components, layers=layers, latency=latency, period=period, dynamic_energy=dynamic,
        leakage_power=leak_power, leakage_energy=leak_energy, energy=energy, macs=macs,
        tops=ops / period / 1e12, tops_per_w=ops / energy / 1e12, tops_per_mm2=ops / period / 1e12 / (area * 1e6),
        fps=1.0 / period, peak_latency=peak_latency, peak_energy=peak_energy,
        peak_tops=ops / peak_latency / 1e12 if peak_latency > 0 else 0.0,
        peak_tops_per_w=ops / peak_energy / 1e12 if peak_energy > 0 else 0.0,
        utilization=float(mapping.utilization),
        latency_by_group={g: float(v.sum()) for g, v in lat_group.items()},
        energy_by_group={g: float(v.sum()) for g, v in en_group.items()},
        netlist=chip.to_dict(),
        placed_area=placed_area(chip), subarray_area=subarray_box(chip).parts_area,
        subarray_placed_area=subarray_box(chip).area,
    )


def _call(chip: Any, path: str, method: Any, **kwargs: Any) -> Any:
    """Call one model action; a broken model is reported with its node and plugin, never as a
    bare traceback, and a non-finite or negative cost is refused."""
    data = chip.node(path)
    where = f"{path} ({data['kind']}, plugin {data['plugin']})"
    try:
        cost = memo.call(method, **kwargs)
    except CimgraphError:
        raise
    except Exception as exc:
        raise PluginError(f"{where}: {method.__name__}() raised {type(exc).__name__}: {exc}") from exc
    values = (getattr(cost, "latency", None), getattr(cost, "energy", None))
    if not all(isinstance(v, (int, float)) and np.isfinite(v) and v >= 0 for v in values):
        raise PluginError(f"{where}: {method.__name__}() returned {cost!r}; expected a Cost with finite, "
                          f"non-negative latency (s) and energy (J)")
    return cost


def _synchronous_step(chip: Any, step: float) -> tuple[str, float]:
    """(node, extra latency per conversion step) of a synchronous read-out: with netlist ``synchronous: true``
    each conversion step (column mux, its decoder, ADC / sense amplifier: ``conversion_step``) takes whole
    cycles of the digital ``clock``, since the mux select and the sense latch move on clock edges (DNN+NeuroSim
    V1.4 Param.cpp synchronous = true, its clock set by the sensing delay). The wait is booked to the ADC (or
    sense amplifier); the cells conduct only during the analog sensing, so energies are unchanged."""
    if not (getattr(chip.spec, "synchronous", False) and step > 0):
        return "", 0.0
    for role in ("adc", "sense"):
        for comp in chip.levels["subarray"].components:
            if comp.spec.kind.split(".")[0] == role:
                return f"{LEVEL_PATHS['subarray']}/{comp.name}", clocked(step, chip.spec.clock) - step
    return "", 0.0


def _tile_spans(mapping: Any) -> list[tuple[int, int]]:
    """(first tile, tiles) of each layer, the layers placed one after another (NeuroSim Chip.cpp
    tileLocaEachLayer)."""
    spans, first = [], 0
    for p in mapping.layers:
        spans.append((first, max(int(p.tiles), 1)))
        first += max(int(p.tiles), 1)
    return spans


def _data_kwargs(method: Any, toggle: float, span: tuple[int, int]) -> dict[str, Any]:
    """What a link or buffer action may take about the data it moves: its toggle rate and, for a
    chip-level link routed to the layer's tiles (``first``, ``count``), where they sit."""
    params = parameters(method)
    kwargs: dict[str, Any] = {"toggle": float(toggle)} if "toggle" in params else {}
    if "first" in params and "count" in params:
        kwargs.update(first=span[0], count=span[1])
    return kwargs


def _read_kwargs(method: Any, action: str, conduction: float) -> dict[str, float]:
    """Pass a column's conduction time (:func:`sensing_step`) to array reads that take one (``pulse``)."""
    if action != "read" or conduction <= 0:
        return {}
    return {"pulse": conduction} if "pulse" in parameters(method) else {}


def _weight_kw(method: Any, action: str, density: float) -> dict[str, float]:
    """The weight density for array reads and for actions that take one (e.g. an ADC's conversion)."""
    takes = action == "read" or "weight_density" in parameters(method)
    return {"weight_density": float(density)} if takes else {}


def _powered(mapping: Any, works: dict[str, np.ndarray], layer_latency: np.ndarray, period: float,
             schedule: str) -> dict[str, float]:
    """Fraction of the schedule each ``power_gating: idle`` component is powered (and so leaks).

    Power gating (a header switch cuts a block's supply while it has no work; S. Mutoh et al., IEEE JSSC 30(8),
    1995, MTCMOS): a gated block is woken for each layer in which it has actions, for that layer's whole
    latency; blocks under the tile level only on that layer's tiles (tiles / all tiles of the chip); a
    chip-level block in the pipeline for the whole period when any layer uses it (all stages run at once).
    A block with no actions in the schedule (a write driver during inference) never leaks. The header's own
    off-current is not modelled, so this is the upper bound of the saving; gate only blocks that hold no state
    across their idle time (a gated SRAM loses its data, so arrays take no ``power_gating``)."""
    chip = mapping.chip
    gated = [p for p in chip.components() if chip.node(p).get("power_gating", "none") == "idle"]
    if not gated or period <= 0:
        return {}
    share = np.array([max(int(p.tiles), 1) for p in mapping.layers], dtype=float) / chip.instances("chip/tile")
    out = {}
    for path in gated:
        busy = works.get(path, np.zeros(len(layer_latency), dtype=bool))
        if path.startswith(LEVEL_PATHS["tile"] + "/"):
            on = float((busy * share * layer_latency).sum()) / period
        elif schedule == "pipeline":
            on = 1.0 if busy.any() else 0.0
        else:
            on = float((busy * layer_latency).sum()) / period
        out[path] = min(1.0, on)
    return out


def _component_results(chip: Any, powered: dict[str, float] | None = None) -> tuple[ComponentResult, ...]:
    """Every component node with its chip-wide area and leakage; ``powered``: the fraction of the schedule a
    power-gated component leaks (:func:`_powered`; absent: 1, always on)."""
    powered = powered or {}
    out = []
    for path in chip.components():
        data = chip.node(path)
        model = data["model"]
        instances = chip.instances(path)
        out.append(ComponentResult(
            path=path, kind=data["kind"], group=_group(model), plugin=data["plugin"] or "", version=data["version"] or "",
            source=type(model).source, count=int(data["count"]), instances=int(instances),
            area=float(data["model_area"] * instances),
            leakage=float(_leakage(chip, path) * instances * powered.get(path, 1.0))))
    return tuple(out)


def _leakage(chip: Any, path: str) -> float:
    data = chip.node(path)
    try:
        value = float(memo.call(data["model"].leakage))
    except Exception as exc:
        raise PluginError(f"{path} ({data['kind']}, plugin {data['plugin']}): leakage() raised "
                          f"{type(exc).__name__}: {exc}") from exc
    if not np.isfinite(value) or value < 0:
        raise PluginError(f"{path} ({data['kind']}, plugin {data['plugin']}): leakage() returned {value!r}")
    return value
