"""Action counts: what every component does for each layer of a mapped network (per image).

The counting follows DNN+NeuroSim V2 (seed 001 sec. 4.3-4.4, 5.1, 5.4): inputs are applied
bit-serially (one bit per cycle); each bit-cycle every ADC converts its ``share`` columns in
turn through the column mux, and the shift-adder accumulates each conversion; partial sums of a
layer's row blocks are reduced by adder trees in the PE, then the tile, then the chip; activations
move through buffers and H-tree/bus links as bits over the width of each access or flit. What moves
up from a level is decided by where the reduction and the activation happen: partial sums
(``psum_bits`` each) while a layer's row blocks are still spread over several units of that level;
once they all meet inside one unit the sum is complete, and it leaves as an activation of the input
precision if the activation unit (role ``activation``, which quantises the sum for the next layer)
sits at that level or below, else as the complete sum at ``psum_bits``: nothing in between can drop
its low bits. (NeuroSim V1.4 with chipActivation counts activations on the chip bus but partial sums
in the tile output buffer; docs/fidelity.md.) Link and buffer counts are split into the data moved
down (``data="input"``, the input activations) and up (``data="output"``), so the scheduler can
charge each its own toggle rate.

Everything is vectorised over layers: each count is a numpy array of shape (n_layers,).
``active`` is how many instances of a node share that work in parallel, so that node's share of
the layer latency is ``count / active * action latency``.
"""
from __future__ import annotations

import functools
import inspect
import math
from typing import Any

import attrs
import numpy as np

from ..errors import PluginError
from ..netlist.graph import LEVEL_PATHS

PER_CONVERSION_ROLES = ("adc", "mux", "shiftadd", "sense", "precharge")
SENSING_ROLES = ("adc", "mux", "sense")  # the analog path a column's current flows through while sensed
LEVEL_ORDER = ("chip", "tile", "pe", "subarray")


@attrs.frozen
class ActionCount:
    """``count`` actions of ``action`` on node ``path`` per layer, spread over ``active`` instances.

    ``pipelined``: the action overlaps the read-out's conversion step (see :func:`conversion_step`),
    so only the part of its latency beyond that step adds to the layer latency. ``overlap``: actions of
    one node with the same non-empty key run at the same time on separate ports (a two-port buffer's
    writes and reads of one data stream), so the node takes the longest of them, not their sum."""

    path: str
    action: str
    count: np.ndarray
    active: np.ndarray
    activity_dependent: bool = False
    data: str = ""    # "input" | "output": the activations moved down or the results moved up (links, buffers)
    pipelined: bool = False
    overlap: str = ""


@attrs.frozen
class Work:
    """Per-layer quantities (arrays over layers) the counts derive from."""

    row_blocks: np.ndarray
    column_blocks: np.ndarray
    duplication: np.ndarray
    vectors: np.ndarray          # output positions per image (all copies together)
    outputs: np.ndarray          # output values per image (positions x output channels)
    pooled_outputs: np.ndarray
    stream_bits: np.ndarray      # input bits delivered to the subarrays
    ifm_bits: np.ndarray
    ofm_bits: np.ndarray
    active: dict[str, np.ndarray]    # active instances of each level
    groups: dict[str, np.ndarray]    # partial sums per output value leaving each level
    rows_per_block: np.ndarray
    novel: bool
    residual_bits: np.ndarray    # skip-connection activation bits read back and added (0 without one)
    activated: tuple[str, ...] = LEVEL_ORDER  # levels whose finished outputs leave as activations


def book_latency(latency: dict[str, Any], longest: dict[tuple[str, str], Any], path: str, value: Any,
                 overlap: str = "") -> None:
    """Add ``value`` (per layer) to node ``path``'s latency in ``latency``. Actions of one node that share a
    non-empty ``overlap`` key run at the same time (ActionCount.overlap), so of those only the longest counts:
    ``longest`` keeps it per (node, key) and only its growth is added."""
    if overlap:
        before = longest.get((path, overlap), 0.0)
        longest[path, overlap] = np.maximum(before, value)
        value = longest[path, overlap] - before
    latency[path] = latency.get(path, 0.0) + value


