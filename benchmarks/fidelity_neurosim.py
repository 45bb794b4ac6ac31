"""cimgraph vs DNN+NeuroSim V1.4 on its own default chip: side-by-side tables with ratios.

Reference: DNN+NeuroSim V1.4 at commit ac828e6, default Param.cpp, measured by the issue's reporters (issue 18:
VGG-8 on CIFAR-10, pipeline schedule, per image). Config A is the RRAM chip, config B the same chip with SRAM
synapses (memcelltype 1). cimgraph evaluates the bundled netlists that state the same chip
(netlists/neurosim_v14_rram_22nm.yaml, ..._sram_22nm.yaml) with the activity of NeuroSim's traces:

- input bit density 0.204 per layer, the middle of the 0.185-0.223 that the issue measured on those traces (the
  per-layer values are not given; the traces are 8-bit activations with 50 % zeros);
- cell density of the weight traces, computed exactly from how they are drawn: w = clip(round(N(0, 0.25) x 128))
  stored as 8-bit offset binary (w + 128), one bit per cell (:func:`weight_cell_density`);
- toggle rates of NeuroSim Param.cpp: inputtoggle 0.18 (its measured VGG-8 value), outputtoggle 0.5.

NeuroSim's categories map onto cimgraph's groups: "array + ADC" = array + adc (NeuroSim books the word-line
energy to its ADC), "other" = peripheral (decoders, muxes, switch matrices, pooling, activation). Leakage is also
counted NeuroSim's way with cimgraph's models, step by step (:func:`leakage_account`), and so are the dynamic
energy (:func:`energy_account`), the pipeline period (:func:`period_account`) and the placed area term
by term (:func:`subarray_box_rows`, :func:`placed_area_account`). The must-show
bands of issue 18 are held by tests/test_fidelity.py; docs/fidelity.md explains every remaining difference.

    python benchmarks/fidelity_neurosim.py [A|B ...] [--markdown] [--nodes]

``--markdown`` prints the same tables as markdown (the tables of docs/fidelity.md are made this way);
``--nodes`` prints the derived clock, period, energy and TOPS/W at 22 / 32 / 45 nm and with conventional
mapping instead (:func:`node_table`).
"""
from __future__ import annotations

import inspect
import math
import os
import sys

import attrs
import numpy as np

import cimgraph
from cimgraph.components.arrays import sram_widths
from cimgraph.components.circuit import leakage_power
from cimgraph.schedule.activity import Activity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = "DNN+NeuroSim V1.4 at commit ac828e6, default Param.cpp, measured by the issue's reporters (issue 18)"
NETLISTS = {"A": "netlists/neurosim_v14_rram_22nm.yaml", "B": "netlists/neurosim_v14_sram_22nm.yaml"}
LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1", "fc2")
INPUT_DENSITY = (0.185 + 0.223) / 2          # middle of the traces' measured band
INPUT_TOGGLE, OUTPUT_TOGGLE = 0.18, 0.5      # NeuroSim V1.4 Param.cpp inputtoggle / outputtoggle
WEIGHT_SIGMA, WEIGHT_BITS = 0.25, 8          # trace weights: clip(round(N(0, 0.25) x 128))
# NeuroSim Param.cpp (validated = true) zeta: "post-layout energy increase", applied to the energy of its TOPS/W
# (33.9 uJ + leakage, x 1.22, gives its 29.5 TOPS/W for 2 x 615.9 M MACs); cimgraph applies no such factor.
ZETA = 1.22

# Figures per image, SI units. Energy categories: array + ADC, accumulation, buffers, interconnect, other.
REFERENCE = {
    "A": {
        "dynamic_energy": 33.9e-6, "tops_per_w": 29.5, "leakage_power": 2.17e-3, "period": 130.3e-6,
        "area": 358e-6, "empty_area": 257e-6,
        "energy": {"array + ADC": 18.2e-6, "accumulation": 3.82e-6, "buffers": 0.187e-6, "interconnect": 6.70e-6,
                   "other": 5.02e-6},
        "area_by": {"array": 3.61e-6, "ADC": 7.95e-6, "accumulation": 15.5e-6, "interconnect": 26.8e-6,
                    "buffers + other": 46.9e-6},
        "layer_latency": (130.3e-6, 77.1e-6, 38.8e-6, 41.3e-6, 12.9e-6, 23.8e-6, 0.726e-6, 0.404e-6),
        "layer_energy": (1.30e-6, 10.5e-6, 4.56e-6, 8.29e-6, 2.99e-6, 5.70e-6, 0.579e-6, 0.0023e-6),
        "tiles": (2, 8, 4, 8, 8, 8, 64, 1), "speedup": (16, 16, 4, 4, 2, 1, 1, 8), "utilization": 0.981,
    },
    "B": {
        "dynamic_energy": 36.0e-6, "tops_per_w": 27.8, "leakage_power": 2.24e-3, "period": 133.0e-6,
        "area": 80.1e-6, "fps": 7520.0,
        "energy": {"array + ADC": 24.9e-6, "accumulation": 3.82e-6, "buffers": 0.187e-6, "interconnect": 3.05e-6,
                   "other": 4.07e-6},
    },
}
# cimgraph groups behind each NeuroSim category
ENERGY_GROUPS = {"array + ADC": ("array", "adc"), "accumulation": ("accumulation",), "buffers": ("buffer",),
                 "interconnect": ("interconnect",), "other": ("peripheral",)}
