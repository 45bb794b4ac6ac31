"""Extra tile designs of a hybrid chip (netlist key ``designs:``; additive: netlists without it are unchanged).

A hybrid netlist keeps its ``chip:`` hierarchy (the primary tile design: conv / fc / linear layers with
static weights) and adds named tile designs, each a tile -> pe -> subarray hierarchy with its own count,
memory cell and the layer kinds it runs::

    designs:
      attention:
        runs: [matmul]            # layer kinds (cimgraph.workload.layers.KINDS) mapped onto this design
        schemes: [conventional]   # optional: only layers the chip's mapping would map this way
        cell: sram.6t             # optional; default: the chip's cell
        tiles: auto               # or a fixed count
        tile: {pes: auto, pe: {subarrays: auto, subarray: {kind: array.dcim, rows: 128, columns: 128}}}

``schemes`` selects by mapping scheme as well as kind: the scheme a layer gets under the chip's mapping
method on the chip's own subarrays (:func:`cimgraph.mapping.floorplan.layer_schemes`): ``conventional``
(fully-connected layers, and under novel mapping the convolutions too small for it) or ``grouped``. A
design maps its layers conventionally, so ``novel`` layers always stay on the chip's own tiles. This is how
DNN+NeuroSim V1.4 builds its chip: novel-mapped layers on one tile design, conventionally mapped ones on a
second (Chip.cpp ChipFloorPlan: desiredTileSizeCM, desiredPESizeCM, desiredNumTileCM).

The designs share the chip level (its buffer, interconnect and function units). Each is built as a chip of
its own (same technology, clock, precision and mapping options; a design that runs only ``matmul`` stores
activations, so its "weight" precision is the input precision) and kept in ``ChipGraph.designs``. A design
that runs only static kinds (conv, fc, linear) is built over a copy of the chip level, so its layers read
their inputs from the chip buffer over the chip interconnect and are accumulated, activated and pooled there
exactly as the chip's own layers (schedule/hybrid.py counts that chip level once). Problems are reported
with their ``$.designs.<name>...`` path like every other netlist problem.
"""
from __future__ import annotations

from typing import Any, Callable

import attrs

from ..errors import NetlistError, Problem, did_you_mean
from ..workload.layers import KIND_ROLES, KINDS
from .schema import LevelSpec, NetlistSpec, _check_count

DESIGN_KEYS = ("runs", "schemes", "cell", "tiles", "tile")
SCHEMES = ("conventional", "grouped")    # mapping schemes a design can take (it maps its layers conventionally)
STATIC_KINDS = tuple(kind for kind, role in KIND_ROLES.items() if role == "static")  # stored weights


@attrs.frozen
class DesignSpec:
    """One extra tile design: the kinds it runs (and schemes it takes; empty: any), its cell (name,
    overrides) and tile -> subarray levels."""

    name: str
    runs: tuple[str, ...]
    cell: str | None
    cell_overrides: dict[str, Any]
    levels: dict[str, LevelSpec]
    schemes: tuple[str, ...] = ()

    @property
    def static(self) -> bool:
        """Whether it runs only layers with stored weights (and so shares the chip level's data path)."""
        return all(kind in STATIC_KINDS for kind in self.runs)

    def takes(self, kind: str, scheme: str) -> bool:
        """Whether a layer of ``kind`` that the chip maps with ``scheme`` goes onto this design."""
        return kind in self.runs and (not self.schemes or scheme in self.schemes)


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
        schemes = _check_schemes(c, f"{path}.schemes", data.get("schemes", []))
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
        out[name] = DesignSpec(name, tuple(runs), cell, overrides, levels, schemes)
    return out


def _check_schemes(c: Any, path: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        c.add(path, f"expected a list of mapping schemes from {', '.join(SCHEMES)}, got {raw!r}")
        return ()
    for scheme in raw:
        if scheme == "novel":
            c.add(path, "'novel' layers stay on the chip's own tiles (a design maps its layers conventionally); "
                        f"expected schemes from {', '.join(SCHEMES)}")
        elif scheme not in SCHEMES:
            c.add(path, f"unknown mapping scheme {scheme!r}{did_you_mean(scheme, SCHEMES)}; expected schemes "
                        f"from {', '.join(SCHEMES)}")
    return tuple(raw)


def design_netlist(spec: NetlistSpec, design: DesignSpec) -> NetlistSpec:
    """The design as a chip of its own over the design's tiles: a copy of the chip level for a design of
    static layers (see the module docstring), else an empty chip level."""
    levels = dict(design.levels)
    chip = spec.levels["chip"]
    levels["chip"] = (attrs.evolve(chip, count=1) if design.static and "chip" in spec.levels
                      else LevelSpec(name="chip", count=1))
    precision = spec.precision
    if set(design.runs) == {"matmul"}:
        precision = attrs.evolve(precision, weight=precision.input)
    # one clock for the whole chip (netlist/clock.py): a design runs on the chip's, derived or given
    return attrs.evolve(spec, name=f"{spec.name}/{design.name}", cell=design.cell or spec.cell,
                        cell_overrides=design.cell_overrides if design.cell else spec.cell_overrides,
                        precision=precision, mapping=attrs.evolve(spec.mapping, method="conventional"),
                        levels=levels, designs={}, clock_auto=False)


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
