"""Action counts: what every component does for each layer of a mapped network (per image).

The counting follows DNN+NeuroSim V2 (seed 001 sec. 4.3-4.4, 5.1, 5.4): inputs are applied
bit-serially (one bit per cycle); each bit-cycle every ADC converts its ``share`` columns in
turn through the column mux, and the shift-adder accumulates each conversion; partial sums of a
layer's row blocks are reduced by adder trees in the PE, then the tile, then the chip; activations
move through buffers and H-tree/bus links as bits over the width of each access or flit.

Everything is vectorised over layers: each count is a numpy array of shape (n_layers,).
``active`` is how many instances of a node share that work in parallel, so that node's share of
the layer latency is ``count / active * action latency``.
"""
from __future__ import annotations

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
    so only the part of its latency beyond that step adds to the layer latency."""

    path: str
    action: str
    count: np.ndarray
    active: np.ndarray
    activity_dependent: bool = False
    pipelined: bool = False


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
    tiles, pes, subs = arr(lambda p: p.tiles), arr(lambda p: p.pes), arr(lambda p: p.subarrays)
    # Row blocks held together: a PE holds up to `subs / cb` row blocks of one copy, a tile `pes` PEs.
    rb_in_pe = np.clip(np.floor(subs / np.maximum(cb, 1)), 1, rb)
    pe_groups = np.ceil(rb / rb_in_pe)
    tile_groups = np.ceil(pe_groups / np.maximum(pes, 1))
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
    )


def _share(chip: Any) -> int:
    for role in ("adc", "sense"):
        model = chip.find(role)
        if model is not None and getattr(model, "share", None):
            return int(model.share)
    return 1


def per_conversion(kind: str) -> bool:
    """Components that act once per ADC conversion step (``share`` times per bit-cycle)."""
    return kind.split(".")[0] in PER_CONVERSION_ROLES or kind == "decoder.mux"


def sense_window(chip: Any, call: Any = None) -> float:
    """Time one input bit stays applied while the shared read-out senses its columns in turn:
    ``share`` x (column mux + ADC / sense amplifier latency), seed 001 sec. 5.4(5)-(6). The
    digital shift-add that follows each conversion does not need the cells to conduct; an ADC
    that samples and holds (``sense_time()``, e.g. SAR) needs them only while it samples."""
    call = call or (lambda path, method: method())
    step = 0.0
    for comp in chip.levels["subarray"].components:
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
    return _share(chip) * step


def conversion_step(chip: Any, call: Any = None) -> float:
    """Latency (s) of one conversion step of the subarray read-out: the column mux, its decoder and
    the ADC / sense amplifier in series (every per-conversion component but the shift-adder).

    The shift-adder is pipelined behind it: a register holds each conversion's code while the ADC
    converts the next column, so the shift-add of step k runs during step k + 1 and a conversion
    step lasts max(read-out step, shift-add), not their sum (NeuroSim V1.4 SubArray.cpp,
    synchronous mode: the shift-add adds only the cycles it needs beyond the ADC's)."""
    call = call or (lambda path, method: method())
    step = 0.0
    for comp in chip.levels["subarray"].components:
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

    def add(path: str, action: str, count: np.ndarray, level: str, activity: bool = False,
            pipelined: bool = False) -> None:
        out.append(ActionCount(path, action, np.asarray(count, dtype=float), w.active[level], activity, pipelined))

    add(LEVEL_PATHS["subarray"], "read", bit_cycles, "subarray", activity=True)
    for level in LEVEL_ORDER:
        parent_path = LEVEL_PATHS[level]
        for comp in chip.levels[level].components:
            path, model, role = f"{parent_path}/{comp.name}", comp.model, comp.spec.kind.split(".")[0]
            n = comp.spec.count
            if per_conversion(comp.spec.kind):
                add(path, type(model).actions()[0], bit_cycles * share, level, pipelined=(role == "shiftadd"))
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
                reads, writes = _buffer_bits(level, w, psum_bits)
                add(path, "read", reads / width, level)
                add(path, "write", writes / width, level)
            elif role == "link":
                width = float(getattr(model, "width", 1)) * n
                add(path, "transfer", _link_bits(level, w, psum_bits, in_bits) / width, level)
            elif role == "pool":
                copies = getattr(model, "copies", 1) * n
                pooled = np.where(w.pooled_outputs < w.outputs, w.pooled_outputs, 0.0)
                add(path, "pool", pooled / copies, level)
            elif role == "activation":
                add(path, "activate", w.outputs / (getattr(model, "copies", 1) * n), level)
    return out


def _buffer_bits(level: str, w: Work, psum_bits: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Bits read and written per image by one level's buffer (seed 001 4.3: novel mapping reuses
    inputs across PEs, so the tile buffer is read once per input rather than once per use)."""
    if level == "chip":
        return w.ifm_bits + w.residual_bits, w.ofm_bits
    if level == "tile":
        reads = w.ifm_bits if w.novel else w.stream_bits
        return reads, w.ifm_bits + w.outputs * w.groups["tile"] * psum_bits["tile"]
    if level == "pe":
        writes = w.ifm_bits if w.novel else w.stream_bits
        return w.stream_bits, writes + w.outputs * w.groups["pe"] * psum_bits["pe"]
    return w.stream_bits / np.maximum(w.row_blocks, 1), w.stream_bits / np.maximum(w.row_blocks, 1)


def _link_bits(level: str, w: Work, psum_bits: dict[str, int], in_bits: int) -> np.ndarray:
    """Bits moved per image by the interconnect from this level down to its children and back."""
    if level == "chip":
        return w.ifm_bits + w.residual_bits + w.outputs * w.groups["tile"] * psum_bits["tile"]
    if level == "tile":
        down = w.ifm_bits if w.novel else w.stream_bits
        return down + w.outputs * w.groups["pe"] * psum_bits["pe"]
    return w.stream_bits + w.outputs * w.groups["subarray"] * psum_bits["subarray"]
