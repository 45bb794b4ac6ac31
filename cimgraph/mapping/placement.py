"""What a mapping is: the weight-matrix view of each layer and where its blocks sit on the chip.

Weight-matrix view (DNN+NeuroSim V2 manual sec. 4.3):

- conventional: each 3-D kernel is unrolled into one column; rows are torch's unfold order
  ``c*k*k + kh*k + kw``; the matrix is cut into subarray-sized blocks.
- novel: the kernel is split by spatial position into K*K sub-matrices of D x N (D input channels, N kernels);
  each goes to its own PE, which receives the input pixels of that kernel position, so an input vector is reused
  across PEs instead of being re-fetched for every window.

Each weight takes ``cells_per_weight`` adjacent cells of a row (its bit slices), so a matrix with N output
channels is N * cells_per_weight cells wide.

Grouped convolutions (``groups`` g > 1, depthwise when g = C_in) have a block-diagonal matrix: g blocks of
R_g = C_in/g * k*k rows (the group's input channels, unfold order over ALL C_in channels) by C_g = C_out/g *
cells_per_weight columns. The blocks are packed along the diagonal of the subarrays: a subarray holds
min(floor(rows / R_g), floor(columns / C_g)) whole group blocks, its off-diagonal cells holding weight zero;
a block larger than a subarray in either direction is cut into row and column blocks on its own. Subarrays
that would hold only zeros are never stored. Such layers use the ``grouped`` scheme (conventional unrolling,
block-diagonal packing), also under novel mapping.
"""
from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from ..errors import MappingError
from ..workload.layers import Layer, Network

SCHEMES = ("conventional", "novel", "grouped")


@attrs.frozen
class MatrixView:
    """A layer's weight matrix as the mapper sees it (sizes in memory cells and in subarray blocks).

    ``positions`` sub-matrices of ``rows`` x ``columns`` cells each (1 for conventional, K*K for novel);
    ``row_blocks`` and ``column_blocks`` count subarrays for ONE sub-matrix, ``row_blocks x column_blocks``
    being all its subarrays. Grouped: ``rows`` = R_g, ``columns`` = all C_out * cells_per_weight (so rows x
    columns counts only the diagonal blocks' cells), ``row_blocks`` = row blocks of one group block (the partial
    sums of one output) and ``column_blocks`` = the rest: packed subarrays, or groups x column blocks of one
    group. ``packing``: group blocks per subarray (0: each block is cut up on its own).
    """

    scheme: str
    positions: int
    rows: int
    columns: int
    row_blocks: int
    column_blocks: int
    groups: int = 1
    packing: int = 1


def matrix_view(layer: Layer, scheme: str, subarray_rows: int, subarray_columns: int,
                cells_per_weight: int = 1) -> MatrixView:
    """The weight matrix of ``layer`` under ``scheme`` cut into ``subarray_rows`` x ``subarray_columns`` blocks."""
    if scheme not in SCHEMES:
        raise MappingError(f"layer {layer.name!r}: unknown mapping scheme {scheme!r}, expected one of {SCHEMES}")
    columns = layer.weight_columns * cells_per_weight
    if layer.groups > 1 or scheme == "grouped":
        if scheme == "novel":
            raise MappingError(f"layer {layer.name!r}: a grouped convolution (groups={layer.groups}) has no novel "
                               f"(per kernel position) view; map it with the 'grouped' scheme")
        return grouped_view(layer, subarray_rows, subarray_columns, cells_per_weight)
    if scheme == "novel":
        positions, rows = layer.kernel * layer.kernel, layer.in_channels
    else:
        positions, rows = 1, layer.weight_rows
    return MatrixView(scheme, positions, rows, columns, math.ceil(rows / subarray_rows),
                      math.ceil(columns / subarray_columns))


