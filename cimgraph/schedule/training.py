"""Training PPA: the phases of on-chip training over the same ChipGraph and Mapping as inference.

Two schemes share the phases:

- ``neurosim-v2`` (DNN+NeuroSim V2, seed 001 sec. 4, 5.2, 5.3): forward, activation gradient
  (transposed reads), weight gradient (SRAM-CIM weight-gradient unit), weight update (row-by-row
  writes, once per batch) and DRAM transfers (B copies of activations, errors and weight gradients out
  and back). The phases are not pipelined (sec. 5.2): each runs layer by layer and the epoch latency
  is their sum.
- ``popu`` (NeuroTorch, seed 000 sec. 1-3): batch 1, no DRAM, no weight-gradient unit; forward,
  backpropagation by transposed reads with DelPrecision bits (DelEn per cycle) and a parallel outer
  product update in the arrays (row pulses from the activations, column pulses from the deltas), one
  outer product per output position, limited by the electromigration limit of the array lines.

Each phase is action counts x action costs, as inference (cimgraph.schedule.counts / evaluate); the
forward phase *is* the inference evaluation of the same mapping under the layer schedule, scaled to
the images of an epoch. Peak figures count only compute groups (arrays, ADC, accumulation, weight-
gradient unit), as the "PEAK" lines of seed 001 Fig. 34. Operations per epoch = 3 x MACs x images
(forward, activation gradient, weight gradient), the count behind Fig. 34's TOPS and TOPS/W.
"""
from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from ..errors import CimgraphError
from ..netlist.graph import LEVEL_PATHS, build_chip
from ..workload.training import TrainingSettings, TrainingWork, training_work
from .activity import Activity
from .counts import book_latency, parameters, per_conversion, sensing_time
from .evaluate import _call, _component_results, evaluate
from .training_backward import backward_movement
from .training_result import PhaseResult, TrainingResult
from .training_update import (PopuSettings, UpdateStats, default_stats, inhibit_current, line_current,
                              refresh_stats, trace_stats, update_levels)

SCHEMES = ("neurosim-v2", "popu")
PEAK_GROUPS = ("array", "adc", "accumulation", "weight_gradient")
SUBARRAY = LEVEL_PATHS["subarray"]


class _Phase:
    """Per-node latency and energy arrays (over layers) of one phase, per image or per batch."""

    def __init__(self, name: str, chip: Any, n: int) -> None:
        self.name, self.chip, self.n = name, chip, n
        self.latency: dict[str, np.ndarray] = {}
        self.energy: dict[str, np.ndarray] = {}
        self._longest: dict[tuple[str, str], np.ndarray] = {}   # (node, overlap key) -> longest so far

    def add(self, path: str, latency: Any, energy: Any, count: Any, active: Any = 1.0, overlap: str = "") -> None:
        """Book ``count`` actions over ``active`` instances; actions of one node with the same ``overlap``
        key run at once (a two-port buffer's writes and reads), so only the longest adds latency."""
        count = np.broadcast_to(np.asarray(count, dtype=float), (self.n,))
        active = np.broadcast_to(np.asarray(active, dtype=float), (self.n,))
        per = np.divide(count, active, out=np.zeros(self.n), where=active > 0)
        book_latency(self.latency, self._longest, path, per * latency, overlap)
        self.energy[path] = self.energy.get(path, 0.0) + count * energy

    def merge(self, other: "_Phase", scale: float) -> None:
        """Add ``other``'s latency and energy, times ``scale`` (e.g. a cost paid once every N updates)."""
        for path in other.energy:
            self.latency[path] = self.latency.get(path, 0.0) + other.latency[path] * scale
            self.energy[path] = self.energy.get(path, 0.0) + other.energy[path] * scale

    def call(self, path: str, action: str, count: Any, active: Any = 1.0, overlap: str = "", **kwargs: Any) -> None:
        model = self.chip.model(path)
        cost = _call(self.chip, path, getattr(model, action), **kwargs)
        self.add(path, cost.latency, cost.energy, count, active, overlap)

    def result(self, scale: float, layers: tuple[str, ...]) -> PhaseResult:
        group = lambda p: self.chip.model(p).group  # noqa: E731
        lat_g: dict[str, float] = {}
        en_g: dict[str, float] = {}
        for p in self.latency:
            lat_g[group(p)] = lat_g.get(group(p), 0.0) + float(np.sum(self.latency[p])) * scale
            en_g[group(p)] = en_g.get(group(p), 0.0) + float(np.sum(self.energy[p])) * scale
        per_layer = sum(self.energy.values(), np.zeros(self.n)) * scale
        return PhaseResult(
            name=self.name, latency=sum(lat_g.values()), energy=sum(en_g.values()),
            peak_latency=sum(v for g, v in lat_g.items() if g in PEAK_GROUPS),
            peak_energy=sum(v for g, v in en_g.items() if g in PEAK_GROUPS),
            latency_by_group=lat_g, energy_by_group=en_g,
            energy_by_component={p: float(np.sum(v)) * scale for p, v in self.energy.items()},
            energy_by_layer={name: float(e) for name, e in zip(layers, per_layer)})


