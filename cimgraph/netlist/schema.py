"""Netlist spec: attrs classes for a validated chip description, and the raw-dict validator.

``validate(raw)`` turns a safe-loaded YAML mapping into a :class:`NetlistSpec`, collecting every
problem (with its ``$.key.path``) instead of stopping at the first. Component fields are checked
later against the component class (graph.py), where the kind is known.
"""
from __future__ import annotations

from typing import Any

import attrs

from ..errors import Problem, UnitError, brief, did_you_mean
from ..units import parse

LEVELS = ("chip", "tile", "pe", "subarray")
COUNT_KEYS = {"chip": "tiles", "tile": "pes", "pe": "subarrays"}
CHILD_KEYS = {"chip": "tile", "tile": "pe", "pe": "subarray"}
TOP_KEYS = ("name", "technology", "cell", "precision", "clock", "synchronous", "mapping", "chip", "designs")
MAPPING_METHODS = ("conventional", "novel")
MAX_CLOCK = 100e9  # Hz: beyond any CMOS digital clock (the fastest processors run near 10 GHz)
AUTO_CLOCK = "auto"  # `clock: auto`: the period is the slowest read-out conversion step (netlist/clock.py)
MAX_COUNT = 1 << 20  # instances of one level or component per parent: beyond any chip that can be built
POWER_GATING = ("none", "idle")   # a component's supply: always on, or switched off while it has no work


@attrs.frozen
class ComponentSpec:
    """A component as written: its kind, instances per parent, and the user-set fields.

    ``transposed``: a subarray peripheral of the transposed read-out (backpropagation, seed 001
    sec. 5.2): built with the array's rows and columns swapped and costed only by training phases.
    ``power_gating``: ``none`` (default: powered all the time, leaking for the whole schedule) or ``idle``
    (its supply is switched off by a header while it has no work; how the schedule counts it:
    cimgraph.schedule.evaluate._powered).
    """

    kind: str
    count: int = 1
    params: dict[str, Any] = attrs.Factory(dict)
    path: str = ""
    transposed: bool = False
    power_gating: str = "none"


@attrs.frozen
class LevelSpec:
    """One hierarchy level: child count (None = auto) and its named components.

    For the subarray level, ``array`` is the array component (its kind and fields).
    """

    name: str
    count: int | None = 1
    components: dict[str, ComponentSpec] = attrs.Factory(dict)
    array: ComponentSpec | None = None


@attrs.frozen
class Precision:
    weight: int = 8
    input: int = 8


@attrs.frozen
class MappingSpec:
    method: str = "novel"
    duplication: bool = True
    tile_copies: bool = False   # also duplicate whole tiles up to the pipeline's speed-up bound


@attrs.frozen
class NetlistSpec:
    """A validated netlist. ``levels`` maps chip/tile/pe/subarray to their LevelSpec; the count
    of a level is how many of it sit in its parent (``tiles`` in the chip, ...)."""

    name: str
    technology: str
    cell: str
    cell_overrides: dict[str, Any]
    precision: Precision
    clock: float | None   # Hz; None until a `clock: auto` netlist is built (build_chip fills it in)
    mapping: MappingSpec
    levels: dict[str, LevelSpec]
    file: str = ""
    synchronous: bool = False   # read-out steps take whole cycles of `clock` (NeuroSim Param.cpp synchronous)
    designs: dict[str, Any] = attrs.Factory(dict)   # name -> designs.DesignSpec (extra tile designs)
    clock_auto: bool = False    # `clock: auto`: the clock is derived from the read-out (netlist/clock.py)
    clock_margin: float = 1.0   # `clock: {auto: true, margin: m}`: period = m x the slowest conversion step

    def with_counts(self, **counts: int) -> "NetlistSpec":
        """A copy with level counts fixed: ``with_counts(tiles=4, pes=4, subarrays=16)``."""
        levels = dict(self.levels)
        for level, key in ((CHILD_KEYS[p], COUNT_KEYS[p]) for p in COUNT_KEYS):
            if counts.get(key) is not None:
                levels[level] = attrs.evolve(levels[level], count=int(counts[key]))
        return attrs.evolve(self, levels=levels)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(c: _Collector, path: str, value: Any, low: int, high: int) -> int | None:
    if not _is_int(value) or not low <= value <= high:
        c.add(path, f"expected an integer from {low} to {high}, got {brief(value)}")
        return None
    return value


def _check_count(c: _Collector, path: str, value: Any) -> int | None | str:
    if value == "auto" or value is None:
        return None
    if not _is_int(value) or not 1 <= value <= MAX_COUNT:
        c.add(path, f"expected a positive integer or 'auto' (at most {MAX_COUNT}), got {brief(value)}")
        return "bad"
    return value


