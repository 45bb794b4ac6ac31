"""Floorplan search: tile and PE sizes, tiles per layer and weight duplication (DNN+NeuroSim V2 manual sec. 4.2-4.4).

A pure function of an explicit :class:`Geometry` and a Network, so it runs without a chip description.

Conventional mapping follows NeuroSim's three stages. Sizes are square powers of two counted in subarrays.

1. Tile: start from the size that holds the largest layer's weight matrix and shrink it down to 4x4 subarrays;
   keep the size with the best memory utilization (weights / cells of the tiles used, no duplication). A tile
   holds one layer only; a layer may span several tiles.
2. PE: from half a tile down to 2x2 subarrays; a layer that fits in one tile along an axis is duplicated along
   that axis over the PEs it leaves free; keep the PE size with the best utilization with those copies.
3. Subarray: a layer that fits in one PE along an axis is duplicated over the PE's free subarrays.

Copies let a layer process several input vectors at once (sec. 4.4). They are capped by the speed-up bound of the
pipeline: a layer is never made faster than the layer with the fewest input vectors per image (the smallest
feature map), beyond which it would only idle. For VGG-8 this removes only the three useless copies of the
last fully-connected layer that NeuroSim makes.

Novel mapping: a tile holds one PE per kernel position (K*K, the most common kernel among convolutions);
each PE holds the D x N sub-matrix of its position. Convolutions of that kernel size with at least one subarray
of rows use it; other layers (fully-connected, the first convolution if it is small) are mapped conventionally
onto the same tile, using its PEs as a pool of PE-sized blocks (:func:`layer_schemes` says which). A netlist may
instead give those layers a tile design of their own, as NeuroSim does (``designs:`` with ``schemes``, mapped by
mapping/hybrid.py); on one tile design the PE is searched over rectangular grids of powers of two (at least two
subarrays, from the size holding the largest sub-matrix down) for the best overall utilization with copies.

Grouped convolutions are placed block-diagonally (``grouped`` scheme, see placement.py) under both methods;
the floorplan sees their subarrays of one copy as a row_blocks x column_blocks grid like any other layer.

With ``tile_copies`` (netlist ``mapping: {tile_copies: true}``) a layer whose copies inside one tile design fall
short of its speed-up bound is given whole extra tiles holding further copies, up to the bound: DNN+NeuroSim V1.4
Chip.cpp (pipeline, speedUpDegree to its upper bound) duplicates the tiles of a layer this way
(numTileEachLayer x speed-up), so a layer keeps pace with the slowest-but-unavoidable stage at the cost of area.

Counts fixed in the netlist are kept; a network that needs more tiles than a fixed count raises MappingError.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

import attrs

from ..errors import MappingError
from ..workload.layers import Layer, Network
from .placement import LayerPlacement, MatrixView, matrix_view

METHODS = ("conventional", "novel")


def _count(name: str):
    def check(instance, attribute, value):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise MappingError(f"geometry: {name} must be a positive integer or None (auto), got {value!r}")
    return check


@attrs.frozen
class Geometry:
    """What the floorplan needs of a chip: subarray size (cells), cells per weight, fixed counts (None = auto:
    searched), mapping method and whether weights may be duplicated. ``pes`` is PEs per tile and ``subarrays``
    subarrays per PE (totals, not grid sides)."""

    rows: int = attrs.field(validator=_count("rows"))
    columns: int = attrs.field(validator=_count("columns"))
    cells_per_weight: int = attrs.field(default=1, validator=_count("cells_per_weight"))
    tiles: int | None = attrs.field(default=None, validator=_count("tiles"))
    pes: int | None = attrs.field(default=None, validator=_count("pes"))
    subarrays: int | None = attrs.field(default=None, validator=_count("subarrays"))
    method: str = "conventional"
    duplication: bool = True
    tile_copies: bool = False

    def __attrs_post_init__(self) -> None:
        if self.method not in METHODS:
            raise MappingError(f"geometry: method must be one of {METHODS}, got {self.method!r}")


@attrs.frozen
class Floorplan:
    """The result of the search: grids, per-layer placements, tiles used and overall memory utilization."""

    method: str
    pe_grid: tuple[int, int]
    subarray_grid: tuple[int, int]
    placements: tuple[LayerPlacement, ...]
    tiles_used: int
    utilization: float


def grid_sides(count: int) -> tuple[int, int]:
    """The most nearly square (rows, columns) grid of ``count`` units, rows >= columns."""
    columns = int(math.isqrt(count))
    while count % columns:
        columns -= 1
    return count // columns, columns


def _powers_down(top: int, bottom: int) -> list[int]:
    top = 1 << max(0, (max(top, bottom) - 1).bit_length())
    sizes = []
    while top >= bottom:
        sizes.append(top)
        top //= 2
    return sizes


def speedup_bounds(network: Network) -> list[int]:
    """Most copies worth making of each layer: ceil(input vectors / fewest input vectors of a convolution).

    DNN+NeuroSim V2 manual sec. 4.4: the speed-up degree is bounded so that no layer idles in the pipeline; the
    slowest useful stage is the convolution with the smallest feature map (fully-connected layers, with one
    input vector per image, are left out of that minimum as NeuroSim does; they get a bound of 1). A sub-network
    of a larger pipeline (``Network.pace``) takes that pipeline's slowest stage.
    """
    floor = network.pace or pipeline_pace(network)
    return [max(1, math.ceil(layer.input_vectors / floor)) for layer in network.layers]


def pipeline_pace(network: Network) -> int:
    """Fewest input vectors per image of a convolution (kernel > 1) of ``network``; of any layer if none."""
    convs = [layer.input_vectors for layer in network.layers if layer.kernel > 1]
    return min(convs) if convs else min(layer.input_vectors for layer in network.layers)


def _copies(blocks: int, unit: int, units: int) -> int:
    """Copies of a matrix ``blocks`` long that fit along an axis of ``units`` parents of ``unit`` blocks each."""
    return max(1, units // math.ceil(blocks / unit))


@attrs.frozen
class _Need:
    layer: Layer
    view: MatrixView
    bound: int

    @property
    def cells(self) -> int:
        return self.view.positions * self.view.rows * self.view.columns


@attrs.frozen
class _Spot:
    """Placement of one layer for one candidate floorplan (before it becomes a LayerPlacement)."""

    tiles: int
    pes: int
    subarrays: int
    copies: int


def _split_copies(copies: int, inner: int) -> tuple[int, int]:
    """Copies per PE (up to ``inner``) and the PEs they need."""
    per_pe = min(inner, copies)
    return per_pe, math.ceil(copies / per_pe)


def _grid_spot(need: _Need, pe_grid, sa_grid, duplication: bool, subarray_level: bool = True) -> _Spot:
    """Conventional layer on a tile that is a pe_grid of PEs, each a sa_grid of subarrays (NeuroSim stages)."""
    (pr, pc), (sr, sc) = pe_grid, sa_grid
    br, bc = need.view.row_blocks, need.view.column_blocks
    tiles = math.ceil(br / (pr * sr)) * math.ceil(bc / (pc * sc))
    pe_copies = _copies(br, sr, pr) * _copies(bc, sc, pc)
    sa_copies = _copies(br, 1, sr) * _copies(bc, 1, sc) if subarray_level else 1
    copies = min(pe_copies * sa_copies, need.bound) if duplication else 1
    per_pe, pe_used = _split_copies(copies, sa_copies)
    pes = min(math.ceil(br / sr), pr) * min(math.ceil(bc / sc), pc) * pe_used
    return _Spot(tiles, pes, min(br, sr) * min(bc, sc) * per_pe, copies)


def _pooled_spot(need: _Need, pes_per_tile: int, sa_grid, duplication: bool) -> _Spot:
    """Conventional layer on a novel-mapping tile: its PEs are a pool of PE-sized blocks."""
    sr, sc = sa_grid
    br, bc = need.view.row_blocks, need.view.column_blocks
    pe_blocks = math.ceil(br / sr) * math.ceil(bc / sc)
    tiles = math.ceil(pe_blocks / pes_per_tile)
    pe_copies = max(1, pes_per_tile // pe_blocks)
    sa_copies = _copies(br, 1, sr) * _copies(bc, 1, sc)
    copies = min(pe_copies * sa_copies, need.bound) if duplication else 1
    per_pe, pe_used = _split_copies(copies, sa_copies)
    return _Spot(tiles, min(pe_blocks, pes_per_tile) * pe_used, min(br, sr) * min(bc, sc) * per_pe, copies)


def _novel_spot(need: _Need, pes_per_tile: int, sa_grid, duplication: bool) -> _Spot:
    """Novel layer: every tile has one PE per kernel position; a PE holds a slice of its D x N sub-matrix."""
    sr, sc = sa_grid
    br, bc = need.view.row_blocks, need.view.column_blocks
    tiles = math.ceil(br / sr) * math.ceil(bc / sc)
    sa_copies = _copies(br, 1, sr) * _copies(bc, 1, sc)
    copies = min(sa_copies, need.bound) if duplication else 1
    return _Spot(tiles, pes_per_tile, min(br, sr) * min(bc, sc) * copies, copies)


def _with_tile_copies(spot: _Spot, bound: int) -> _Spot:
    """Whole extra tiles of further copies until the layer reaches its speed-up ``bound``."""
    if spot.copies >= bound:
        return spot
    sets = math.ceil(bound / spot.copies)
    return _Spot(spot.tiles * sets, spot.pes, spot.subarrays, spot.copies * sets if sets * spot.copies <= bound
                 else bound)


def _speed_up(network: Network, needs: list[_Need], spots: list[_Spot], geometry: Geometry) -> list[_Spot]:
    """Tile copies up to each layer's bound where the geometry asks for them (and a fixed tile count allows)."""
    if not (geometry.tile_copies and geometry.duplication):
        return spots
    faster = [_with_tile_copies(spot, need.bound) for need, spot in zip(needs, spots)]
    _check_fits(network, faster, geometry.tiles)
    return faster


