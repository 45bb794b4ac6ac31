"""cimgraph's leakage, dynamic energy and pipeline period counted DNN+NeuroSim V1.4's way, one accounting step at a
time and with cimgraph's own models (:func:`leakage_account`, :func:`energy_account`, :func:`period_account`),
and the two counting conventions they share: NeuroSim's vector count (:func:`at_neurosim_vector_count`) and its
bit counts up the interconnect (:func:`interconnect_at_neurosim_counting`). docs/fidelity.md says which of the
steps are physics and which are not.
"""
from __future__ import annotations

import inspect
import math
import os

import attrs
import numpy as np

import cimgraph
from cimgraph.components.arrays import sram_widths
from cimgraph.components.circuit import leakage_power

from neurosim_reference import NETLISTS, ROOT, neurosim_activity, neurosim_vectors, parts


def interconnect_at_neurosim_counting(mapping, result) -> float:
    """Interconnect energy (J) with cimgraph's link models but NeuroSim V1.4's bit counts on the way up.

    NeuroSim charges each level's link with what that level sends on after its own reduction (Tile.cpp /
    ProcessingUnit.cpp numBitToLoadIn: one sum per output) and the chip bus with the pooled 8-bit activations
    (Chip.cpp numBitToLoadIn), where cimgraph moves what the children send into the reduction (each PE's or
    subarray's partial sum) and, with the ReLU at the chip, the tiles' complete sums. Same wires, same toggles:
    only the number of bits moved up differs, so each link's upward energy scales by NeuroSim's bits / ours.
    At NeuroSim's vector count too: pass :func:`at_neurosim_vector_count`'s mapping and result.
    """
    total = result.energy_by_group["interconnect"]
    for part in parts(mapping):
        total += _link_difference(part)
    return total


def _link_difference(mapping) -> float:
    """NeuroSim's link energy less cimgraph's, for one tile design's layers (J): upward bits counted NeuroSim's
    way."""
    from cimgraph.schedule.counts import _link_bits, action_counts, layer_work, up_bits
    from cimgraph.schedule.evaluate import _data_kwargs, _tile_spans

    chip, work = mapping.chip, layer_work(mapping)
    in_bits = chip.spec.precision.input
    psum = {lvl: chip.levels[lvl].psum_bits for lvl in ("chip", "tile", "pe", "subarray")}
    toggles = neurosim_activity(len(mapping.layers)).toggles()
    spans = _tile_spans(mapping)
    total = 0.0
    for ac in action_counts(mapping, work):
        if ac.action != "transfer":
            continue
        level = ac.path.rsplit("/", 1)[0].split("/")[-1]
        comp = next(c for c in chip.levels[level].components if c.name == ac.path.rsplit("/", 1)[1])
        model, width = comp.model, float(comp.model.width) * comp.spec.count
        if ac.data == "output":
            theirs = work.ofm_bits if level == "chip" else up_bits(level, work, psum, in_bits)
        else:
            theirs = _link_bits(level, work, psum, in_bits)[ac.data]
        energy = np.array([model.transfer(**_data_kwargs(model.transfer, toggles[ac.data][i], spans[i])).energy
                           for i in range(len(spans))])
        total += float(((theirs / width - ac.count) * energy).sum())
    return total


LEAKAGE_STEPS = (
    "cimgraph: every powered component, the whole period",
    "tiles only (no chip buffer, bus, accumulation, activation, pooling)",
    "a layer's tiles leak only while idle (and unread SRAM cells while busy)",
    "no write drivers / level shifters",
    "one core per multi-core tile buffer",
    "and NeuroSim's SRAM cell: its two inverters, no access transistor",
)


def _tile_parts(mapping, result):
    """(part mapping, its tiles on the chip, its tile-level ComponentResults) of each tile design of ``mapping``."""
    parts = mapping.parts.items() if hasattr(mapping, "parts") else [("chip", mapping)]
    for design, part in parts:
        prefix = "" if design == "chip" else f"{design}:"
        tiles = part.chip.instances("chip/tile")
        comps = [c for c in result.components if c.path.startswith(prefix + "chip/tile")]
        yield part, tiles, comps


