"""Report data: everything a report shows, as plain attrs data (JSON round trip), built from a Result.

``build_report(result)`` gathers the numbers and tables; rendering (render.py) only formats them.
Table cells hold raw SI values; a column's unit (``Section.units``) tells the renderer how to
show them (``format_si``). Plugins add sections through the ``cimgraph_report_sections`` hook;
they may return :class:`Section` objects or plain dicts with the same keys.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

import math

import attrs
import cattrs

from ..components.base import GROUPS
from ..errors import CimgraphError

# Units that are shown as plain numbers followed by the unit (no SI prefix).
PLAIN_UNITS = ("TOPS", "TOPS/W", "TOPS/mm^2", "FPS", "x")
# A column unit meaning "the unit is the row's last cell" (tables of mixed quantities).
ROW_UNIT = "<row>"


def _tuple(value: Any) -> tuple:
    return tuple(value) if value is not None else ()


def _rows(value: Any) -> tuple:
    return tuple(tuple(row) for row in (value or ()))


@attrs.frozen
class Section:
    """A titled table: ``columns`` (names), ``rows`` (lists of cells), optional ``units`` per column.

    Cells are numbers (raw SI values, formatted with the column's unit) or strings (shown as
    they are). ``note`` is text under the table; ``source`` names where the numbers come from;
    ``warning`` marks a section that reports a problem (a plugin that raised).
    """

    title: str
    columns: tuple = attrs.field(converter=_tuple)
    rows: tuple = attrs.field(converter=_rows, default=())
    note: str = ""
    units: tuple = attrs.field(converter=_tuple, default=())
    source: str = ""
    warning: bool = False

    def __attrs_post_init__(self) -> None:
        if self.units and len(self.units) != len(self.columns):
            raise CimgraphError(f"report section {self.title!r}: {len(self.units)} units for "
                                f"{len(self.columns)} columns")
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise CimgraphError(f"report section {self.title!r}: row {i} has {len(row)} cells, "
                                    f"expected {len(self.columns)} (one per column)")

    def unit(self, column: int, row: tuple = ()) -> str:
        unit = self.units[column] if self.units else ""
        return str(row[-1]) if unit == ROW_UNIT and row else unit

    @classmethod
    def coerce(cls, value: Any) -> "Section":
        """A Section from a Section or a dict with the same keys; CimgraphError otherwise."""
        if isinstance(value, Section):
            return value
        if isinstance(value, dict):
            known = {f.name for f in attrs.fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown or "title" not in value or "columns" not in value:
                raise CimgraphError(f"a report section needs keys title, columns (and rows, note, units, source), "
                                    f"got {sorted(value)}")
            return cls(**value)
        raise CimgraphError(f"a report section must be a cimgraph.report.Section or a dict, got {type(value).__name__}")


@attrs.frozen
class Tile:
    """One square of the floorplan: the index of the (first) tile it shows, the layer it holds ('' =
    idle), and how many consecutive tiles of that layer it stands for (1 unless the chip has more
    tiles than the figure draws squares)."""

    index: int
    layer: str
    duplication: int
    utilization: float
    count: int = 1


@attrs.frozen
class ReportData:
    """What one report shows; every value SI, every table a Section."""

    title: str
    chip: str
    network: str
    technology: str
    cell: str
    schedule: str
    method: str
    groups: tuple[str, ...]
    summary: Section                       # figures of merit (metric, value, unit)
    parameters: Section                    # netlist parameters
    technology_table: Section              # technology node and cell parameters
    area_by_group: dict[str, float]
    latency_by_group: dict[str, float]
    energy_by_group: dict[str, float]
    group_table: Section                   # area / latency / energy per group
    layer_names: tuple[str, ...]
    layer_latency: dict[str, tuple[float, ...]]   # group -> per-layer latency (s)
    layer_energy: dict[str, tuple[float, ...]]    # group -> per-layer energy (J)
    layers: Section
    layer_groups: Section                  # per-layer latency and energy by group
    components: Section
    models: Section
    chip_tiles: int
    floorplan: tuple[Tile, ...]
    floorplan_note: str
    component_groups: dict[str, str]       # node path -> group (for the chip picture)
    hierarchy: dict[str, Any]
    efficiency: dict[str, float]           # tops, peak_tops, tops_per_w, peak_tops_per_w
    sections: tuple[Section, ...] = ()     # from plugins
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return cattrs.unstructure(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True)


# -- building --------------------------------------------------------------------------------

def _groups(result: Any) -> tuple[str, ...]:
    seen = list(GROUPS)
    for mapping in (result.area_by_group, result.latency_by_group, result.energy_by_group):
        seen.extend(g for g in sorted(mapping) if g not in seen)
    seen.extend(sorted({c.group for c in result.components} - set(seen)))
    return tuple(seen)


def _walk(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield tree
    for child in tree.get("children", ()):
        yield from _walk(child)


def _summary(r: Any) -> Section:
    rows = [
        ("chip area", r.area, "m^2"), ("placed chip area (subarray bounding boxes)", r.placed_area, "m^2"),
        ("latency per image", r.latency, "s"),
        ("pipeline period" if r.schedule == "pipeline" else "period", r.period, "s"),
        ("energy per image", r.energy, "J"), ("dynamic energy per image", r.dynamic_energy, "J"),
        ("leakage energy per image", r.leakage_energy, "J"), ("leakage power", r.leakage_power, "W"),
        ("MACs per image", r.macs, ""), ("throughput", r.tops, "TOPS"), ("energy efficiency", r.tops_per_w, "TOPS/W"),
        ("compute density", r.tops_per_mm2, "TOPS/mm^2"), ("frames per second", r.fps, "FPS"),
        ("peak throughput", r.peak_tops, "TOPS"), ("peak energy efficiency", r.peak_tops_per_w, "TOPS/W"),
        ("peak latency (compute only)", r.peak_latency, "s"), ("peak energy (compute only)", r.peak_energy, "J"),
        ("array utilization", r.utilization, "%"),
    ]
    return Section("Figures of merit", ("metric", "value", "unit"), [list(row) for row in rows],
                   units=("", ROW_UNIT, ""),
                   note="Per image. Peak figures count only the compute path (arrays, ADCs, accumulation).")


def _parameters(r: Any) -> Section:
    net = r.netlist or {}
    rows: list[list[Any]] = [["chip", r.chip], ["network", r.network], ["technology", r.technology],
                             ["memory cell", r.cell], ["schedule", r.schedule], ["mapping method used", r.method]]
    for key in ("weight", "input"):
        if key in net.get("precision", {}):
            rows.append([f"{key} precision (bit)", net["precision"][key]])
    if "clock" in net:
        rows.append(["clock", _si(net["clock"], "Hz") + (" (auto)" if net.get("clock_auto") else "")])
    for key, value in sorted(net.get("mapping", {}).items()):
        rows.append([f"mapping.{key}", str(value)])
    for node in _walk(net.get("hierarchy", {})):
        if not node:
            continue
        label = node.get("path", "")
        if node.get("level") != "chip":
            rows.append([f"{label} count (per parent)", str(node.get("count", ""))])
        if node.get("kind"):
            rows.append([f"{label} kind", f"{node['kind']} ({node.get('plugin', '')})"])
        for field, value in sorted(node.get("fields", {}).items()):
            rows.append([f"{label}.{field}", value if isinstance(value, (int, float)) and not isinstance(value, bool)
                         else str(value)])
    return Section("Netlist parameters", ("parameter", "value"), rows,
                   note="Component fields as built (user values, defaults and values injected from the context), in SI.")


def _si(value: Any, unit: str) -> str:
    from ..units import format_si

    return format_si(value, unit) if isinstance(value, (int, float)) else str(value)


def _technology_table(r: Any) -> Section:
    """Technology node and memory-cell parameters as the evaluation used them (netlist overrides
    included); results written before these were recorded fall back to the installed registry."""
    recorded = r.netlist.get("technology_parameters") if isinstance(r.netlist, dict) else None
    if recorded is not None:
        rows = [[f"{label}.{p['name']}", p["value"], p["unit"] if p["unit"] != "1" else ""]
                for label, key in (("technology", "technology_parameters"), ("cell", "cell_parameters"))
                for p in r.netlist.get(key, [])]
        overrides = r.netlist.get("cell_overrides") or []
        note = ("Values as evaluated" + (f"; overridden in the netlist: {', '.join(overrides)}." if overrides else "."))
        return Section("Technology and memory cell", ("parameter", "value", "unit"), rows, units=("", ROW_UNIT, ""),
                       note=note)
    from ..plugins import default_registry

    rows: list[list[Any]] = []
    notes = []
    try:
        registry = default_registry()
    except Exception as exc:  # a broken install must not stop the report
        return Section("Technology and memory cell", ("parameter", "value", "unit"), [],
                       note=f"registry unavailable: {exc}", warning=True)
    for label, lookup, name in (("technology", registry.technology, r.technology),
                                ("cell", registry.memory_cell, r.cell)):
        try:
            obj = lookup(name)
        except Exception as exc:
            notes.append(f"{label} {name!r} is not installed here ({exc})")
            continue
        for field in attrs.fields(type(obj)):
            value = getattr(obj, field.name)
            unit = field.metadata.get("unit", "")
            if attrs.has(type(value)):
                for sub in attrs.fields(type(value)):
                    rows.append([f"{label}.{field.name}.{sub.name}", getattr(value, sub.name),
                                 sub.metadata.get("unit", "")])
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                rows.append([f"{label}.{field.name}", value, unit])
            elif value is not None:
                rows.append([f"{label}.{field.name}", str(value), ""])
    notes.append("Library values of the installed plugins; cell overrides written in the netlist are not "
                 "recorded in the result and are not shown here.")
    return Section("Technology and memory cell", ("parameter", "value", "unit"), rows, units=("", ROW_UNIT, ""),
                   note=" ".join(notes))


FLOORPLAN_SQUARES = 4096  # squares drawn at most: a chip of a million tiles has a figure of bounded size


def _floorplan(r: Any, chip_tiles: int) -> tuple[tuple[Tile, ...], str]:
    """Tiles in placement order: each layer takes its ``tiles`` consecutive tiles. Beyond
    FLOORPLAN_SQUARES tiles, one square stands for up to ``block`` tiles of one layer."""
    used = sum(max(layer.tiles, 0) for layer in r.layers)
    block = max(1, math.ceil(max(used, chip_tiles) / FLOORPLAN_SQUARES))
    tiles: list[Tile] = []
    first = 0

    def place(name: str, count: int, duplication: int, utilization: float) -> None:
        nonlocal first
        while count > 0:
            k = min(block, count)
            tiles.append(Tile(first, name, duplication, utilization, k))
            first, count = first + k, count - k

    for layer in r.layers:
        place(layer.name, max(layer.tiles, 0), layer.duplication, layer.utilization)
    note = "Layers take consecutive tiles in network order (the result records tile counts, not positions)."
    if used > chip_tiles:
        note += f" The layers ask for {used} tiles on a {chip_tiles}-tile chip: some tiles are shared."
    place("", chip_tiles - used, 0, 0.0)
    if block > 1:
        note += f" Each square stands for up to {block} tiles of one layer."
    return tuple(tiles), note


def _chip_tiles(r: Any) -> int:
    for child in (r.netlist or {}).get("hierarchy", {}).get("children", ()):
        if child.get("level") == "tile" and isinstance(child.get("count"), int):
            return child["count"]
    return sum(layer.tiles for layer in r.layers)


def build_report(result: Any, pm: Any = None) -> ReportData:
    """Collect what the report shows for ``result`` (a cimgraph.schedule.Result).

    ``pm`` is the plugin manager asked for extra sections (default: ``get_plugin_manager()``).
    """
    r = result
    groups = _groups(r)
    names = tuple(layer.name for layer in r.layers)
    layer_latency = {g: tuple(float(layer.latency_by_group.get(g, 0.0)) for layer in r.layers) for g in groups}
    layer_energy = {g: tuple(float(layer.energy_by_group.get(g, 0.0)) for layer in r.layers) for g in groups}
    component_energy = {c.path: sum(layer.energy_by_component.get(c.path, 0.0) for layer in r.layers)
                        for c in r.components}
    group_table = Section(
        "Breakdown by group", ("group", "area", "area share", "latency (sum over layers)", "dynamic energy",
                               "energy share", "leakage power"),
        [[g, r.area_by_group.get(g, 0.0), _share(r.area_by_group.get(g, 0.0), r.area),
          r.latency_by_group.get(g, 0.0), r.energy_by_group.get(g, 0.0),
          _share(r.energy_by_group.get(g, 0.0), r.dynamic_energy),
          sum(c.leakage for c in r.components if c.group == g)] for g in groups],
        units=("", "m^2", "%", "s", "J", "%", "W"))
    layers = Section(
        "Layers", ("layer", "kind", "MACs", "tiles", "PEs / tile", "subarrays / PE", "duplication", "utilization",
                   "latency", "dynamic energy", "input activity", "weight density"),
        [[l.name, l.kind, l.macs, l.tiles, l.pes, l.subarrays, l.duplication, l.utilization, l.latency, l.energy,
          l.input_activity, l.weight_density] for l in r.layers],
        units=("", "", "", "", "", "", "", "%", "s", "J", "%", "%"))
    layer_groups = Section(
        "Layers by group", ("layer", *[f"{g} latency" for g in groups], *[f"{g} energy" for g in groups]),
        [[l.name, *[l.latency_by_group.get(g, 0.0) for g in groups], *[l.energy_by_group.get(g, 0.0) for g in groups]]
         for l in r.layers],
        units=("", *["s"] * len(groups), *["J"] * len(groups)))
    components = Section(
        "Components", ("node", "kind", "group", "per parent", "on chip", "area", "area share", "leakage power",
                       "dynamic energy / image", "energy share"),
        [[c.path, c.kind, c.group, c.count, c.instances, c.area, _share(c.area, r.area), c.leakage,
          component_energy[c.path], _share(component_energy[c.path], r.dynamic_energy)] for c in r.components],
        units=("", "", "", "", "", "m^2", "%", "W", "J", "%"),
        note="Area, leakage and energy of all instances on the chip.")
    models = Section(
        "Models", ("node", "kind", "plugin", "version", "source"),
        [[c.path, c.kind, c.plugin, c.version, c.source] for c in r.components],
        note="Which plugin's model costed each component, and the published source its equations come from.")
    chip_tiles = _chip_tiles(r)
    floorplan, floorplan_note = _floorplan(r, chip_tiles)
    sections, warnings = collect_sections(r, pm)
    warnings = tuple(getattr(r, "warnings", ())) + warnings
    return ReportData(
        title=f"{r.chip}: {r.network}", chip=r.chip, network=r.network, technology=r.technology, cell=r.cell,
        schedule=r.schedule, method=r.method, groups=groups, summary=_summary(r), parameters=_parameters(r),
        technology_table=_technology_table(r),
        area_by_group={g: float(r.area_by_group.get(g, 0.0)) for g in groups},
        latency_by_group={g: float(r.latency_by_group.get(g, 0.0)) for g in groups},
        energy_by_group={g: float(r.energy_by_group.get(g, 0.0)) for g in groups},
        group_table=group_table, layer_names=names, layer_latency=layer_latency, layer_energy=layer_energy,
        layers=layers, layer_groups=layer_groups, components=components, models=models, chip_tiles=chip_tiles,
        floorplan=floorplan, floorplan_note=floorplan_note,
        component_groups={c.path: c.group for c in r.components},
        hierarchy=dict((r.netlist or {}).get("hierarchy", {})),
        efficiency={"tops": r.tops, "peak_tops": r.peak_tops, "tops_per_w": r.tops_per_w,
                    "peak_tops_per_w": r.peak_tops_per_w},
        sections=sections, warnings=warnings)


def _share(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else 0.0


# -- plugin sections -----------------------------------------------------------------------------

def collect_sections(result: Any, pm: Any = None) -> tuple[tuple[Section, ...], tuple[str, ...]]:
    """Ask every plugin's ``cimgraph_report_sections`` for sections, one plugin at a time.

    A plugin that raises or returns something malformed becomes a warning section naming it.
    """
    warnings: list[str] = []
    broken: set[str] = set()
    if pm is None:
        from ..plugins import default_registry, get_plugin_manager

        pm = get_plugin_manager()
        failures = default_registry().failures  # incl. plugins broken while registering (withdrawn)
        warnings.extend(f"plugin {name} failed to load: {message}" for name, message in failures)
        broken = {name for name, _ in failures}
    sections: list[Section] = []
    for impl in pm.hook.cimgraph_report_sections.get_hookimpls():
        if impl.plugin_name in broken:
            continue
        kwargs = {"result": result}
        try:
            answer = impl.function(*[kwargs[name] for name in impl.argnames])
            sections.extend(Section.coerce(item) for item in _items(answer))
        except Exception as exc:
            sections.append(Section(
                f"Plugin {impl.plugin_name}: section failed", ("plugin", "error"),
                [[impl.plugin_name, f"{type(exc).__name__}: {exc}"]],
                note="This plugin's cimgraph_report_sections hook raised; the rest of the report is unaffected.",
                warning=True))
    return tuple(sections), tuple(warnings)


def _items(answer: Any) -> Iterable[Any]:
    if answer is None:
        return ()
    if isinstance(answer, (Section, dict)):
        return (answer,)
    if isinstance(answer, (list, tuple)):
        return answer
    raise CimgraphError(f"cimgraph_report_sections must return a list of sections or None, got {type(answer).__name__}")