def grouped_view(layer: Layer, subarray_rows: int, subarray_columns: int, cells_per_weight: int = 1) -> MatrixView:
    """Block-diagonal view of a grouped layer: whole group blocks packed along the subarrays' diagonals."""
    groups, rows = layer.groups, layer.weight_rows
    block_columns = layer.weight_columns // groups * cells_per_weight
    packing = min(subarray_rows // rows, subarray_columns // block_columns)
    if packing >= 1:
        return MatrixView("grouped", 1, rows, groups * block_columns, 1, math.ceil(groups / packing), groups,
                          packing)
    return MatrixView("grouped", 1, rows, groups * block_columns, math.ceil(rows / subarray_rows),
                      groups * math.ceil(block_columns / subarray_columns), groups, 0)


@attrs.frozen
class LayerPlacement:
    """Where one layer's weights sit.

    ``tiles``: tiles holding the layer (never shared with another layer). ``pes``: PEs holding it in its fullest
    tile; ``subarrays``: subarrays holding it in its fullest PE. ``duplication``: total copies of the weights.
    ``row_blocks`` x ``column_blocks``: subarrays of one copy (novel: all K*K positions). ``used_rows`` x
    ``used_columns``: weight-matrix rows x cell columns of one copy. ``input_vectors``: input vectors each copy
    processes per image. ``utilization``: cells holding weights (all copies) / cells of the layer's tiles.
    Grouped layers (scheme ``grouped``): ``used_rows`` = R_g, ``row_blocks`` = row blocks of one group block,
    ``row_blocks x column_blocks`` = subarrays of one copy, ``groups`` and ``packing`` (group blocks per
    subarray, 0 when a block is cut) as in :class:`MatrixView`; ``column_groups()`` says which outputs each
    row group feeds.
    """

    layer: Layer
    scheme: str
    tiles: int
    pes: int
    subarrays: int
    duplication: int
    row_blocks: int
    column_blocks: int
    used_rows: int
    used_columns: int
    input_vectors: int
    utilization: float
    subarray_rows: int
    positions: int = 1
    groups: int = 1
    packing: int = 1

    @property
    def subarrays_per_copy(self) -> int:
        return self.row_blocks * self.column_blocks

    @property
    def input_rows(self) -> int:
        """Weight-matrix rows driven per input vector (all C_in*k*k unfold rows; R_g x groups when grouped)."""
        return self.layer.weight_rows * self.groups

    @property
    def rows_per_subarray(self) -> int:
        """Most weight-matrix rows one subarray reads together (the longest row group)."""
        return max(len(group) for group in self.row_groups())

    @property
    def cells(self) -> int:
        """Memory cells holding this layer's weights, all copies."""
        return self.duplication * self.used_rows * self.used_columns

    def row_groups(self) -> list[np.ndarray]:
        """Weight-matrix row indices (unfold order) read together by one subarray, one array per row block.

        Conventional: contiguous runs of ``subarray_rows`` rows. Novel: for each kernel position ``kh*k + kw``
        in turn, the rows ``c*k*k + kh*k + kw`` of up to ``subarray_rows`` consecutive channels ``c``.
        Grouped (rows over ALL input channels): per packed subarray the rows of its ``packing`` whole groups,
        or, for a cut group block, each group's runs of ``subarray_rows`` rows. Subarrays in other column
        blocks of the same rows read the same group again (:meth:`column_groups` gives their columns).
        """
        rows, size = self.layer.weight_rows, self.subarray_rows
        if self.scheme == "grouped":
            total = rows * self.groups
            if self.packing:
                span = rows * self.packing
                return [np.arange(start, min(start + span, total), dtype=np.int64) for start in range(0, total, span)]
            return [np.arange(start, min(start + size, first + rows), dtype=np.int64)
                    for first in range(0, total, rows) for start in range(first, first + rows, size)]
        if self.scheme == "conventional":
            return [np.arange(start, min(start + size, rows), dtype=np.int64) for start in range(0, rows, size)]
        positions = self.positions
        channels = rows // positions
        groups = []
        for position in range(positions):
            for start in range(0, channels, size):
                groups.append(np.arange(start, min(start + size, channels), dtype=np.int64) * positions + position)
        return groups

    def column_groups(self) -> list[np.ndarray]:
        """Weight-matrix columns (output channels) that each row group of :meth:`row_groups` feeds.

        Every output channel for dense layers; for grouped layers the output channels of the groups whose
        input rows the row group holds (a block-diagonal matrix has zeros elsewhere, so no cell is stored there).
        """
        outputs = self.layer.weight_columns
        if self.scheme != "grouped":
            return [np.arange(outputs, dtype=np.int64) for _ in self.row_groups()]
        rows, per_group = self.layer.weight_rows, outputs // self.groups
        return [np.arange(group[0] // rows * per_group, (group[-1] // rows + 1) * per_group, dtype=np.int64)
                for group in self.row_groups()]


@attrs.frozen
class Mapping:
    """A network placed on a chip whose counts are resolved (``chip.counts`` has no None).

    ``pe_grid``: PEs per tile (rows, columns); ``subarray_grid``: subarrays per PE (rows, columns).
    ``utilization``: cells holding weights (incl. duplicates) / cells of the ``tiles_used`` tiles.
    """

    chip: Any
    network: Network
    method: str
    layers: tuple[LayerPlacement, ...]
    utilization: float
    tiles_used: int
    pe_grid: tuple[int, int]
    subarray_grid: tuple[int, int]

    def layer(self, name: str) -> LayerPlacement:
        for placement in self.layers:
            if placement.layer.name == name:
                return placement
        raise MappingError(f"mapping of {self.network.name!r} has no layer {name!r}")