def _cells_read(chip) -> int:
    """Cells a read step of one subarray conducts: rows in parallel x ADC-fed columns (SubArray.cpp
    conventionalParallel: numRowParallel x ceil(numCol / numColMuxed)); one row of a sequential read."""
    array = chip.subarray
    if getattr(array, "readout", "parallel") != "parallel":
        return array.columns
    share = next((getattr(c.model, "share", 1) for c in chip.levels["subarray"].components
                  if c.spec.kind.split(".")[0] in ("adc", "sense")), 1)
    return array.rows * math.ceil(array.columns / share)


def leakage_account(mapping, result) -> list[tuple[str, float]]:
    """Chip leakage power (W) from cimgraph's count to DNN+NeuroSim V1.4's, one accounting step at a time
    (:data:`LEAKAGE_STEPS`); the last entry is the leakage counted NeuroSim's way, with cimgraph's models.

    NeuroSim V1.4's pipeline leakage (read in its public code, commit 0e3bff1): main.cpp, pipeline branch,
    leakagePowerPerLayer = numTileEachLayer x (tileLeakage x (systemClock - readLatency) + tileLeakageSRAMInUse
    x readLatency) / systemClock, summed over the layers (systemClock: the running maximum of the layer
    latencies, the period once the slowest layer is reached; conv1 is first on VGG-8); Chip.cpp
    ChipCalculatePerformance: *leakage = tileLeakage, so the global buffer, bus, accumulation, activation and
    pooling leak nothing; Tile.cpp: tile leakage = PEs + accumulation + inputBuffer + outputBuffer (one core
    each, where the area counts numIn/OutBufferCore) + H-tree, leakageSRAMInUse = the PEs'; ProcessingUnit.cpp:
    subarrays + adder tree + DFF buffers + buses; SubArray.cpp: the peripheral leakages without the write
    drivers and level shifters, and for SRAM leakageSRAMInUse = one cell's leakage x (numRow numCol -
    numRowParallel ceil(numCol / numColMuxed)), the cells not on the read columns. A layer's tiles thus leak
    nothing (RRAM) or their unread cells only (SRAM) while they compute: conv1, the slowest layer, leaks
    nothing. docs/fidelity.md says which of the steps are physics and which are not.
    """
    steps = [result.leakage_power]
    by_name = {lr.name: lr for lr in result.layers}
    order = [lr.name for lr in result.layers]
    clock, periods = 0.0, {}
    for name in order:   # NeuroSim's systemClock: the running maximum
        clock = max(clock, by_name[name].latency)
        periods[name] = clock
    sums = np.zeros(len(LEAKAGE_STEPS) - 1)
    for part, tiles, comps in _tile_parts(mapping, result):
        per_tile = {c.path: c.leakage / tiles for c in comps}
        writers = sum(v for c, v in zip(comps, per_tile.values()) if c.kind == "driver.write")
        extra_cores = sum(v * (1 - 1 / c.count) for c, v in zip(comps, per_tile.values())
                          if c.kind.startswith("buffer.") and c.path.count("/") == 2 and c.count > 1)
        array = sum(v for c, v in zip(comps, per_tile.values()) if c.group == "array")
        rows, cols = part.chip.subarray.rows, part.chip.subarray.columns
        unread = array * (1 - _cells_read(part.chip) / (rows * cols))
        total = sum(per_tile.values())
        cell = _neurosim_cell_ratio(part.chip)
        # per tile, steps 1..5: the power while the layer is idle and while it is busy
        when_idle = np.cumsum([total, 0.0, -writers, -extra_cores, -array * (1 - cell)])
        when_busy = np.array([total, unread, unread, unread, unread * cell])
        for p in part.layers:
            busy = by_name[p.layer.name].latency / periods[p.layer.name]
            sums += p.tiles * (when_idle * (1 - busy) + when_busy * busy)
    return list(zip(LEAKAGE_STEPS, steps + [float(v) for v in sums]))


