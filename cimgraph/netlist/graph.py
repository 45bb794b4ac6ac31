"""ChipGraph: the chip as a hierarchical networkx MultiDiGraph (composition, not subclassing).

Nodes are path strings (``chip``, ``chip/tile``, ``chip/tile/pe/subarray/adc``); node data holds
``level``, ``count`` (instances per parent), ``model`` and ``plugin``. Edge keys name the edge
type: ``contains`` for the hierarchy, ``htree``/``bus`` for interconnect (the edge holds the
link component's node path and model). Replicated instances are one node with a count.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import attrs
import networkx as nx

from ..errors import NetlistError, Problem
from ..registry import Registry
from .build import BuiltLevel, build_levels
from .schema import CHILD_KEYS, COUNT_KEYS, LEVELS, NetlistSpec

LEVEL_PATHS = {"chip": "chip", "tile": "chip/tile", "pe": "chip/tile/pe", "subarray": "chip/tile/pe/subarray"}


class ChipGraph:
    """A validated chip: spec, technology, cell, and the graph of its components."""

    def __init__(self, spec: NetlistSpec, registry: Registry, tech: Any, cell: Any, levels: dict[str, BuiltLevel]):
        self.spec = spec
        self.registry = registry
        self.tech = tech
        self.cell = cell
        self.levels = levels
        self.designs: dict[str, ChipGraph] = {}   # extra tile designs of a hybrid chip (netlist/designs.py)
        self.graph = nx.MultiDiGraph()
        self._build_graph()

    # -- construction --------------------------------------------------------------------
    def _build_graph(self) -> None:
        g = self.graph
        for level in LEVELS:
            built = self.levels[level]
            path = LEVEL_PATHS[level]
            array = built.array
            g.add_node(path, level=level, count=built.count, auto=built.auto,
                       model=array.model if array else None, kind=array.spec.kind if array else None,
                       plugin=array.plugin if array else None, version=array.version if array else None,
                       unit_area=built.unit_area, model_area=array.area if array else 0.0)
            if level != "chip":
                parent = path.rsplit("/", 1)[0]
                g.add_edge(parent, path, key="contains")
            for comp in (*built.components, *built.transposed):
                node = f"{path}/{comp.name}"
                g.add_node(node, level="component", parent_level=level, count=comp.spec.count, model=comp.model,
                           kind=comp.spec.kind, plugin=comp.plugin, version=comp.version, unit_area=comp.area,
                           model_area=comp.area, transposed=comp.spec.transposed,
                           power_gating=comp.spec.power_gating)
                g.add_edge(path, node, key="contains")
        for level, child in CHILD_KEYS.items():
            for comp in self.levels[level].components:
                role = comp.spec.kind.split(".")[0]
                if role == "link":
                    edge_type = comp.spec.kind.split(".", 1)[1]
                    g.add_edge(LEVEL_PATHS[level], LEVEL_PATHS[child], key=edge_type,
                               link=f"{LEVEL_PATHS[level]}/{comp.name}", model=comp.model)

    # -- accessors -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    def children(self, node: str) -> list[str]:
        return [v for _, v, k in self.graph.out_edges(node, keys=True) if k == "contains"]

    def walk(self, level: str | None = None) -> Iterator[str]:
        """Nodes in hierarchy order (pre-order from ``chip``), optionally only one level."""
        for node in nx.dfs_preorder_nodes(nx.DiGraph(((u, v) for u, v, k in self.graph.edges(keys=True)
                                                       if k == "contains")), "chip"):
            data = self.graph.nodes[node]
            if level is None or data["level"] == level or data.get("parent_level") == level and level != "component":
                yield node

    def components(self, level: str | None = None) -> list[str]:
        """Component nodes (peripherals, buffers, links; plus the subarray's array node)."""
        out = []
        for node in self.walk():
            data = self.graph.nodes[node]
            if data["model"] is None:
                continue
            if level is None or data.get("parent_level", data["level"]) == level:
                out.append(node)
        return out

    def node(self, node: str) -> dict[str, Any]:
        return self.graph.nodes[node]

    def model(self, node: str) -> Any:
        return self.graph.nodes[node]["model"]

    def instances(self, node: str) -> int:
        """Instances of ``node`` on the whole chip (product of counts along its path)."""
        total = 1
        parts = node.split("/")
        for i in range(1, len(parts) + 1):
            total *= self.graph.nodes["/".join(parts[:i])]["count"]
        return total

    def links(self) -> list[tuple[str, str, str, Any]]:
        """Interconnect edges: (from level path, to level path, edge type, link node)."""
        return [(u, v, k, d["link"]) for u, v, k, d in self.graph.edges(keys=True, data=True) if k != "contains"]

    @property
    def subarray(self) -> Any:
        return self.levels["subarray"].array.model

    @property
    def cells_per_weight(self) -> int:
        return math.ceil(self.spec.precision.weight / self.cell.bits_per_cell)

    @property
    def counts(self) -> dict[str, int | None]:
        return {COUNT_KEYS[parent]: self.spec.levels[child].count for parent, child in CHILD_KEYS.items()}

    @property
    def auto(self) -> list[str]:
        return [key for key, value in self.counts.items() if value is None]

    def find(self, role: str, level: str = "subarray") -> Any:
        """First component model of ``role`` at ``level`` (e.g. ``find("adc")``), or None."""
        for comp in self.levels[level].components:
            if comp.spec.kind.split(".")[0] == role:
                return comp.model
        return None

    def area(self) -> float:
        """Chip area (m^2): sum of every component's area times its instances."""
        return self.levels["chip"].unit_area

    def with_counts(self, tiles: int | None = None, pes: int | None = None, subarrays: int | None = None) -> "ChipGraph":
        """A new ChipGraph with the given counts fixed; models that depend on them are rebuilt."""
        spec = self.spec.with_counts(tiles=tiles, pes=pes, subarrays=subarrays)
        return build_chip(spec, self.registry)

    def to_dict(self) -> dict[str, Any]:
        """The validated hierarchy as plain data (for ``cimgraph show --json``)."""

        def describe(node: str) -> dict[str, Any]:
            data = self.graph.nodes[node]
            out: dict[str, Any] = {"name": node.rsplit("/", 1)[-1], "path": node, "level": data["level"],
                                   "count": "auto" if data.get("auto") else data["count"]}
            if data.get("kind"):
                out["kind"] = data["kind"]
                out["plugin"] = data["plugin"]
                if data.get("power_gating", "none") != "none":
                    out["power_gating"] = data["power_gating"]
                out["fields"] = {f.name: _plain(getattr(data["model"], f.name)) for f in attrs.fields(type(data["model"]))
                                 if f.name not in ("tech", "cell")}
            kids = self.children(node)
            if kids:
                out["children"] = [describe(k) for k in kids]
            return out

        return {"name": self.spec.name, "technology": self.tech.name, "cell": self.cell.name,
                "technology_parameters": _parameters(self.tech), "cell_parameters": _parameters(self.cell),
                "cell_overrides": sorted(self.spec.cell_overrides),
                "precision": attrs.asdict(self.spec.precision), "mapping": attrs.asdict(self.spec.mapping),
                "clock": self.spec.clock, "clock_auto": self.spec.clock_auto, "hierarchy": describe("chip")}

    def __repr__(self) -> str:
        return f"ChipGraph({self.spec.name!r}, {self.graph.number_of_nodes()} nodes)"


def _parameters(obj: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Every numeric or text field of a Technology / MemoryCell as it was used: name, value (SI), unit."""
    out: list[dict[str, Any]] = []
    for f in attrs.fields(type(obj)):
        value = getattr(obj, f.name)
        if attrs.has(type(value)):
            out.extend(_parameters(value, f"{prefix}{f.name}."))
        elif value is not None and f.name != "name":
            out.append({"name": prefix + f.name, "value": _plain(value), "unit": f.metadata.get("unit", "")})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def build_chip(spec: NetlistSpec, registry: Registry) -> ChipGraph:
    """Resolve technology and cell, build all models, and wrap them in a ChipGraph. A ``clock: auto`` chip
    gets its derived clock (netlist/clock.py) in ``spec.clock``, its extra tile designs the same one."""
    tech, cell = _resolve(spec, registry)
    if spec.clock_auto:
        from .clock import chip_clock

        spec = attrs.evolve(spec, clock=chip_clock(spec, registry, lambda s: _resolve(s, registry)))
    problems: list[Problem] = []
    levels = build_levels(spec, registry, tech, cell, problems)
    if problems or spec.clock is None:   # no clock: a design's problems, reported by build_designs
        if spec.designs and not problems:
            from .designs import build_designs

            build_designs(spec, registry)
        raise NetlistError(problems or [Problem("$.clock", "'auto': the tile designs do not build")],
                           spec.file or None)
    chip = ChipGraph(spec, registry, tech, cell, levels)
    if spec.designs:
        from .designs import build_designs

        chip.designs = build_designs(spec, registry)
    return chip


def _resolve(spec: NetlistSpec, registry: Registry) -> tuple[Any, Any]:
    """(technology, memory cell with the netlist's overrides) of ``spec``; NetlistError if either fails."""
    problems: list[Problem] = []
    tech = cell = None
    try:
        tech = registry.technology(spec.technology)
    except Exception as exc:
        problems.append(Problem("$.technology", str(exc)))
    try:
        cell = registry.memory_cell(spec.cell)
    except Exception as exc:
        problems.append(Problem("$.cell", str(exc)))
    if cell is not None and spec.cell_overrides:
        cell = _override_cell(cell, spec.cell_overrides, problems)
    if problems:
        raise NetlistError(problems, spec.file or None)
    return tech, cell


def _override_cell(cell: Any, overrides: dict[str, Any], problems: list[Problem]) -> Any:
    from ..errors import did_you_mean
    from .build import _field_problem

    fields = {f.name: f for f in attrs.fields(type(cell))}
    good = {}
    for key, value in overrides.items():
        if key not in fields or key == "name":
            problems.append(Problem(f"$.cell.{key}", f"memory cells have no field {key!r}{did_you_mean(str(key), fields)}"))
            continue
        message = _field_problem(type(cell), fields[key], value)
        if message:
            problems.append(Problem(f"$.cell.{key}", message))
        else:
            good[key] = value
    try:
        return attrs.evolve(cell, **good)
    except Exception as exc:
        problems.append(Problem("$.cell", str(exc)))
        return cell
