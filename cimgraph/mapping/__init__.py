"""Mapping: place a Network on a chip (floorplan search, duplication, conventional / novel weight mapping).

``map_network(chip, network)`` looks the method up among the registered mapping strategies (built-ins:
"conventional" and "novel", registered by cimgraph.mapping.hooks), so a plugin can replace or add one.
"""
from __future__ import annotations

from typing import Any

from .. import memo
from ..errors import MappingError
from ..workload.layers import Network
from .floorplan import Floorplan, Geometry, floorplan, grid_sides, speedup_bounds
from .format import format_mapping
from .placement import LayerPlacement, Mapping, MatrixView, matrix_view


def geometry_of(chip: Any, method: str | None = None) -> Geometry:
    """The floorplan geometry of a ChipGraph: subarray size, cells per weight, fixed counts, mapping options."""
    counts = chip.counts
    array = chip.subarray
    return Geometry(rows=int(array.rows), columns=int(array.columns), cells_per_weight=int(chip.cells_per_weight),
                    tiles=counts.get("tiles"), pes=counts.get("pes"), subarrays=counts.get("subarrays"),
                    method=method or chip.spec.mapping.method, duplication=bool(chip.spec.mapping.duplication),
                    tile_copies=bool(getattr(chip.spec.mapping, "tile_copies", False)))


def place(chip: Any, network: Network, method: str) -> Mapping:
    """Run the floorplan search for ``method`` on ``chip`` and resolve the chip's auto counts."""
    if not isinstance(network, Network):
        raise MappingError(f"expected a cimgraph Network to map, got {type(network).__name__}")
    plan = memo.function(floorplan, geometry_of(chip, method), network)
    _check_buildable(network, plan)
    counts = chip.counts
    resolved = chip.with_counts(
        tiles=counts.get("tiles") or plan.tiles_used,
        pes=counts.get("pes") or plan.pe_grid[0] * plan.pe_grid[1],
        subarrays=counts.get("subarrays") or plan.subarray_grid[0] * plan.subarray_grid[1])
    return Mapping(chip=resolved, network=network, method=plan.method, layers=plan.placements,
                   utilization=plan.utilization, tiles_used=plan.tiles_used, pe_grid=plan.pe_grid,
                   subarray_grid=plan.subarray_grid)


def _check_buildable(network: Network, plan: Floorplan) -> None:
    """Blame the network's largest layer (not a chip key) when no chip could hold the network."""
    from ..netlist.schema import MAX_COUNT

    if plan.tiles_used <= MAX_COUNT:
        return
    worst = max(plan.placements, key=lambda p: p.tiles)
    layer = worst.layer
    raise MappingError(
        f"network {network.name!r} needs {plan.tiles_used} tiles, more than any chip can hold ({MAX_COUNT}): layer "
        f"{layer.name} alone ({layer.in_channels} input channels, {layer.out_channels} output channels, "
        f"kernel {layer.kernel}) needs {worst.tiles}; check that layer's channel counts")


def map_network(chip: Any, network: Network, method: str | None = None) -> Mapping:
    """Place ``network`` on ``chip`` with ``method`` (default: the netlist's ``mapping.method``).

    A chip with extra tile designs, or a network with transformer layer kinds, is mapped per design
    (:func:`cimgraph.mapping.hybrid.map_hybrid`, returning a HybridMapping)."""
    from ..plugins import default_registry
    from .hybrid import map_hybrid, needs_hybrid

    if needs_hybrid(chip, network):
        return map_hybrid(chip, network, method)

    from ..errors import CimgraphError, PluginError

    name = method or chip.spec.mapping.method
    registry = default_registry()
    strategy = registry.mapping_strategy(name)
    try:
        mapping = strategy(chip, network)
    except CimgraphError:
        raise
    except Exception as exc:  # a plugin's strategy is blamed by name, never a traceback
        plugin = registry.mapping_strategies[name].plugin
        raise PluginError(f"mapping strategy {name!r} (plugin {plugin}) raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(mapping, Mapping):
        plugin = registry.mapping_strategies[name].plugin
        raise PluginError(f"mapping strategy {name!r} (plugin {plugin}) returned {type(mapping).__name__}, "
                          "expected a cimgraph.mapping.Mapping")
    return mapping


__all__ = ["Floorplan", "Geometry", "LayerPlacement", "Mapping", "MatrixView", "floorplan", "format_mapping",
           "geometry_of", "grid_sides", "map_network", "matrix_view", "place", "speedup_bounds"]