def _utilization(needs: list[_Need], spots: list[_Spot], tile_cells: int) -> float:
    tiles = sum(spot.tiles for spot in spots)
    return sum(need.cells * spot.copies for need, spot in zip(needs, spots)) / (tiles * tile_cells)


def _check_fits(network: Network, spots: Iterable[_Spot], tiles: int | None) -> None:
    if tiles is None:
        return
    spots = list(spots)
    total = sum(spot.tiles for spot in spots)
    if total <= tiles:
        return
    running = 0
    for layer, spot in zip(network.layers, spots):
        running += spot.tiles
        if running > tiles:
            raise MappingError(
                f"network {network.name!r} does not fit: layer {layer.name} needs {running} tiles counting the "
                f"layers before it ({spot.tiles} of its own), chip has {tiles}; the whole network needs at least "
                f"{total} tiles, the fewest of any tile size tried (set tiles: auto or add {total - tiles} tiles)")


def _conventional_combos(needs: list[_Need], geometry: Geometry) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Candidate (PE grid of a tile, subarray grid of a PE) pairs; fixed counts give one grid, auto a range."""
    def top(unit_r: int, unit_c: int) -> int:
        return max(max(math.ceil(n.view.row_blocks / unit_r), math.ceil(n.view.column_blocks / unit_c)) for n in needs)

    if geometry.pes is not None and geometry.subarrays is not None:
        return [(grid_sides(geometry.pes), grid_sides(geometry.subarrays))]
    if geometry.subarrays is not None:
        sa_grid = grid_sides(geometry.subarrays)
        return [((q, q), sa_grid) for q in _powers_down(top(*sa_grid), 2)]
    if geometry.pes is not None:
        pe_grid = grid_sides(geometry.pes)
        return [(pe_grid, (s, s)) for s in _powers_down(top(*pe_grid), 2)]
    return [((tile // pe, tile // pe), (pe, pe)) for tile in _powers_down(top(1, 1), 4)
            for pe in _powers_down(tile // 2, 2)]


def _conventional(network: Network, needs: list[_Need], geometry: Geometry, method: str) -> Floorplan:
    cell_area = geometry.rows * geometry.columns
    combos = _conventional_combos(needs, geometry)

    def tile_dims(combo):
        (pr, pc), (sr, sc) = combo
        return pr * sr, pc * sc

    # stage 1: tile size by utilization without duplication (fitting a fixed tile count first)
    stage1, fewest = {}, None
    for combo in combos:
        dims = tile_dims(combo)
        if dims not in stage1:
            spots = [_grid_spot(need, *combo, duplication=False) for need in needs]
            fits = geometry.tiles is None or sum(s.tiles for s in spots) <= geometry.tiles
            stage1[dims] = (fits, _utilization(needs, spots, dims[0] * dims[1] * cell_area), dims[0] * dims[1])
            fewest = min(fewest, spots, key=lambda spots: sum(s.tiles for s in spots)) if fewest else spots
    best_dims = max(stage1, key=lambda dims: stage1[dims])
    if not stage1[best_dims][0]:
        _check_fits(network, fewest, geometry.tiles)
    # stage 2: PE size by utilization with PE-level copies (ties: the larger PE)
    tile_cells = best_dims[0] * best_dims[1] * cell_area

    def stage2(combo):
        spots = [_grid_spot(need, *combo, geometry.duplication, subarray_level=False) for need in needs]
        return _utilization(needs, spots, tile_cells), combo[1][0] * combo[1][1]

    pe_grid, sa_grid = max((c for c in combos if tile_dims(c) == best_dims), key=stage2)
    spots = [_grid_spot(need, pe_grid, sa_grid, geometry.duplication) for need in needs]
    spots = _speed_up(network, needs, spots, geometry)
    return _finish(method, needs, spots, pe_grid, sa_grid, tile_cells, geometry.rows)


def _finish(method, needs, spots, pe_grid, sa_grid, tile_cells, rows) -> Floorplan:
    placements = []
    for need, spot in zip(needs, spots):
        view, layer = need.view, need.layer
        placements.append(LayerPlacement(
            layer=layer, scheme=view.scheme, tiles=spot.tiles, pes=spot.pes, subarrays=spot.subarrays,
            duplication=spot.copies, row_blocks=view.positions * view.row_blocks, column_blocks=view.column_blocks,
            used_rows=view.positions * view.rows, used_columns=view.columns,
            input_vectors=math.ceil(layer.input_vectors / spot.copies),
            utilization=need.cells * spot.copies / (spot.tiles * tile_cells),
            subarray_rows=rows, positions=view.positions, groups=view.groups, packing=view.packing))
    return Floorplan(method, pe_grid, sa_grid, tuple(placements), sum(s.tiles for s in spots),
                     _utilization(needs, spots, tile_cells))


def novel_kernel(network: Network) -> int:
    """K*K of the novel-mapping tile: the most common kernel area among dense convolutions with kernel > 1
    (0: none). Grouped convolutions cannot be mapped per kernel position, so they do not vote."""
    areas = Counter(layer.kernel ** 2 for layer in network.layers
                    if layer.kind == "conv" and layer.kernel > 1 and layer.groups == 1)
    return max(areas, key=lambda area: (areas[area], area)) if areas else 0


def layer_schemes(network: Network, method: str, rows: int) -> list[str]:
    """The mapping scheme each layer of ``network`` gets under ``method`` on subarrays of ``rows`` rows.

    Novel method: a dense convolution with the novel kernel (:func:`novel_kernel`) and at least one
    subarray of weight rows is mapped per kernel position ("novel"); a small one (VGG-8's conv1: 27 rows)
    and every fully-connected layer conventionally (DNN+NeuroSim V1.4 Chip.cpp ChipDesignInitialize,
    markNM). Grouped convolutions are "grouped" under either method; every other layer "conventional".
    """
    positions = novel_kernel(network) if method == "novel" else 0
    out = []
    for layer in network.layers:
        if layer.groups > 1:
            out.append("grouped")
        elif (positions and layer.kind == "conv" and layer.kernel ** 2 == positions
              and layer.weight_rows >= rows):
            out.append("novel")
        else:
            out.append("conventional")
    return out


def _novel(network: Network, geometry: Geometry, bounds: list[int]) -> Floorplan | None:
    positions = novel_kernel(network)
    rows, columns, cpw = geometry.rows, geometry.columns, geometry.cells_per_weight
    needs = [_Need(layer, matrix_view(layer, "novel" if scheme == "novel" else "conventional", rows, columns, cpw),
                   bound)
             for layer, bound, scheme in zip(network.layers, bounds, layer_schemes(network, "novel", rows))]
    if not any(need.view.scheme == "novel" for need in needs):
        return None
    if geometry.pes is not None and geometry.pes != positions:
        raise MappingError(f"novel mapping puts one kernel position per PE: network {network.name!r} needs "
                           f"{positions} PEs per tile (its convolutions are {math.isqrt(positions)}x"
                           f"{math.isqrt(positions)}), the netlist fixes pes: {geometry.pes}")
    if geometry.subarrays is not None:
        sa_options = [grid_sides(geometry.subarrays)]
    else:
        novel = [n.view for n in needs if n.view.scheme == "novel"]
        sa_options = [(a, b) for a in _powers_down(max(2, *(v.row_blocks for v in novel)), 1)
                      for b in _powers_down(max(v.column_blocks for v in novel), 1) if a * b >= 2]
    best = fewest = None
    for sa_grid in sa_options:
        spots = [(_novel_spot if need.view.scheme == "novel" else _pooled_spot)(
            need, positions, sa_grid, geometry.duplication) for need in needs]
        tile_cells = positions * sa_grid[0] * sa_grid[1] * rows * columns
        fits = geometry.tiles is None or sum(s.tiles for s in spots) <= geometry.tiles
        score = (fits, _utilization(needs, spots, tile_cells), sa_grid[0] * sa_grid[1], sa_grid[0])
        if best is None or score > best[0]:
            best = (score, sa_grid, spots, tile_cells)
        if fewest is None or sum(s.tiles for s in spots) < sum(s.tiles for s in fewest):
            fewest = spots
    (fits, *_), sa_grid, spots, tile_cells = best
    if not fits:
        _check_fits(network, fewest, geometry.tiles)
    spots = _speed_up(network, needs, spots, geometry)
    return _finish("novel", needs, spots, grid_sides(positions), sa_grid, tile_cells, rows)


def floorplan(geometry: Geometry, network: Network) -> Floorplan:
    """Search the floorplan of ``network`` on subarrays of ``geometry`` (see the module docstring)."""
    bounds = speedup_bounds(network)
    if geometry.method == "novel":
        plan = _novel(network, geometry, bounds)
        if plan is not None:
            return plan
    needs = [_Need(layer, matrix_view(layer, "conventional", geometry.rows, geometry.columns,
                                      geometry.cells_per_weight), bound)
             for layer, bound in zip(network.layers, bounds)]
    return _conventional(network, needs, geometry, geometry.method)