def _neurosim_cell_ratio(chip) -> float:
    """NeuroSim V1.4's SRAM cell leakage over cimgraph's: SubArray.cpp counts two inverters (CalculateGateLeakage
    x Vdd x 2) of the cell's widthSRAMCellNMOS / PMOS (the netlist's pulldown_width / pullup_width: 1F / 1F at
    nodes above 14 nm, Param.cpp 1.4 update) and no access transistor; cimgraph's cell (arrays.SRAMArray.leakage)
    has the same pull-down and pull-up plus its access transistor(s) facing a precharged bit line. 1 for cells
    that are not SRAM."""
    array = chip.subarray
    if chip.cell.family != "sram" or array.leakage() <= 0:
        return 1.0
    _, pulldown, pullup = sram_widths(chip.tech, chip.cell)
    ours = array.leakage() / (array.rows * (array.columns + array.dummy_columns))
    return 2 * leakage_power(chip.tech, pulldown, pullup) / ours


def neurosim_vector_mapping(mapping):
    """``mapping`` with every convolution at NeuroSim's vector count (:func:`neurosim_vectors`): the same
    floorplan (tiles, copies, placements), its layers unpadded, so each reads (H - k + 1)^2 / stride^2 input
    vectors and every count that follows the vectors is re-derived by cimgraph's own counting; the input feature
    maps (H x W x C) stay."""
    def unpadded(layer):
        out = attrs.evolve(layer, padding=0) if layer.padding else layer
        if out.input_vectors != neurosim_vectors(layer):
            raise ValueError(f"layer {layer.name!r}: unpadded it reads {out.input_vectors} vectors, NeuroSim's "
                             f"count is {neurosim_vectors(layer)} (stride {layer.stride}); expected them equal")
        return out

    layers = {layer.name: unpadded(layer) for layer in mapping.network.layers}

    def retarget(part):
        placed = tuple(attrs.evolve(p, layer=layers[p.layer.name],
                                    input_vectors=math.ceil(layers[p.layer.name].input_vectors / p.duplication))
                       for p in part.layers)
        network = attrs.evolve(part.network, layers=tuple(layers[layer.name] for layer in part.network.layers))
        return attrs.evolve(part, layers=placed, network=network)

    if hasattr(mapping, "parts"):
        network = attrs.evolve(mapping.network, layers=tuple(layers[layer.name] for layer in mapping.network.layers))
        return attrs.evolve(mapping, network=network,
                            parts={name: retarget(part) for name, part in mapping.parts.items()})
    return retarget(mapping)


def at_neurosim_vector_count(mapping):
    """(mapping, Result) of ``mapping`` re-evaluated at NeuroSim's vector count (:func:`neurosim_vector_mapping`)
    with NeuroSim's activity."""
    counted = neurosim_vector_mapping(mapping)
    return counted, cimgraph.evaluate(counted, activity=neurosim_activity(len(counted.layers)))


ENERGY_STEPS = (
    "cimgraph: H x W input vectors per convolution, the bits that cross each wire",
    "at NeuroSim's vector count, (H - k + 1)^2: re-evaluated on the same floorplan",
    "and NeuroSim's bit counts up the interconnect (one sum per output a level sends on, 8-bit activations "
    "on the chip bus)",
    "and no eNVM cell current while a column is sensed (NeuroSim's parallel read books the lines' C V^2 only)",
)