def _components(chip: Any, role: str, level: str = "chip") -> list[Any]:
    return [c for c in chip.levels[level].components if c.spec.kind.split(".")[0] == role]


def _path(level: str, comp: Any) -> str:
    return f"{LEVEL_PATHS[level]}/{comp.name}"


def _rebuild(mapping: Any, changes: dict[tuple[str, str], dict[str, Any]]) -> Any:
    """The mapping on a chip rebuilt with some components' fields changed ((level, name) -> fields)."""
    spec = mapping.chip.spec
    levels = dict(spec.levels)
    for (level, name), fields in changes.items():
        lspec = levels[level]
        comp = lspec.components[name]
        comps = dict(lspec.components, **{name: attrs.evolve(comp, params={**comp.params, **fields})})
        levels[level] = attrs.evolve(lspec, components=comps)
    return attrs.evolve(mapping, chip=build_chip(attrs.evolve(spec, levels=levels), mapping.chip.registry))


# -- sizing (V2) ------------------------------------------------------------------------------------

def wg_grid(work: TrainingWork, rows: int, columns: int) -> tuple[int, int]:
    """Array grid of the weight-gradient unit: the error matrix (V x N x error bits) of the layer with
    the largest one (seed 001 sec. 5.3)."""
    i = int(np.argmax(work.wg_rows * work.wg_columns))
    return math.ceil(work.wg_rows[i] / rows), math.ceil(work.wg_columns[i] / columns)


def buffer_overhead(mapping: Any, s: TrainingSettings, constraint: float, wg_out_bits: int) -> tuple[float, int]:
    """Extra global-buffer bits for the weight gradients and the subarrays written in parallel
    (NeuroSim V2 Chip.cpp rule for bufferOverHeadConstraint, seed 001 sec. 3): start from the gradient
    of one subarray (rows x columns x (WG output bits + log2 B)), doubling (and the parallel writes with
    it) until the overhead reaches ``constraint`` x the inference buffer (input bits x largest layer input)."""
    array = mapping.chip.subarray
    inference = s.activation_bits * max(p.layer.input_size[0] * p.layer.input_size[1] * p.layer.in_channels
                                        for p in mapping.layers)
    overhead = array.rows * array.columns * (wg_out_bits + math.ceil(math.log2(s.batch)) if s.batch > 1 else
                                             wg_out_bits)
    parallel = max(1, math.floor(overhead / (array.rows * array.columns * s.weight_bits)))
    while overhead < constraint * inference:
        overhead *= 2
        parallel *= 2
    return float(overhead), parallel