def layer_work(mapping: Any) -> Work:
    """Derive the per-layer work arrays from a Mapping."""
    chip = mapping.chip
    in_bits = chip.spec.precision.input
    places = mapping.layers
    arr = lambda f: np.array([f(p) for p in places], dtype=float)  # noqa: E731
    rb, cb, dup = arr(lambda p: p.row_blocks), arr(lambda p: p.column_blocks), arr(lambda p: p.duplication)
    vectors = arr(lambda p: p.layer.input_vectors)
    out_ch = arr(lambda p: p.layer.weight_columns)
    rows = arr(lambda p: p.input_rows)          # unfold rows driven per input vector (all groups)
    pool = arr(lambda p: p.layer.pool)
    ifm = arr(lambda p: p.layer.input_size[0] * p.layer.input_size[1] * p.layer.in_channels)
    tiles, pes = arr(lambda p: p.tiles), arr(lambda p: p.pes)
    pe_groups, tile_groups = (np.array(g, dtype=float) for g in zip(*(_row_spread(mapping, p) for p in places)))
    outputs = vectors * out_ch
    return Work(
        row_blocks=rb, column_blocks=cb, duplication=dup, vectors=vectors, outputs=outputs,
        pooled_outputs=outputs / (pool * pool), stream_bits=vectors * rows * in_bits, ifm_bits=ifm * in_bits,
        ofm_bits=outputs / (pool * pool) * in_bits,
        active={"chip": np.ones_like(rb), "tile": np.maximum(tiles, 1), "pe": np.maximum(tiles * pes, 1),
                "subarray": np.maximum(rb * cb * dup, 1)},
        groups={"subarray": rb, "pe": pe_groups, "tile": tile_groups, "chip": np.ones_like(rb)},
        rows_per_block=arr(lambda p: p.rows_per_subarray),
        novel=mapping.method == "novel",
        residual_bits=arr(lambda p: p.layer.residual) * outputs * in_bits,
        activated=activated_levels(chip),
    )


