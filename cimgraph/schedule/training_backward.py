"""Data movement of the activation-gradient phase: the reversed flow of seed 001 sec. 5.2 (Fig. 13).

In layer n the output errors (from layer n+1) enter where the layer's outputs left: they are read from
the chip buffer and sent down the H-tree / bus to the tiles and PEs like the forward's input map, then to
every sub-matrix that holds their output channels (each row block gets its column slice of the error
vector at every output position: ``V x N x RB`` error values delivered, against the forward's
``V x K K C_in`` activations). Each sub-matrix reads out its *rows* (the transposed read-out), i.e. one
partial input error per row and output position; these are reduced back up the hierarchy:

- over the column blocks of a row block (they split the output channels the error sums over), and
- over the kernel locations (sec. 5.2: "sum up the partial-sums among sub-matrix to get the error"),
  which is the col2im accumulation: the ``P = V x K K C_in`` partial errors of a layer reduce to the
  ``F = C_in H W`` values of its input-error map (P / F = K^2 V / (H W), the kernel overlap).

A group of row blocks that sits together at a level (a PE, a tile) adds its partial errors into its own
partial input-error map, so it sends up at most ``F`` values and never more than its unreduced partial
sums: values leaving level L = ``F x min(P / F, g_L) x c_L``, with ``g_L`` the row-block groups leaving L
(cimgraph.schedule.counts.layer_work) and ``c_L`` the PEs / tiles a row block's column blocks span
(the floorplan's subarray and PE grids). The
reduced input-error map goes to the chip buffer at error precision.

This is expressed as a reversed ``Work`` and counted by ``cimgraph.schedule.counts.action_counts`` for the
buffers, links and adder trees above the subarray: the same counting rules, with the backward's data.
Validity: conventional and novel mapping with the counts module's placement (a PE holds whole row blocks
with their column blocks); skip connections' error fan-out is not counted (residual bits 0).
"""
from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from ..netlist.graph import LEVEL_PATHS
from .counts import ActionCount, Work, action_counts, layer_work

MOVEMENT_ROLES = ("buffer", "link", "adder")    # data movement above the subarray, also in backprop


def reversed_work(mapping: Any, error_bits: int, backward: np.ndarray) -> Work:
    """The backward data flow of every layer as a ``Work`` (per image; zero where ``backward`` is 0)."""
    w = layer_work(mapping)
    places = mapping.layers
    arr = lambda f: np.array([f(p) for p in places], dtype=float)  # noqa: E731
    rows = arr(lambda p: p.input_rows)
    grid_columns = float(mapping.subarray_grid[1]), float(mapping.pe_grid[1])   # subarrays per PE row, PEs per tile row
    partial = w.vectors * rows * backward                 # P: one partial error per row and position
    full = arr(lambda p: p.layer.input_size[0] * p.layer.input_size[1] * p.layer.in_channels) * backward  # F
    overlap = np.divide(partial, full, out=np.zeros_like(partial), where=full > 0)
    cb = w.column_blocks
    span_pe = np.ceil(cb / grid_columns[0])               # PEs one row block's column blocks occupy
    span_tile = np.ceil(span_pe / grid_columns[1])
    groups = {"subarray": cb * overlap,
              "pe": np.minimum(overlap, w.groups["pe"]) * span_pe,
              "tile": np.minimum(overlap, w.groups["tile"]) * span_tile,
              "chip": np.minimum(overlap, 1.0)}
    error_in = w.outputs * error_bits * backward           # the output-error map, read where outputs left
    return attrs.evolve(
        w, outputs=full, pooled_outputs=full, groups=groups,
        stream_bits=error_in * w.row_blocks,               # each row block gets its slice of every error vector
        ifm_bits=error_in, ofm_bits=full * error_bits, residual_bits=np.zeros_like(full),
        activated=())   # errors pass no activation unit: finished sums go up at the level's partial-sum width


def backward_movement(mapping: Any, error_bits: int, backward: np.ndarray) -> list[ActionCount]:
    """Buffer, link and adder-tree actions of the activation-gradient phase above the subarray."""
    chip = mapping.chip
    work = reversed_work(mapping, error_bits, backward)
    out = []
    for ac in action_counts(mapping, work):
        level_path = ac.path.rsplit("/", 1)[0]
        if level_path != LEVEL_PATHS["subarray"] and chip.model(ac.path).role() in MOVEMENT_ROLES:
            out.append(ac)
    return out