def size_for_training(mapping: Any, settings: TrainingSettings, buffer_constraint: float = 1.0) -> tuple[Any, float, int]:
    """The mapping on its chip sized for V2 training: the weight-gradient unit's array grid for the largest
    error matrix and the global buffer enlarged by the gradient overhead; returns (mapping, global buffer
    bits, subarrays written in parallel)."""
    chip = mapping.chip
    s = settings.resolved(chip)
    wgs, drams = _components(chip, "wg"), _components(chip, "dram")
    if not wgs or not drams:
        raise CimgraphError(f"{chip.spec.file or chip.name}: $.chip: scheme neurosim-v2 needs a weight-gradient "
                            "unit (kind wg.sram) and an off-chip DRAM (dram.hbm2 or dram.gddr5) at chip level")
    wg = wgs[0].model
    grid = wg_grid(training_work(mapping, s), wg.rows, wg.columns)
    extra, parallel = buffer_overhead(mapping, s, buffer_constraint, wg.adc_bits + s.activation_bits)
    array = chip.subarray
    changes = {("chip", wgs[0].name): {
        "arrays_rows": grid[0], "arrays_columns": grid[1], "input_bits": s.activation_bits,
        "accumulators": parallel * array.rows * array.columns,
        "accumulator_bits": s.gradient_bits + math.ceil(math.log2(s.batch)) if s.batch > 1 else s.gradient_bits}}
    global_buffer = 0.0
    buffers = _components(chip, "buffer")
    if buffers:
        global_buffer = float(buffers[0].model.size) + extra
        changes[("chip", buffers[0].name)] = {"size": global_buffer}
    return _rebuild(mapping, changes), global_buffer, parallel


# -- phases -----------------------------------------------------------------------------------------

def _forward(inference: Any, chip: Any, n: int) -> _Phase:
    phase = _Phase("forward", chip, n)
    for i, layer in enumerate(inference.layers):
        for path, energy in layer.energy_by_component.items():
            e = np.zeros(n)
            e[i] = energy
            phase.energy[path] = phase.energy.get(path, 0.0) + e
            phase.latency.setdefault(path, np.zeros(n))
    # the Result keeps latency per group: book it on one node of that group per layer
    for i, layer in enumerate(inference.layers):
        for group, latency in layer.latency_by_group.items():
            path = next((p for p in phase.energy if chip.model(p).group == group), None)
            if path is not None:
                phase.latency[path][i] += latency
    return phase


def _activation_gradient(mapping: Any, work: TrainingWork, activity: Activity, error_cycles: int,
                         s: TrainingSettings, name: str = "activation_gradient") -> _Phase:
    """Transposed reads of the layer's arrays with the output error on the columns (seed 001 sec. 5.2)."""
    chip = mapping.chip
    n = len(mapping.layers)
    phase = _Phase(name, chip, n)
    transposed = chip.levels["subarray"].transposed
    if not transposed:
        raise CimgraphError(f"{chip.spec.file or chip.name}: $.chip.tile.pe.subarray: training needs a transposable "
                            "subarray: add its transposed read-out (an ADC or sense amplifier, shift-add, ...) with "
                            "`transposed: true` (see netlists/vgg8_rram_32nm_train.yaml)")
    places = mapping.layers
    active = np.array([p.row_blocks * p.column_blocks * p.duplication for p in places], dtype=float)
    cycles = work.transposed_bit_cycles / s.error_bits * error_cycles
    array = chip.subarray
    read = getattr(array, "read_transposed", None)
    if read is None:
        raise CimgraphError(f"{array.kind}: this array kind has no transposed read (read_transposed)")
    # a line's cells conduct while it is sensed: the transposed mux + ADC (or sampling) time
    conduction = sensing_time(transposed, lambda path, method: _call(chip, path, method))
    extra = {"pulse": conduction} if conduction > 0 and "pulse" in parameters(read) else {}
    for i in range(n):
        count = np.zeros(n)
        count[i] = cycles[i]
        cost = _call(chip, SUBARRAY, read, input_activity=0.5, weight_density=float(activity.weight[i]), **extra)
        # as in the forward read, the conduction time is booked to the read-out, not the array
        phase.add(SUBARRAY, cost.latency - extra.get("pulse", 0.0), cost.energy, count, active)
    # eNVM: the SL / BL switch matrix applies the error to the columns (sec. 5.2); SRAM: its own periphery
    for comp in chip.levels["subarray"].components:
        if comp.spec.kind in ("switch.sl", "switch.bl"):
            phase.call(_path("subarray", comp), "drive", cycles, active, input_activity=0.5)
    share = next((c.model.share for c in transposed if c.spec.kind.split(".")[0] in ("adc", "sense")), 1)
    for comp in transposed:
        action = type(comp.model).actions()[0]
        role = comp.spec.kind.split(".")[0]
        count = cycles * share if per_conversion(comp.spec.kind) else cycles
        kwargs = {"input_activity": 0.5} if role == "switch" else {}
        phase.call(_path("subarray", comp), action, count, active, **kwargs)
    # the errors enter where the outputs left and the partial errors are reduced back (seed 001 sec. 5.2)
    for ac in backward_movement(mapping, s.error_bits, (work.transposed_vectors > 0).astype(float)):
        phase.call(ac.path, ac.action, ac.count, ac.active, overlap=ac.overlap)
    return phase