def _row_spread(mapping: Any, p: Any) -> tuple[int, int]:
    """(PEs, tiles) over which the row blocks of one output of placement ``p`` are spread, from the
    floorplan's grids (see mapping/floorplan.py): a novel-mapped layer keeps one kernel position per PE
    and all positions in every tile, so its rows spread over the tiles only past a PE's subarray rows;
    a conventional layer fills the PE grid of a tile (conventional method) or a novel tile's PEs as a
    pool of PE blocks, columns first (novel method). Grouped layers: the row blocks of one copy, laid
    along the PE's and then the tile's free subarrays."""
    sr, sc = mapping.subarray_grid
    pr, pc = mapping.pe_grid
    rb, cb = max(p.row_blocks, 1), max(p.column_blocks, 1)
    if p.scheme == "grouped":
        in_pe = max(1, min(rb, p.subarrays // cb))
        pe_groups = math.ceil(rb / in_pe)
        return pe_groups, math.ceil(pe_groups / max(p.pes, 1))
    if p.scheme == "novel":
        per_position = math.ceil(rb / max(p.positions, 1))
        return p.positions * math.ceil(per_position / sr), math.ceil(per_position / sr)
    pe_rows, pe_cols = math.ceil(rb / sr), math.ceil(cb / sc)
    if mapping.method == "novel":
        rows_per_tile = max(1, (pr * pc) // min(pe_cols, pr * pc))
    else:
        rows_per_tile = pr
    return pe_rows, math.ceil(pe_rows / rows_per_tile)


def activated_levels(chip: Any) -> tuple[str, ...]:
    """Levels at or above the lowest level holding an activation unit: their finished outputs have
    been quantised to the input precision before they leave (none without an activation unit)."""
    lowest = [lvl for lvl in LEVEL_ORDER if any(c.spec.kind.split(".")[0] == "activation"
                                                for c in chip.levels[lvl].components)]
    return LEVEL_ORDER[:LEVEL_ORDER.index(lowest[-1]) + 1] if lowest else ()


def _share(chip: Any) -> int:
    for role in ("adc", "sense"):
        model = chip.find(role)
        if model is not None and getattr(model, "share", None):
            return int(model.share)
    return 1


def per_conversion(kind: str) -> bool:
    """Components that act once per ADC conversion step (``share`` times per bit-cycle)."""
    return kind.split(".")[0] in PER_CONVERSION_ROLES or kind == "decoder.mux"


@functools.lru_cache(maxsize=4096)
def _function_parameters(function: Any) -> frozenset[str]:
    return frozenset(inspect.signature(function).parameters)


def parameters(method: Any) -> frozenset[str]:
    """Parameter names of a (bound) model action, looked up once per function (inspect is slow)."""
    return _function_parameters(getattr(method, "__func__", method))


def _takes_activity(method: Any) -> bool:
    """Whether a per-conversion action's cost depends on the layer's activity (it takes ``input_activity``,
    e.g. ``adc.flash`` with its SPICE characterisation); the scheduler then passes the layer's activities."""
    return "input_activity" in parameters(method)


def sensing_step(chip: Any, call: Any = None) -> float:
    """Time one column is sensed: column mux + ADC / sense amplifier latency, or an ADC's sampling
    time where it samples and holds (``sense_time()``, e.g. SAR). It is also how long a column's cells
    conduct in one input bit: behind the column mux (seed 001 sec. 5.4(5)) an unselected column floats,
    its line charges once (the array's line C V^2) and it draws DC current only while it is connected
    to the ADC, as NeuroSim's MLSA books each column's power over that column's own sensing time
    (MultilevelSenseAmp.cpp, P_col x LatencyCol). The digital shift-add that follows needs no current."""
    return sensing_time(chip.levels["subarray"].components, call)


def sensing_time(components: Any, call: Any = None) -> float:
    """:func:`sensing_step` of these subarray components (``BuiltComponent``s; the transposed read-out's too)."""
    call = call or (lambda path, method: method())
    step = 0.0
    for comp in components:
        if comp.spec.kind.split(".")[0] in SENSING_ROLES:
            model, path = comp.model, f"{LEVEL_PATHS['subarray']}/{comp.name}"
            sense_time = getattr(model, "sense_time", None)  # e.g. a SAR ADC holds a sample
            if callable(sense_time):
                t = float(sense_time())
                if not (math.isfinite(t) and t >= 0):
                    raise PluginError(f"{path} ({comp.spec.kind}, plugin {comp.plugin}): sense_time() returned {t!r}")
                step += t
            else:
                step += call(path, getattr(model, type(model).actions()[0])).latency
    return step


def conversion_step(chip: Any, call: Any = None) -> float:
    """Latency (s) of one conversion step of the subarray read-out: the column mux, its decoder and
    the ADC / sense amplifier in series (every per-conversion component but the shift-adder).

    The shift-adder is pipelined behind it: a register holds each conversion's code while the ADC
    converts the next column, so the shift-add of step k runs during step k + 1 and a conversion
    step lasts max(read-out step, shift-add), not their sum (NeuroSim V1.4 SubArray.cpp,
    synchronous mode: the shift-add adds only the cycles it needs beyond the ADC's)."""
    return readout_step(chip.levels["subarray"].components, call)


def readout_step(components: Any, call: Any = None) -> float:
    """:func:`conversion_step` of a subarray's built forward components (``BuiltComponent``s)."""
    call = call or (lambda path, method: method())
    step = 0.0
    for comp in components:
        if per_conversion(comp.spec.kind) and comp.spec.kind.split(".")[0] != "shiftadd":
            path = f"{LEVEL_PATHS['subarray']}/{comp.name}"
            step += call(path, getattr(comp.model, type(comp.model).actions()[0])).latency
    return step


def action_counts(mapping: Any, work: Work | None = None) -> list[ActionCount]:
    """Every (node, action) with its per-layer counts and parallel instances."""
    chip = mapping.chip
    w = work or layer_work(mapping)
    in_bits = chip.spec.precision.input
    sequential = getattr(chip.subarray, "readout", "parallel") == "sequential"
    share = _share(chip)
    bit_cycles = w.row_blocks * w.column_blocks * w.vectors * in_bits  # subarray bit-cycles per image
    if sequential:
        bit_cycles = bit_cycles * w.rows_per_block
    psum_bits = {level: chip.levels[level].psum_bits for level in LEVEL_ORDER}
    out: list[ActionCount] = []

    def add(path: str, action: str, count: np.ndarray, level: str, activity: bool = False, data: str = "",
            pipelined: bool = False, overlap: str = "") -> None:
        out.append(ActionCount(path, action, np.asarray(count, dtype=float), w.active[level], activity, data,
                               pipelined, overlap))

    add(LEVEL_PATHS["subarray"], "read", bit_cycles, "subarray", activity=True)
    for level in LEVEL_ORDER:
        parent_path = LEVEL_PATHS[level]
        for comp in chip.levels[level].components:
            path, model, role = f"{parent_path}/{comp.name}", comp.model, comp.spec.kind.split(".")[0]
            n = comp.spec.count
            if per_conversion(comp.spec.kind):
                action = type(model).actions()[0]
                add(path, action, bit_cycles * share, level, pipelined=(role == "shiftadd"),
                    activity=_takes_activity(getattr(model, action)))
            elif role in ("switch", "decoder", "register"):
                if getattr(model, "read_input", True):  # e.g. an SL switch matrix serves writes only
                    add(path, type(model).actions()[0], bit_cycles, level, activity=(role == "switch"))
            elif role == "adder":
                # one add() reduces `copies` output values; only where partial sums meet at this level
                below = LEVEL_ORDER[LEVEL_ORDER.index(level) + 1] if level != "subarray" else "subarray"
                meet = w.groups[below] > w.groups[level]
                copies = getattr(model, "copies", 1) * n
                adds = np.where(meet, w.outputs * w.groups[level] / copies, 0.0)
                if level == "chip":
                    # a skip-connection add uses one of the tree's (children - 1) adders per output value
                    adders = max(int(getattr(model, "children", 2)) - 1, 1)
                    adds = adds + (w.residual_bits > 0) * w.outputs / copies / adders
                add(path, "add", adds, level)
            elif role == "buffer":
                width = float(getattr(model, "width", 1)) * n
                holds = getattr(model, "holds", "both")
                overlap = getattr(model, "ports", 1) >= 2   # a write port and a read port
                for data, (reads, writes) in _buffer_bits(level, w, psum_bits, in_bits).items():
                    if holds in ("both", data):
                        add(path, "read", reads / width, level, data=data, overlap=data * overlap)
                        add(path, "write", writes / width, level, data=data, overlap=data * overlap)
            elif role == "link":
                width = float(getattr(model, "width", 1)) * n
                carries = getattr(model, "carries", "both")
                for data, bits in _link_bits(level, w, psum_bits, in_bits).items():
                    if carries in ("both", data):
                        add(path, "transfer", bits / width, level, data=data)
            elif role == "pool":
                copies = getattr(model, "copies", 1) * n
                pooled = np.where(w.pooled_outputs < w.outputs, w.pooled_outputs, 0.0)
                add(path, "pool", pooled / copies, level)
            elif role == "activation":
                add(path, "activate", w.outputs / (getattr(model, "copies", 1) * n), level)
    return out


CHILD_LEVEL = {"chip": "tile", "tile": "pe", "pe": "subarray"}


def up_bits(level: str, w: Work, psum_bits: dict[str, int], in_bits: int) -> np.ndarray:
    """Bits per image leaving the units of ``level`` upwards: each output's partial sums while its
    row blocks are still spread over several units (``groups[level] > 1``), else the finished output,
    at the input precision where it has passed the activation unit (see the module docstring)."""
    groups = w.groups[level]
    done = in_bits if level in w.activated else psum_bits[level]
    return w.outputs * np.where(groups > 1, groups * psum_bits[level], done)


def _buffer_bits(level: str, w: Work, psum_bits: dict[str, int], in_bits: int) -> dict[str, tuple]:
    """(bits read, bits written) per image by one level's buffer, for the input activations it holds
    and the results it collects and sends on (seed 001 4.3: novel mapping reuses inputs across PEs, so
    the tile buffer is read once per input rather than once per use)."""
    if level == "chip":
        # a layer's (pooled) outputs are written once and read back as the next layer's inputs
        return {"input": (w.ifm_bits + w.residual_bits, 0.0 * w.ifm_bits), "output": (0.0 * w.ofm_bits, w.ofm_bits)}
    if level == "subarray":
        per_block = w.stream_bits / np.maximum(w.row_blocks, 1)
        return {"input": (per_block, per_block)}
    spread = w.ifm_bits if w.novel else w.stream_bits
    inputs = (spread, w.ifm_bits) if level == "tile" else (w.stream_bits, spread)
    results = up_bits(level, w, psum_bits, in_bits)
    return {"input": inputs, "output": (results, results)}


def _link_bits(level: str, w: Work, psum_bits: dict[str, int], in_bits: int) -> dict[str, np.ndarray]:
    """Bits moved per image by the interconnect from this level down to its children (inputs) and
    back up from them (outputs)."""
    up = up_bits(CHILD_LEVEL[level], w, psum_bits, in_bits)
    if level == "chip":
        return {"input": w.ifm_bits + w.residual_bits, "output": up}
    if level == "tile":
        return {"input": w.ifm_bits if w.novel else w.stream_bits, "output": up}
    return {"input": w.stream_bits, "output": up}
