"""What a mapping is: the weight-matrix view of each layer and where its blocks sit on the chip.

Weight-matrix view (DNN+NeuroSim V2 manual sec. 4.3):

- conventional: each 3-D kernel is unrolled into one column; rows are torch's unfold order
  ``c*k*k + kh*k + kw``; the matrix is cut into subarray-sized blocks.
- novel: the kernel is split by spatial position into K*K sub-matrices of D x N (D input channels, N kernels);
  each goes to its own PE, which receives the input pixels of that kernel position, so an input vector is reused
  across PEs instead of being re-fetched for every window.

Each weight takes ``cells_per_weight`` adjacent cells of a row (its bit slices), so a matrix with N output
channels is N * cells_per_weight cells wide.
"""
from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from ..errors import MappingError
from ..workload.layers import Layer, Network

SCHEMES = ("conventional", "novel")


@attrs.frozen
class MatrixView:
    """A layer's weight matrix as the mapper sees it (sizes in memory cells and in subarray blocks).

    ``positions`` sub-matrices of ``rows`` x ``columns`` cells each (1 for conventional, K*K for novel);
    ``row_blocks`` and ``column_blocks`` count subarrays for ONE sub-matrix.
    """

    scheme: str
    positions: int
    rows: int
    columns: int
    row_blocks: int
    column_blocks: int


def matrix_view(layer: Layer, scheme: str, subarray_rows: int, subarray_columns: int,
                cells_per_weight: int = 1) -> MatrixView:
    """The weight matrix of ``layer`` under ``scheme`` cut into ``subarray_rows`` x ``subarray_columns`` blocks."""
    if scheme not in SCHEMES:
        raise MappingError(f"layer {layer.name!r}: unknown mapping scheme {scheme!r}, expected one of {SCHEMES}")
    if layer.groups != 1:
        raise MappingError(f"layer {layer.name!r}: grouped convolution (groups={layer.groups}) cannot be mapped "
                           f"yet; expected groups=1")
    columns = layer.weight_columns * cells_per_weight
    if scheme == "novel":
        positions, rows = layer.kernel * layer.kernel, layer.in_channels
    else:
        positions, rows = 1, layer.weight_rows
    return MatrixView(scheme, positions, rows, columns, math.ceil(rows / subarray_rows),
                      math.ceil(columns / subarray_columns))


@attrs.frozen
class LayerPlacement:
    """Where one layer's weights sit.

    ``tiles``: tiles holding the layer (never shared with another layer). ``pes``: PEs holding it in its fullest
    tile; ``subarrays``: subarrays holding it in its fullest PE. ``duplication``: total copies of the weights.
    ``row_blocks`` x ``column_blocks``: subarrays of one copy (novel: all K*K positions). ``used_rows`` x
    ``used_columns``: weight-matrix rows x cell columns of one copy. ``input_vectors``: input vectors each copy
    processes per image. ``utilization``: cells holding weights (all copies) / cells of the layer's tiles.
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

    @property
    def subarrays_per_copy(self) -> int:
        return self.row_blocks * self.column_blocks

    @property
    def cells(self) -> int:
        """Memory cells holding this layer's weights, all copies."""
        return self.duplication * self.used_rows * self.used_columns

    def row_groups(self) -> list[np.ndarray]:
        """Weight-matrix row indices (unfold order) read together by one subarray, one array per row block.

        Conventional: contiguous runs of ``subarray_rows`` rows. Novel: for each kernel position ``kh*k + kw``
        in turn, the rows ``c*k*k + kh*k + kw`` of up to ``subarray_rows`` consecutive channels ``c``.
        """
        rows, size = self.layer.weight_rows, self.subarray_rows
        if self.scheme == "conventional":
            return [np.arange(start, min(start + size, rows), dtype=np.int64) for start in range(0, rows, size)]
        positions = self.positions
        channels = rows // positions
        groups = []
        for position in range(positions):
            for start in range(0, channels, size):
                groups.append(np.arange(start, min(start + size, channels), dtype=np.int64) * positions + position)
        return groups


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