def _weight_gradient(mapping: Any, work: TrainingWork, s: TrainingSettings, wg_path: str) -> _Phase:
    """K x K x C_in activation vectors against the rewritten error matrix, layer by layer (sec. 5.3)."""
    chip = mapping.chip
    wg = chip.model(wg_path)
    n = len(mapping.layers)
    phase = _Phase("weight_gradient", chip, n)
    rb = np.ceil(work.wg_rows / wg.rows)
    cb = np.ceil(work.wg_columns / wg.columns)
    # a layer's matrix blocks are spread over the unit's arrays; a larger matrix takes several passes
    active = np.minimum(rb * cb, wg.arrays)
    passes = np.ceil(rb * cb / wg.arrays)
    phase.call(wg_path, "load", work.wg_rows * cb, active)
    phase.call(wg_path, "compute", work.wg_vectors * s.activation_bits * rb * cb, active)
    phase.call(wg_path, "accumulate", np.where(rb > 1, work.wg_vectors * passes, 0.0))
    if wg.accumulators:   # every image's gradient of every weight is added into the delta weight once
        phase.call(wg_path, "accumulate_batch", work.weights / wg.accumulators)
    buffer = wg.local_buffer()
    reads, writes = buffer.read(), buffer.write()
    phase.add(wg_path, reads.latency, reads.energy, work.wg_vectors * s.activation_bits * rb)
    phase.add(wg_path, writes.latency, writes.energy, work.wg_vectors * cb)
    return phase


def _row_write_cost(chip: Any, stats: UpdateStats) -> Any:
    """One row write of the synaptic array for these update statistics."""
    array = chip.subarray
    if chip.cell.family == "sram":
        return _call(chip, SUBARRAY, array.write)
    levels = max(chip.cell.levels_ltp, chip.cell.levels_ltd)
    u = min(stats.row_pulses / levels, 1.0)
    cost = _call(chip, SUBARRAY, array.write, update=u)
    assumed = (math.ceil(u * chip.cell.levels_ltp) + math.ceil(u * chip.cell.levels_ltd)) / 2
    actual = stats.pulses_ltp + stats.pulses_ltd
    return attrs.evolve(cost, energy=cost.energy * (actual / assumed if assumed > 0 else 0.0))


def _update_stats(mapping: Any, s: TrainingSettings, traces: dict[str, Any] | None) -> list[UpdateStats]:
    cell = mapping.chip.cell
    if traces is None:
        return [default_stats(cell, s.delta_bits, p.layer.weights, s.learning_rate) for p in mapping.layers]
    missing = [p.layer.name for p in mapping.layers if p.layer.name not in traces]
    if missing:
        raise CimgraphError(f"Delta_dist.csv: no rows for layer(s) {', '.join(missing)} of the mapped network "
                            f"{mapping.network.name!r} (the traces have {', '.join(sorted(traces))}): pass "
                            "--network the model that `cimgraph train --model` traced (e.g. --network digits-mlp)")
    return [trace_stats(traces[p.layer.name]) for p in mapping.layers]