AREA_GROUPS = {"array": ("array",), "ADC": ("adc",), "accumulation": ("accumulation",),
               "interconnect": ("interconnect",), "buffers + other": ("buffer", "peripheral")}


def weight_cell_density(sigma: float = WEIGHT_SIGMA, bits: int = WEIGHT_BITS) -> float:
    """Fraction of '1' cells of the weight traces: w = clip(round(N(0, sigma) x 2^(bits-1))) in offset binary.

    Exact: P(w = k) is the normal probability of the rounding interval (the clipped tails fall on the end codes),
    and the density is the mean over the ``bits`` bit planes of P(bit = 1).
    """
    half = 2 ** (bits - 1)
    scale = sigma * half
    cdf = lambda x: 0.5 * (1 + math.erf(x / (scale * math.sqrt(2))))  # noqa: E731
    codes = np.arange(-half, half)
    lower = np.array([0.0 if k == -half else cdf(k - 0.5) for k in codes])
    upper = np.array([1.0 if k == half - 1 else cdf(k + 0.5) for k in codes])
    p = upper - lower
    planes = ((codes + half)[:, None] >> np.arange(bits)[None, :]) & 1
    return float((p[:, None] * planes).sum() / bits)


def neurosim_activity(n_layers: int) -> Activity:
    """The activity of NeuroSim's VGG-8 traces (module docstring)."""
    return Activity(np.full(n_layers, INPUT_DENSITY), np.full(n_layers, weight_cell_density()),
                    input_toggle=np.full(n_layers, INPUT_TOGGLE), output_toggle=np.full(n_layers, OUTPUT_TOGGLE))


def evaluate(config: str, method: str | None = None, netlist: str | dict | None = None):
    """(Mapping, Result) of VGG-8 on the NeuroSim-equivalent netlist of ``config`` ("A" or "B"), or on
    ``netlist`` (a path or a parsed mapping)."""
    chip = cimgraph.load_netlist(netlist or os.path.join(ROOT, NETLISTS[config]))
    mapping = cimgraph.map_network(chip, cimgraph.bundled("vgg8"), method=method)
    return mapping, cimgraph.evaluate(mapping, activity=neurosim_activity(len(mapping.layers)))


def component_area(result) -> float:
    """Sum of component areas (what NeuroSim's 358 mm^2 holds besides its empty bounding box)."""
    return float(sum(result.area_by_group.values()))


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