def _auto_clock(c: Any, raw: dict) -> float:
    """The margin of a ``clock: {auto: true, margin: m}`` mapping (1 without one): the derived period is m x
    the slowest conversion step. m is a post-layout calibration a netlist may state, e.g. DNN+NeuroSim V1.4's
    beta = 1.4 ("latency factor of sensing cycle", Param.cpp, validated against a TSMC 40 nm RRAM macro,
    A. Lu et al., AICAS 2021); cimgraph's own models apply none."""
    _unknown_keys(c, "$.clock", raw, ("auto", "margin"))
    if raw.get("auto") is not True:
        c.add("$.clock.auto", f"expected true (a margin applies only to a derived clock; give a fixed clock as a "
                              f"frequency such as '1GHz'), got {brief(raw.get('auto'))}")
    margin = raw.get("margin", 1.0)
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 1.0 <= margin <= 100.0:
        c.add("$.clock.margin", f"expected a number from 1 to 100 (period = margin x the slowest conversion step), "
                                f"got {brief(margin)}")
        return 1.0
    return float(margin)


def _unknown_keys(c: _Collector, path: str, data: dict, allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            c.add(f"{path}.{key}", f"unknown key{did_you_mean(str(key), allowed)}; expected one of {', '.join(allowed)}")


def _component(c: _Collector, path: str, value: Any) -> ComponentSpec | None:
    if not isinstance(value, dict):
        c.add(path, f"expected a component mapping with a 'kind', got {brief(value)}")
        return None
    kind = value.get("kind")
    if not isinstance(kind, str) or not kind:
        c.add(f"{path}.kind", f"expected a component kind such as 'adc.flash', got {brief(kind)}")
        return None
    count = value.get("count", 1)
    if not _is_int(count) or not 1 <= count <= MAX_COUNT:
        c.add(f"{path}.count", f"expected a positive integer up to {MAX_COUNT}, got {brief(count)}")
        count = 1
    transposed = value.get("transposed", False)
    if not isinstance(transposed, bool):
        c.add(f"{path}.transposed", f"expected true or false, got {transposed!r}")
        transposed = False
    gating = value.get("power_gating", "none")
    if gating not in POWER_GATING:
        hint = did_you_mean(str(gating), POWER_GATING)
        c.add(f"{path}.power_gating", f"expected one of {', '.join(POWER_GATING)}{hint}, got {brief(gating)}")
        gating = "none"
    params = {k: v for k, v in value.items() if k not in ("kind", "count", "transposed", "power_gating")}
    for key in params:
        if not isinstance(key, str):
            c.add(f"{path}.{key}", "expected a field name (string)")
    return ComponentSpec(kind=kind, count=count, params=params, path=path, transposed=transposed,
                         power_gating=gating)


def _level(c: _Collector, name: str, path: str, data: Any) -> dict[str, LevelSpec]:
    if not isinstance(data, dict):
        c.add(path, f"expected a mapping describing the {name} level, got {brief(data)}")
        return {}
    levels: dict[str, LevelSpec] = {}
    components: dict[str, ComponentSpec] = {}
    array = None
    if name == "subarray":
        kind = data.get("kind")
        if not isinstance(kind, str):
            c.add(f"{path}.kind", f"expected the array kind such as 'array.rram', got {brief(kind)}")
        fields = {}
        for key, value in data.items():
            if key == "kind":
                continue
            if isinstance(value, dict):
                comp = _component(c, f"{path}.{key}", value)
                if comp:
                    components[key] = comp
            else:
                fields[key] = value
        if isinstance(kind, str):
            array = ComponentSpec(kind=kind, params=fields, path=path)
    else:
        count_key, child_key = COUNT_KEYS[name], CHILD_KEYS[name]
        if child_key not in data:
            near = did_you_mean(child_key, [k for k in data if isinstance(k, str)])
            c.add(f"{path}.{child_key}", f"missing: the {child_key} level must be described{near}")
        for key, value in data.items():
            if key in (count_key, child_key):
                continue
            if isinstance(value, dict) and "kind" in value:
                comp = _component(c, f"{path}.{key}", value)
                if comp and comp.transposed:
                    c.add(f"{path}.{key}.transposed", "only subarray peripherals form a transposed read-out")
                if comp:
                    components[key] = comp
            else:
                hint = did_you_mean(str(key), (count_key, child_key))
                c.add(f"{path}.{key}", f"expected a component (a mapping with 'kind') or one of "
                                       f"'{count_key}', '{child_key}'{hint}, got {brief(value)}")
        if child_key in data:
            levels.update(_level(c, child_key, f"{path}.{child_key}", data[child_key]))
        count = _check_count(c, f"{path}.{count_key}", data.get(count_key, "auto"))
        child = levels.get(child_key)
        if child is not None and count != "bad":
            levels[child_key] = attrs.evolve(child, count=count)
    levels[name] = LevelSpec(name=name, count=1, components=components, array=array)
    return levels


def validate(raw: Any, file: str = "") -> tuple[NetlistSpec | None, list[Problem]]:
    """Validate a raw netlist mapping; return (spec or None, every problem found)."""
    c = _Collector()
    if not isinstance(raw, dict):
        c.add("$", f"expected a mapping at the top of the netlist, got {type(raw).__name__}")
        return None, c.problems
    _unknown_keys(c, "$", raw, TOP_KEYS)
    for key in ("technology", "cell", "chip"):
        if key not in raw:
            c.add(f"$.{key}", "missing required key")
    name = raw.get("name", file or "chip")
    if not isinstance(name, str):
        c.add("$.name", f"expected a string, got {brief(name)}")
        name = str(name)

    tech = raw.get("technology", "")
    if isinstance(tech, dict):
        _unknown_keys(c, "$.technology", tech, ("node",))
        tech = tech.get("node", "")
    if isinstance(tech, (int, float)) and not isinstance(tech, bool):
        tech = f"{tech:g}nm" if tech >= 1 else f"{tech * 1e9:g}nm"
    if not isinstance(tech, str):
        c.add("$.technology", f"expected a node name such as '22nm', got {brief(tech)}")
        tech = ""
    elif tech:
        try:
            tech = f"{parse(tech, 'm') * 1e9:g}nm"
        except UnitError:
            pass  # a registered name such as '22nm.hp'; the registry lookup reports unknown ones

    cell = raw.get("cell", "")
    overrides: dict[str, Any] = {}
    if isinstance(cell, dict):
        overrides = {k: v for k, v in cell.items() if k != "name"}
        cell = cell.get("name")
    if not isinstance(cell, str):
        c.add("$.cell", f"expected a memory cell name such as 'rram.1t1r', got {brief(cell)}")
        cell = ""

    precision = Precision()
    prec_raw = raw.get("precision", {})
    if not isinstance(prec_raw, dict):
        c.add("$.precision", f"expected a mapping with 'weight' and 'input' bits, got {brief(prec_raw)}")
    else:
        _unknown_keys(c, "$.precision", prec_raw, ("weight", "input"))
        w = _check_int(c, "$.precision.weight", prec_raw.get("weight", 8), 1, 16)
        i = _check_int(c, "$.precision.input", prec_raw.get("input", 8), 1, 16)
        precision = Precision(weight=w or 8, input=i or 8)

    clock, clock_auto, clock_margin = 1e9, False, 1.0
    if raw.get("clock") == AUTO_CLOCK:
        clock, clock_auto = None, True
    elif isinstance(raw.get("clock"), dict):
        clock, clock_auto, clock_margin = None, True, _auto_clock(c, raw["clock"])
    elif "clock" in raw:
        value = raw["clock"]
        try:
            clock = parse(value, "Hz")
        except UnitError:
            clock = 0.0
        if not 0 < clock <= MAX_CLOCK:
            hint = did_you_mean(value, (AUTO_CLOCK,)) if isinstance(value, str) else ""
            c.add("$.clock", f"expected a frequency above 0 and at most 100 GHz such as '1GHz', or '{AUTO_CLOCK}' "
                             f"(the period is the read-out's slowest conversion step){hint}, got {brief(value)}")

    synchronous = raw.get("synchronous", False)
    if not isinstance(synchronous, bool):
        c.add("$.synchronous", f"expected true or false, got {synchronous!r}")
        synchronous = False

    mapping = MappingSpec()
    map_raw = raw.get("mapping", {})
    if not isinstance(map_raw, dict):
        c.add("$.mapping", f"expected a mapping with 'method' and 'duplication', got {brief(map_raw)}")
    else:
        _unknown_keys(c, "$.mapping", map_raw, ("method", "duplication", "tile_copies"))
        method = map_raw.get("method", "novel")
        if method not in MAPPING_METHODS:
            c.add("$.mapping.method", f"expected one of 'conventional', 'novel'{did_you_mean(str(method), MAPPING_METHODS)}, got {brief(method)}")
            method = "novel"
        dup = map_raw.get("duplication", True)
        if not isinstance(dup, bool):
            c.add("$.mapping.duplication", f"expected true or false, got {brief(dup)}")
            dup = True
        tile_copies = map_raw.get("tile_copies", False)
        if not isinstance(tile_copies, bool):
            c.add("$.mapping.tile_copies", f"expected true or false, got {tile_copies!r}")
            tile_copies = False
        mapping = MappingSpec(method=method, duplication=dup, tile_copies=tile_copies)

    levels = _level(c, "chip", "$.chip", raw["chip"]) if "chip" in raw else {}
    designs = {}
    if "designs" in raw:
        from .designs import validate_designs

        designs = validate_designs(c, raw["designs"], _level)
    if c.problems or len(levels) != len(LEVELS):
        if not c.problems:
            c.add("$.chip", "expected the hierarchy chip -> tile -> pe -> subarray")
        return None, c.problems
    spec = NetlistSpec(name=name, technology=tech, cell=cell, cell_overrides=overrides, precision=precision,
                       clock=clock, mapping=mapping, levels=levels, file=file, synchronous=synchronous,
                       designs=designs, clock_auto=clock_auto, clock_margin=clock_margin)
    return spec, c.problems