def _weight_update(mapping: Any, work: TrainingWork, stats: list[UpdateStats], parallel: int) -> _Phase:
    """Row-by-row rewrite of the used rows of every weight copy, once per batch (seed 001 sec. 5.1). A row
    none of whose cells changes is skipped: with a fraction f of changing cells, 1 - (1 - f)^columns of the
    rows are written (all of them under the default statistics)."""
    chip = mapping.chip
    n = len(mapping.layers)
    phase = _Phase("weight_update", chip, n)
    subarrays = np.array([p.row_blocks * p.column_blocks * p.duplication for p in mapping.layers], dtype=float)
    active = np.minimum(subarrays, parallel)
    for i in range(n):
        written = 1.0 - (1.0 - min(stats[i].nonzero_fraction, 1.0)) ** chip.subarray.columns
        count = np.zeros(n)
        count[i] = work.update_rows[i] * written
        cost = _row_write_cost(chip, stats[i])
        # the row write's energy is the mean over all rows: per written row it is that over `written`
        phase.add(SUBARRAY, cost.latency, cost.energy / written if written > 0 else 0.0, count, active)
        pulses = 2 * stats[i].row_pulses if chip.cell.family != "sram" else 0.0   # an LTP and an LTD phase
        for comp in chip.levels["subarray"].components:
            if comp.spec.kind in ("decoder.wl", "decoder.row", "decoder.driver"):
                phase.call(_path("subarray", comp), "decode", count, active)
            elif comp.spec.kind.split(".")[0] == "driver":   # write drivers / level shifters: once per pulse
                phase.call(_path("subarray", comp), "write", count * pulses, active)
    return phase


def _dram(mapping: Any, work: TrainingWork, dram_path: str) -> _Phase:
    """B copies of activations, errors and gradients to DRAM and back through the global buffer (sec. 4)."""
    chip = mapping.chip
    n = len(mapping.layers)
    phase = _Phase("dram", chip, n)
    dram = chip.model(dram_path)
    phase.call(dram_path, "transfer", work.dram_bits / dram.width)
    # first access of each stream (activations, errors, gradients; out and back) per layer and image
    phase.add(dram_path, dram.latency, 0.0, np.where(work.dram_bits > 0, 6.0, 0.0))
    for comp in _components(chip, "buffer"):
        width = float(comp.model.width) * comp.spec.count
        path = _path("chip", comp)
        phase.call(path, "read", work.dram_bits / 2 / width)
        phase.call(path, "write", work.dram_bits / 2 / width)
        break
    return phase


def _popu_update(mapping: Any, work: TrainingWork, activity: Activity, stats: list[UpdateStats],
                 popu: PopuSettings, s: TrainingSettings, notes: list[str]) -> _Phase:
    """Parallel outer-product update (seed 000 sec. 1-3): per output position, the layer's arrays receive
    row pulses (activations) and column pulses (deltas) at once; a cell whose row and column pulses
    coincide is programmed at the write voltage, half-selected cells see half of it."""
    chip = mapping.chip
    cell, tech, array = chip.cell, chip.tech, chip.subarray
    n = len(mapping.layers)
    phase = _Phase("weight_update", chip, n)
    levels = update_levels(cell, popu, s.activation_bits)
    if levels < 2:
        notes.append(f"UpdateLEVELs = {levels} < 2: too low update resolution (seed 000 sec. 2)")
    window = max(levels, 1) * popu.cycle
    line = line_current(cell, tech, array.rows, popu)
    steps = line.serialisation
    if steps > 1:
        message = (f"parallel update current of one array line {line.current * 1e6:.4g} uA ({line.cells} cells x "
                   f"{cell.write_current * 1e6:.4g} uA) exceeds the electromigration limit {line.limit * 1e6:.4g} uA "
                   f"(J_max {popu.current_density_limit:.3g} A/m^2 x pitch^2)")
        if popu.electromigration == "error":
            raise CimgraphError(f"{chip.spec.file or chip.name}: {message}; use a cell with a lower write "
                                "current, smaller arrays, or --electromigration serialise")
        notes.append(f"{message}: the update is serialised into {steps} steps")
    c_row = tech.wire_local.c * array.width()
    c_col = tech.wire_local.c * array.height()
    v = cell.write_voltage
    i_inhibit = inhibit_current(cell)
    places = mapping.layers
    for i, p in enumerate(places):
        a = float(activity.input[i])
        d = stats[i].nonzero_fraction if not stats[i].source.startswith("default") else 0.5
        t_on = window / 3          # mean coincidence of two pulses with uniform lengths in [0, window]
        cells = work.update_cells[i]
        row_lines = p.duplication * p.column_blocks * p.used_rows
        col_lines = p.duplication * p.row_blocks * p.used_columns
        per_product = popu.phases * (cells * t_on * (a * d * v * cell.write_current
                                                     + (a * (1 - d) + d * (1 - a)) * v / 2 * i_inhibit)
                                     + (row_lines * a * c_row + col_lines * d * c_col) * v * v)
        count = np.zeros(n)
        count[i] = work.outer_products[i]
        phase.add(SUBARRAY, popu.phases * window * steps, per_product, count)
        subarrays = p.duplication * p.row_blocks * p.column_blocks
        for comp in chip.levels["subarray"].components:   # write drivers: every line pulses in each phase
            if comp.spec.kind.split(".")[0] == "driver":
                per = row_lines / subarrays if comp.model.axis == "rows" else 1.0
                phase.call(_path("subarray", comp), "write", count * popu.phases * per * steps, 1.0)
    if popu.mode != "LTPLTD_both" and popu.refresh_every:
        # one-direction pairs saturate: every refresh_every updates their rows are rewritten row by row
        every_subarray = max(p.row_blocks * p.column_blocks * p.duplication for p in mapping.layers)
        phase.merge(_weight_update(mapping, work, [refresh_stats(cell)] * n, every_subarray), 1 / popu.refresh_every)
        notes.append(f"{popu.mode}: G+/G- pairs refreshed every {popu.refresh_every} updates (full reset and "
                     f"reprogram, row by row: {refresh_stats(cell).source})")
    # the row and column pulses come from the PE buffers (activations and deltas)
    for comp in _components(chip, "buffer", "pe"):
        width = float(comp.model.width) * comp.spec.count
        bits = work.outer_products * (np.array([p.layer.weight_rows for p in places]) * s.activation_bits
                                      + np.array([p.layer.weight_columns for p in places]) * popu.del_precision)
        tiles_pes = np.array([max(p.tiles * p.pes, 1) for p in places], dtype=float)
        phase.call(_path("pe", comp), "read", bits / width, tiles_pes)
    return phase