def neurosim_vectors(layer) -> int:
    """Input vectors NeuroSim reads for ``layer``: (H - k + 1)^2 / stride^2 (it ignores padding)."""
    h, w = layer.input_size
    return max(1, (h - layer.kernel + 1) // layer.stride) * max(1, (w - layer.kernel + 1) // layer.stride)


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


def parts(mapping) -> list:
    """The single-design Mappings of ``mapping`` (one per tile design of a hybrid chip)."""
    return list(mapping.parts.values()) if hasattr(mapping, "parts") else [mapping]


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


def subarray_box_rows(chip) -> list[tuple[str, str, float, float]]:
    """(block, array side it lines, area m^2, extent m) of one placed subarray of ``chip`` (schedule/placed.py,
    NeuroSim SubArray.cpp CalculateArea's rule), the array first; the corner block's extent is 0."""
    from cimgraph.schedule.placed import placement_side

    level = chip.levels["subarray"]
    array = level.array.model
    width, height = float(array.width()), float(array.height())
    out = [(f"array ({array.kind}, {width * 1e6:.1f} um wide)", "-", level.array.area, height)]
    for comp in level.components:
        area, side = comp.area * comp.spec.count, placement_side(comp.model)
        extent = area / height if side == "rows" else area / width if side == "columns" else 0.0
        out.append((f"{comp.name} ({comp.spec.kind})", side, area, extent))
    return out


NEUROSIM_RRAM_CELL_F = (4, 12)   # issue 18: NeuroSim V1.4's 1T1R cell, height x width in F (config A)


def neurosim_mlsa_area(chip) -> float:
    """NeuroSim V1.4's MLSA bank area (m^2) for one subarray of ``chip``, from A's reported ADC area.

    MultilevelSenseAmp.cpp CalculateArea: 9 minimum NMOS per comparator x (levelOutput - 1) x ADCs (independent of
    the cell) plus (levelOutput - 1) x ADCs / dumcolshared reference columns of the array's own cells
    (param->arrayheight x arraywidthunit; Param.cpp dumcolshared = levelOutput): 15.5 columns for 16 5-bit MLSAs.
    A's 7.95 mm^2 over its 9,485 subarrays (3.61 mm^2 of 128 x 128 cells of 4F x 12F) is that bank (with its
    encoder) on 11.3 um x 0.26 um columns; the same bank on ``chip``'s columns differs by their area only.
    """
    ref = REFERENCE["A"]["area_by"]
    f = chip.tech.feature_size
    array = chip.subarray
    h_a, w_a = NEUROSIM_RRAM_CELL_F
    subarrays_a = ref["array"] / (array.rows * array.columns * h_a * w_a * f * f)
    adc = next(c.model for c in chip.levels["subarray"].components if c.spec.kind.startswith("adc."))
    levels = 2 ** adc.bits
    columns = (levels - 1) * adc.count / levels
    column_a = array.rows * h_a * f * w_a * f
    return ref["ADC"] / subarrays_a + columns * (array.height() * array.cell_width - column_a)


def neurosim_level_shifter_area(tech) -> float:
    """One NeuroSim V1.4 level shifter (m^2), LevelShifter.cpp CalculateArea with validated = true: its input
    inverter (N 15x, P 20x), latch side (32x, 10x) and output (64x, 82x) of the minimum NMOS and pnSizeRatio PMOS, each
    laid out with widths x 2 in a cell 2.5 x 28F high; the latch (twice) and output are IO devices, their layout
    widths x 2.5 (L = 270 nm); the whole x alpha = 1.44 for wiring. cimgraph's gate-area model (NeuroSim's
    CalculateGateArea) lays out each gate."""
    from cimgraph.components.circuit import CELL_HEIGHT, balanced_pmos_width, gate_area, min_width

    w_n = min_width(tech)
    w_p = balanced_pmos_width(tech, w_n)
    height = CELL_HEIGHT * tech.feature_size * 2.5
    low, latch, high = (gate_area(tech, "inv", 1, 2 * n * w_n, 2 * p * w_p, height).width
                        for n, p in ((15, 20), (32, 10), (64, 82)))
    return height * (low + (2 * latch + high) * 2.5) * 1.44


def neurosim_wl_switch_area(chip) -> float:
    """NeuroSim V1.4's WL switch matrix of a parallel 1T1R array (m^2), NewSwitchMatrix.cpp: per row four minimum
    TGs (WL and BL, each to its voltage or ground) and the input DFF, no IR-drop sizing and no control chain; its
    TGs fill the array height in released cells. cimgraph's minimum gate and DFF lay it out."""
    from cimgraph.components.circuit import cell_height
    from cimgraph.components.digital import Gate, dff_width

    tech = chip.tech
    return chip.subarray.rows * (4 * Gate(tech).width + dff_width(tech)) * cell_height(tech)


def _box_state(chip) -> dict:
    """One subarray's box inputs (schedule/placed.py): array width, height and area, and its blocks."""
    from cimgraph.schedule.placed import subarray_blocks

    array = chip.subarray
    return {"width": float(array.width()), "height": float(array.height()),
            "area": chip.levels["subarray"].array.area, "blocks": subarray_blocks(chip)}


def _replace(chip, state, kind: str, area_of) -> None:
    """Set the area of ``chip``'s subarray blocks whose kind starts with ``kind`` to ``area_of(component)`` (None:
    keep it), keeping their side."""
    for comp in chip.levels["subarray"].components:
        if comp.spec.kind.startswith(kind):
            area = area_of(comp)
            if area is not None:
                state["blocks"][comp.name] = (area, state["blocks"][comp.name][1])


def _neurosim_array_and_mlsa(chip, state) -> None:
    """NeuroSim's array (SubArray.cpp lengthRow = numCol x cell width: no dummy columns, its reference columns are
    in its MLSA) and its MLSA bank (:func:`neurosim_mlsa_area`) in place of cimgraph's ADC."""
    array = chip.subarray
    state["width"] = array.columns * array.cell_width
    state["area"] = state["width"] * state["height"]
    _replace(chip, state, "adc.", lambda comp: neurosim_mlsa_area(chip))


def _neurosim_level_shifters(chip, state) -> None:
    """NeuroSim's level shifters (:func:`neurosim_level_shifter_area`, one per line) in place of cimgraph's
    level-shifting write drivers; SubArray.cpp divides a bank's area by the edge it lines (no whole-cell stacks)."""
    _replace(chip, state, "driver.write", lambda comp: comp.model.lines * neurosim_level_shifter_area(chip.tech)
             if comp.model.shifts else None)


def _neurosim_wl_switch(chip, state) -> None:
    """NeuroSim's WL switch matrix (:func:`neurosim_wl_switch_area`) in place of cimgraph's switch.wl (1T1R)."""
    _replace(chip, state, "switch.wl", lambda comp: neurosim_wl_switch_area(chip))


def _shifts(chip) -> bool:
    """``chip``'s subarray has level-shifting write drivers (an eNVM cell written above Vdd)."""
    return any(c.spec.kind == "driver.write" and c.model.shifts for c in chip.levels["subarray"].components)


def placed_area_account(mapping, result) -> list[tuple[str, float, float]]:
    """The placed chip area (m^2) from cimgraph's towards DNN+NeuroSim V1.4's, one term at a time: (step, placed
    area, empty box area over all subarrays). Every step replaces one of cimgraph's blocks by NeuroSim's size where
    NeuroSim's own figures or formulas give it, and re-boxes every subarray of every tile design with the same rule.

    The first entry is NeuroSim's own box rule (SubArray.cpp CalculateArea, conventionalParallel; Tile.cpp and
    Chip.cpp sum the boxes with no further bounding box) applied to cimgraph's blocks (schedule/placed.py). Then:
    NeuroSim's array and MLSA bank (from A's reported ADC area; on B's cell its reference columns grow); for a
    cell written above Vdd its level shifters, for a 1T1R array its WL switch matrix (A), computed with its formulas;
    last its interconnect area, which counts the bus wires (HTree.cpp, XYBus.cpp: bus width x repeater size /
    treeFoldedRatio along every stage) where cimgraph counts the repeaters only: A's own reported 26.8 mm^2, for B
    an upper bound (B's subarrays, PEs and tiles, the trees' units, are smaller).
    """
    from cimgraph.schedule.placed import box_of

    chips = [(p.chip, p.chip.instances("chip/tile/pe/subarray")) for p in parts(mapping)]
    states = [_box_state(chip) for chip, _ in chips]

    def boxes() -> tuple[float, float]:
        out = [(n, box_of(s["width"], s["height"], s["area"], s["blocks"].values()))
               for (_, n), s in zip(chips, states)]
        return sum(n * b.area for n, b in out), sum(n * (b.area - b.parts_area) for n, b in out)

    base, empty = boxes()
    steps = [("cimgraph: NeuroSim's box rule on cimgraph's blocks", result.placed_area, empty)]
    outside = [0.0]   # area changes outside the subarray boxes

    def step(label: str, change=None, elsewhere: float = 0.0) -> None:
        if change is not None:
            for (chip, _), state in zip(chips, states):
                change(chip, state)
        outside[0] += elsewhere
        total, empty = boxes()
        steps.append((label, result.placed_area + total - base + outside[0], empty))

    chip = mapping.chip
    step(f"and NeuroSim's array (no dummy columns) and MLSA banks ({neurosim_mlsa_area(chip) * 1e12:.0f} um^2 per "
         "subarray, 15.5 reference columns)", _neurosim_array_and_mlsa)
    if _shifts(chip):
        step(f"and NeuroSim's level shifters ({neurosim_level_shifter_area(chip.tech) * 1e12:.1f} um^2 each, "
             "LevelShifter.cpp; banks cut to the edge)", _neurosim_level_shifters)
    if chip.cell.access == "1t1r":   # NeuroSim's wlNewSwitchMatrix (SRAM and crossbar arrays use others)
        step(f"and NeuroSim's WL switch matrix ({neurosim_wl_switch_area(chip) * 1e12:.0f} um^2: 4 minimum TGs and "
             "a DFF per row)", _neurosim_wl_switch)
    ref = REFERENCE["A"]["area_by"]["interconnect"]
    which = "A's (an upper bound)" if chip.cell.family == "sram" else "A's reported"
    step(f"and NeuroSim's wire-counted interconnect at {which} {ref * 1e6:.1f} mm^2",
         elsewhere=ref - result.area_by_group["interconnect"])
    return steps


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
