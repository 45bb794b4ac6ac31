"""Extra tile designs of a hybrid chip (netlist key ``designs:``; additive: netlists without it are unchanged).

A hybrid netlist keeps its ``chip:`` hierarchy (the primary tile design: conv / fc / linear layers with
static weights) and adds named tile designs, each a tile -> pe -> subarray hierarchy with its own count,
memory cell and the layer kinds it runs::

    designs:
      attention:
        runs: [matmul]            # layer kinds (cimgraph.workload.layers.KINDS) mapped onto this design
        cell: sram.6t             # optional; default: the chip's cell
        tiles: auto               # or a fixed count
        tile: {pes: auto, pe: {subarrays: auto, subarray: {kind: array.dcim, rows: 128, columns: 128}}}

The designs share the chip level (its buffer, interconnect and function units). Each is built as a chip of
its own (same technology, clock and precision; a design that runs only ``matmul`` stores activations, so its
"weight" precision is the input precision) and kept in ``ChipGraph.designs``. Problems are reported with
their ``$.designs.<name>...`` path like every other netlist problem.
"""
from __future__ import annotations

from typing import Any, Callable

import attrs

from ..errors import NetlistError, Problem, did_you_mean
from ..workload.layers import KINDS
from .schema import LevelSpec, MappingSpec, NetlistSpec, _check_count

DESIGN_KEYS = ("runs", "cell", "tiles", "tile")


@attrs.frozen
class DesignSpec:
    """One extra tile design: the kinds it runs, its cell (name, overrides) and tile -> subarray levels."""

    name: str
    runs: tuple[str, ...]
    cell: str | None
    cell_overrides: dict[str, Any]
    levels: dict[str, LevelSpec]


def validate_designs(c: Any, raw: Any, level: Callable) -> dict[str, DesignSpec]:
    """Validate the ``designs:`` mapping, adding every problem to collector ``c``."""
    if not isinstance(raw, dict) or not raw:
        c.add("$.designs", f"expected a mapping of design name -> tile design, got {raw!r}")
        return {}
    out: dict[str, DesignSpec] = {}
    for name, data in raw.items():
        path = f"$.designs.{name}"
        if not isinstance(name, str) or not name.isidentifier():
            c.add(path, "expected a design name made of letters, digits and _")
            continue
        if not isinstance(data, dict):
            c.add(path, f"expected a mapping with {', '.join(DESIGN_KEYS)}, got {data!r}")
            continue
        for key in data:
            if key not in DESIGN_KEYS:
                c.add(f"{path}.{key}", f"unknown key{did_you_mean(str(key), DESIGN_KEYS)}; expected one of "
                                       f"{', '.join(DESIGN_KEYS)}")
        runs = data.get("runs")
        if not isinstance(runs, list) or not runs or not all(isinstance(r, str) for r in runs):
            c.add(f"{path}.runs", f"expected a list of layer kinds from {', '.join(KINDS)}, got {runs!r}")
            runs = []
        for kind in runs:
            if kind not in KINDS:
                c.add(f"{path}.runs", f"unknown layer kind {kind!r}{did_you_mean(kind, KINDS)}; "
                                      f"expected kinds from {', '.join(KINDS)}")
        cell, overrides = data.get("cell"), {}
        if isinstance(cell, dict):
            overrides = {k: v for k, v in cell.items() if k != "name"}
            cell = cell.get("name")
        if cell is not None and not isinstance(cell, str):
            c.add(f"{path}.cell", f"expected a memory cell name such as 'sram.6t', got {cell!r}")
            cell = None
        if "tile" not in data:
            c.add(f"{path}.tile", "missing: the design's tile level must be described")
            continue
        levels = level(c, "tile", f"{path}.tile", data["tile"])
        tiles = _check_count(c, f"{path}.tiles", data.get("tiles", "auto"))  # 1 .. MAX_COUNT or auto
        tiles = "auto" if tiles in (None, "bad") else tiles
        if "tile" in levels:
            levels["tile"] = attrs.evolve(levels["tile"], count=None if tiles == "auto" else tiles)
        out[name] = DesignSpec(name, tuple(runs), cell, overrides, levels)
    return out


def design_netlist(spec: NetlistSpec, design: DesignSpec) -> NetlistSpec:
    """The design as a chip of its own: an empty chip level over the design's tiles."""
    levels = dict(design.levels)
    levels["chip"] = LevelSpec(name="chip", count=1)
    precision = spec.precision
    if set(design.runs) == {"matmul"}:
        precision = attrs.evolve(precision, weight=precision.input)
    return attrs.evolve(spec, name=f"{spec.name}/{design.name}", cell=design.cell or spec.cell,
                        cell_overrides=design.cell_overrides if design.cell else spec.cell_overrides,
                        precision=precision, mapping=MappingSpec(method="conventional",
                                                                 duplication=spec.mapping.duplication),
                        levels=levels, designs={})


def build_designs(spec: NetlistSpec, registry: Any) -> dict[str, Any]:
    """Build every extra design into a ChipGraph; all designs' problems are raised together."""
    from .graph import build_chip

    built, problems = {}, []
    for name, design in spec.designs.items():
        try:
            built[name] = build_chip(design_netlist(spec, design), registry)
        except NetlistError as exc:
            problems.extend(Problem(p.path.replace("$.cell", f"$.designs.{name}.cell"), p.message)
                            for p in exc.problems)
    if problems:
        raise NetlistError(problems, spec.file or None)
    return built