# -- the evaluation -----------------------------------------------------------------------------------

def evaluate_training(mapping: Any, scheme: str = "neurosim-v2", settings: TrainingSettings | None = None,
                      traces: dict[str, Any] | None = None, popu: PopuSettings | None = None,
                      activity: Activity | None = None, buffer_constraint: float = 1.0) -> TrainingResult:
    """Training PPA per epoch of ``mapping`` under ``scheme`` (see the module docstring)."""
    if scheme not in SCHEMES:
        raise CimgraphError(f"unknown training scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    chip = mapping.chip
    if getattr(chip.subarray, "readout", "parallel") != "parallel":
        raise CimgraphError(f"{chip.spec.file or chip.name}: $.chip.tile.pe.subarray.readout: training PPA models "
                            "parallel read-out (seed 001 sec. 5.2 transposable arrays); got "
                            f"{chip.subarray.readout!r}")
    default = TrainingSettings() if scheme == "neurosim-v2" else TrainingSettings(batch=1, iterations=50000)
    s = (settings or default).resolved(chip)
    popu = popu or PopuSettings()
    if scheme == "popu":   # backpropagation carries DelPrecision-bit deltas (seed 000 sec. 2)
        s = attrs.evolve(s, error_bits=popu.del_precision)
    notes: list[str] = []
    n = len(mapping.layers)
    activity = activity or Activity.uniform(n)
    work = training_work(mapping, s)
    wg_path = dram_path = None
    global_buffer, parallel = 0.0, 1
    if scheme == "neurosim-v2":
        mapping, global_buffer, parallel = size_for_training(mapping, s, buffer_constraint)
        chip = mapping.chip
        wg_path, dram_path = _path("chip", _components(chip, "wg")[0]), _path("chip", _components(chip, "dram")[0])
    else:
        if s.batch != 1:
            raise CimgraphError(f"scheme popu trains with batch 1 (NeuroTorch, seed 000 sec. 2: BATCH = 1 avoids "
                                f"the DRAM), got --batch {s.batch}")
        if chip.cells_per_weight != 1:
            raise CimgraphError(f"{chip.spec.file or chip.name}: scheme popu needs one cell column per weight "
                                f"(seed 000 ColumnsPerWeight = 1 for the parallel update); this netlist uses "
                                f"{chip.cells_per_weight} cells per weight (precision.weight / cell.bits_per_cell)")
        parallel = max(p.row_blocks * p.column_blocks * p.duplication for p in mapping.layers)
    inference = evaluate(mapping, schedule="layer", activity=activity)
    stats = _update_stats(mapping, s, traces)
    names = tuple(p.layer.name for p in mapping.layers)
    images, updates = float(s.images), float(s.updates)
    phases = [_forward(inference, chip, n).result(images, names)]
    if scheme == "neurosim-v2":
        phases.append(_activation_gradient(mapping, work, activity, s.error_bits, s).result(images, names))
        phases.append(_weight_gradient(mapping, work, s, wg_path).result(images, names))
        phases.append(_weight_update(mapping, work, stats, parallel).result(updates, names))
        phases.append(_dram(mapping, work, dram_path).result(images, names))
    else:
        phases.append(_activation_gradient(mapping, work, activity, popu.delta_cycles, s).result(images, names))
        phases.append(_popu_update(mapping, work, activity, stats, popu, s, notes).result(images, names))
    notes.append(f"weight update pulses: {stats[0].source}")
    if stats[0].source.startswith("default"):
        notes.append("changing cells per update: " + ", ".join(
            f"{p.layer.name} {st.nonzero_fraction:.3g}" for p, st in zip(mapping.layers, stats)))
    return _assemble(mapping, scheme, s, phases, inference, global_buffer, parallel, notes, wg_path)


def _assemble(mapping: Any, scheme: str, s: TrainingSettings, phases: list[PhaseResult], inference: Any,
              global_buffer: float, parallel: int, notes: list[str], wg_path: str | None) -> TrainingResult:
    chip = mapping.chip
    epochs = s.epochs
    area_g: dict[str, float] = {}
    for path in chip.components():
        g = chip.model(path).group
        area_g[g] = area_g.get(g, 0.0) + chip.node(path)["model_area"] * chip.instances(path)
    lat_g: dict[str, float] = {}
    en_g: dict[str, float] = {}
    for p in phases:
        for g, v in p.latency_by_group.items():
            lat_g[g] = lat_g.get(g, 0.0) + v
        for g, v in p.energy_by_group.items():
            en_g[g] = en_g.get(g, 0.0) + v
    latency = sum(p.latency for p in phases)
    dynamic = sum(p.energy for p in phases)
    # a training chip writes every iteration: every block is powered through the epoch (no power-gating credit)
    leak_power = float(sum(c.leakage for c in _component_results(chip)))
    leak_energy = leak_power * latency
    energy = dynamic + leak_energy
    peak_latency = sum(p.peak_latency for p in phases)
    peak_energy = sum(p.peak_energy for p in phases)
    ops = 3.0 * inference.macs * s.images
    return TrainingResult(
        kind="training", scheme=scheme, chip=chip.spec.name, network=mapping.network.name,
        technology=chip.tech.name, cell=chip.cell.name, batch=s.batch, iterations=s.iterations, epochs=epochs,
        images=s.images, precision={"weight": s.weight_bits, "activation": s.activation_bits, "error": s.error_bits,
                                    "gradient": s.gradient_bits, "delta": s.delta_bits},
        phases=tuple(phases), area=chip.area(), area_by_group=area_g,
        wg_area=float(chip.model(wg_path).area()) if wg_path else 0.0,
        leakage_power=leak_power, leakage_energy=leak_energy, latency=latency,
        dynamic_energy=dynamic, energy=energy, ops=ops, tops=ops / latency / 1e12 if latency else 0.0,
        tops_per_w=ops / energy / 1e12 if energy else 0.0, peak_latency=peak_latency, peak_energy=peak_energy,
        peak_tops=ops / peak_latency / 1e12 if peak_latency else 0.0,
        peak_tops_per_w=ops / peak_energy / 1e12 if peak_energy else 0.0,
        latency_by_group=lat_g, energy_by_group=en_g, global_buffer=global_buffer, parallel_writes=int(parallel),
        notes=tuple(notes))