def cell_conduction(mapping, result) -> float:
    """Energy (J) the cells of ``mapping``'s resistive arrays draw while their columns are sensed: per layer, the
    array's energy x the conduction share of one bit-cycle, ``read`` being linear in its conduction time ``pulse``
    (a column's sensing time, schedule.counts.sensing_step). NeuroSim V1.4 books none (SubArray.cpp, parallel
    eNVM read: the lines' C V^2 per mux position)."""
    from cimgraph.schedule.counts import sensing_step

    activity = neurosim_activity(len(result.layers))
    index = {layer.name: i for i, layer in enumerate(result.layers)}
    total = 0.0
    for part in parts(mapping):
        array, step = part.chip.subarray, sensing_step(part.chip)
        if "pulse" not in inspect.signature(array.read).parameters or step <= 0:
            continue
        for placed in part.layers:
            i = index[placed.layer.name]
            a, w = float(activity.input[i]), float(activity.weight[i])
            once = array.read(input_activity=a, weight_density=w, pulse=step).energy
            conducted = array.read(input_activity=a, weight_density=w, pulse=2 * step).energy - once
            energy = next(e for path, e in result.layers[i].energy_by_component.items()
                          if path.endswith("chip/tile/pe/subarray"))
            total += energy * conducted / once
    return total


def energy_account(mapping, result) -> list[tuple[str, float]]:
    """Dynamic energy per image (J) from cimgraph's count towards DNN+NeuroSim V1.4's, one accounting step at a
    time (:data:`ENERGY_STEPS`), with cimgraph's own models throughout:

    1. NeuroSim's vector count (it ignores padding): the chip re-evaluated on :func:`neurosim_vector_mapping`, so
       what follows the vectors (read-out, accumulation, activation, buffers and links of the outputs and of the
       streamed inputs) scales and what does not (the input feature maps sent down) stays;
    2. on that, the interconnect moved NeuroSim's way (:func:`interconnect_at_neurosim_counting` of the
       re-evaluated chip, in place of its own interconnect energy);
    3. less the eNVM cells' current while their columns are sensed (:func:`cell_conduction`), which NeuroSim
       does not book.

    NeuroSim's other energy convention, half the buffer bits booked as written and half as read where cimgraph
    books a write and a read per word, would halve the buffer energy (0.15 uJ of A's and B's 46-64 uJ): not
    material, so not a step.
    """
    counted, at_count = at_neurosim_vector_count(mapping)
    bits = (at_count.dynamic_energy - at_count.energy_by_group["interconnect"]
            + interconnect_at_neurosim_counting(counted, at_count))
    conduction = bits - cell_conduction(counted, at_count)
    return list(zip(ENERGY_STEPS, (result.dynamic_energy, at_count.dynamic_energy, bits, conduction)))


def neurosim_tile_sum_bits(chip) -> int:
    """Bits of a sum leaving a tile of ``chip`` as NeuroSim V1.4 counts them (Tile.cpp numBitToLoadOut: the PE's
    output bits + ceil(log2) of the tile adder tree's operands, numPE a side): 25 + 1 = 26 on the conventional
    tile, 25 + 4 = 29 on the novel one; cimgraph adds ceil(log2) of all the tile's PEs (27 on the conventional
    tile, whose 2 x 2 PE sums it adds in two stages)."""
    adder = next((c.model for c in chip.levels["tile"].components if c.spec.kind.startswith("adder.")), None)
    operands = int(getattr(adder, "children", 1) or 1)
    return chip.levels["pe"].psum_bits + math.ceil(math.log2(max(operands, 1)))


def tile_sets(config: str, mapping) -> dict[str, int]:
    """Tile copies of each layer of ``mapping`` (of ``config``): its tiles over its tiles in the same floorplan
    without tile copies (``mapping: {tile_copies: false}``), how many times its weight tiles are duplicated whole."""
    from cimgraph.netlist.loader import read_netlist_file

    raw = read_netlist_file(os.path.join(ROOT, NETLISTS[config]))
    chip = cimgraph.load_netlist({**raw, "mapping": {**raw["mapping"], "tile_copies": False}})
    base = {p.layer.name: p.tiles for p in cimgraph.map_network(chip, mapping.network).layers}
    return {p.layer.name: p.tiles // base[p.layer.name] for p in mapping.layers}


def _tile_output_buffers(part, neurosim_width: bool = False) -> np.ndarray:
    """Per-layer latency (s) booked to the tile buffers' output stream of one tile design (evaluate.py's rule:
    count / active tiles x one access, a two-port file's writes and reads of a stream overlapped), with cimgraph's
    sum width or, ``neurosim_width``, :func:`neurosim_tile_sum_bits`."""
    from cimgraph.schedule.counts import LEVEL_ORDER, action_counts, book_latency, layer_work, up_bits
    from cimgraph.schedule.evaluate import _data_kwargs, _tile_spans

    chip, work = part.chip, layer_work(part)
    in_bits = chip.spec.precision.input
    psum = {lvl: chip.levels[lvl].psum_bits for lvl in LEVEL_ORDER}
    ours = up_bits("tile", work, psum, in_bits)
    theirs = up_bits("tile", work, {**psum, "tile": neurosim_tile_sum_bits(chip)}, in_bits) if neurosim_width else ours
    scale = np.divide(theirs, ours, out=np.zeros_like(ours), where=ours > 0)
    toggles = neurosim_activity(len(part.layers)).toggles()["output"]
    spans = _tile_spans(part)
    latency, longest = {}, {}
    for ac in action_counts(part, work):
        if not (ac.data == "output" and ac.path.count("/") == 2 and chip.node(ac.path)["kind"].startswith("buffer.")):
            continue
        method = getattr(chip.model(ac.path), ac.action)
        access = np.array([method(**_data_kwargs(method, toggles[i], spans[i])).latency for i in range(len(spans))])
        book_latency(latency, longest, ac.path, ac.count * scale / ac.active * access, ac.overlap)
    return sum(latency.values(), np.zeros(len(part.layers)))


PERIOD_STEPS = (
    "cimgraph: each tile copy's output buffer collects its share of the sums",
    "NeuroSim's tile loop: each tile copy's output buffer takes the layer's whole vector set",
    "and NeuroSim's vector count, (H - k + 1)^2, and tile sum width (PE bits + log2 of the tile adder's operands)",
)


def _layer_latencies(mapping, result, sets: dict[str, int] | None = None, neurosim_width: bool = False) -> dict:
    """Each layer's latency (s) of ``result`` with its tile output buffers' time re-counted: x ``sets[layer]``
    (NeuroSim's tile loop) and at NeuroSim's sum width; without either, the evaluated latencies."""
    out = {lr.name: lr.latency for lr in result.layers}
    if sets is None:
        return out
    for part in parts(mapping):
        ours, theirs = _tile_output_buffers(part), _tile_output_buffers(part, neurosim_width)
        for i, p in enumerate(part.layers):
            out[p.layer.name] += sets[p.layer.name] * theirs[i] - ours[i]
    return out


def period_account(config: str, mapping, result) -> list[tuple[str, float, str]]:
    """The pipeline period (s) of ``config`` from cimgraph's towards DNN+NeuroSim V1.4's, one accounting step at a
    time (:data:`PERIOD_STEPS`): (step, period, the layer that sets it). Each step recomputes every layer's
    latency and takes the slowest, so a layer that overtook conv1 would show.

    NeuroSim's tile loop (Chip.cpp ChipCalculatePerformance, pipeline) costs one copy of a layer's weight tiles
    for the layer's whole vector set and divides only the read-out by the speed-up, so each tile copy's output
    buffer moves all the layer's sums (:func:`tile_sets` x cimgraph's per-copy share); then the layers are
    re-evaluated at NeuroSim's vector count (:func:`neurosim_vector_mapping`) and the buffer counted at its sum
    width (:func:`neurosim_tile_sum_bits`). The buffer's cycle is the evaluated chip's clock.
    """
    sets = tile_sets(config, mapping)
    counted, at_count = at_neurosim_vector_count(mapping)
    steps = []
    for label, latencies in zip(PERIOD_STEPS, (_layer_latencies(mapping, result),
                                               _layer_latencies(mapping, result, sets),
                                               _layer_latencies(counted, at_count, sets, neurosim_width=True))):
        slowest = max(latencies, key=latencies.get)
        steps.append((label, latencies[slowest], slowest))
    return steps
