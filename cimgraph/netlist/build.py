"""Instantiate component models from a NetlistSpec, bottom-up, with context injection.

A component gets any field it declares and the user did not set from the context table of
docs/architecture.md (tech, cell, rows, columns, array_width, ...). Every problem (unknown kind,
unknown field, bad value) is collected with its key path.
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from .. import memo
from ..contracts import placement_problem
from ..errors import ComponentNotFound, Problem, brief, did_you_mean
from ..registry import Registry
from .schema import LEVELS, ComponentSpec, NetlistSpec

AUTO_PLACEHOLDER = 4  # instances assumed for an `auto` count before the mapper resolves it


@attrs.frozen
class BuiltComponent:
    name: str          # key in the netlist (node name)
    level: str         # chip | tile | pe | subarray
    spec: ComponentSpec
    model: Any
    plugin: str
    version: str
    area: float         # of one instance (m^2), computed once per build


@attrs.frozen
class BuiltLevel:
    name: str
    count: int                 # instances per parent (auto resolved or placeholder)
    auto: bool
    components: tuple[BuiltComponent, ...]
    array: BuiltComponent | None
    unit_area: float           # area of one instance incl. its children (m^2)
    psum_bits: int = 0         # bits of one partial sum leaving one instance of this level
    transposed: tuple[BuiltComponent, ...] = ()   # subarray: the transposed read-out (training only)


def _field_problem(cls: type, field: attrs.Attribute, value: Any) -> str | None:
    """Check one user value against a field's converter and validator; return a message or None.

    Validators name the field (``bits: expected ...``) for Python callers; the netlist names it by
    its key path, so that prefix is dropped here.
    """
    try:
        converted = field.converter(value) if field.converter else value
        if field.validator is not None:
            field.validator(None, field, converted)
        if field.type in (int, "int") and not (isinstance(converted, int) and not isinstance(converted, bool)):
            return f"expected an integer, got {brief(value)}"
        if field.type in (bool, "bool") and not isinstance(converted, bool):
            return f"expected true or false, got {brief(value)}"
    except Exception as exc:  # validators raise ValueError/TypeError/UnitError with a message
        return str(exc).removeprefix(f"{field.name}: ") or f"invalid value {brief(value)}"
    return None


def instantiate(registry: Registry, spec: ComponentSpec, context: dict[str, Any],
                problems: list[Problem]) -> tuple[Any, str, str, float] | None:
    """Build one component model and its area, or record why not: (model, plugin, version, area)."""
    try:
        cls = registry.component(spec.kind)
    except ComponentNotFound as exc:
        problems.append(Problem(f"{spec.path}.kind", str(exc)))
        return None
    fields = {f.name: f for f in attrs.fields(cls) if f.init}
    ok = True
    for key, value in spec.params.items():
        if key not in fields:
            user_fields = [n for n in fields if n not in context]
            problems.append(Problem(f"{spec.path}.{key}", f"{spec.kind} has no field {key!r}"
                                    f"{did_you_mean(key, user_fields)}; fields: {', '.join(user_fields)}"))
            ok = False
            continue
        message = _field_problem(cls, fields[key], value)
        if message:
            problems.append(Problem(f"{spec.path}.{key}", message))
            ok = False
    if not ok:
        return None
    kwargs = {k: v for k, v in context.items() if k in fields and k not in spec.params}
    kwargs.update(spec.params)
    entry = registry.components[spec.kind]
    try:
        model = memo.instance(cls, kwargs)
    except Exception as exc:  # a model's own consistency checks, or a broken plugin model
        problems.append(Problem(spec.path, f"{spec.kind} (plugin {entry.plugin}): {exc}"))
        return None
    try:
        area = float(memo.call(model.area))
    except Exception as exc:  # a broken model is reported with the plugin that provides it
        problems.append(Problem(spec.path, f"{spec.kind} (plugin {entry.plugin}) failed to compute its area: "
                                           f"{type(exc).__name__}: {exc}"))
        return None
    if not math.isfinite(area) or area < 0:
        problems.append(Problem(spec.path, f"{spec.kind} (plugin {entry.plugin}) returned an invalid area {area!r}"))
        return None
    return model, entry.plugin, entry.version, area


def _psum_bits(adc: Any, rows: int, context: dict[str, Any]) -> int:
    """Bits of a subarray's partial sum after shift-add: ADC (or exact column sum) + input bits
    + the weight bits beyond one cell slice, + 1 for the carry of summing several slices (the sum
    of g codes of a bits, shifted by c each, is below 2^(a + (g-1) c + 1); shiftadd.bank's width)."""
    cell_bits = context["cell"].bits_per_cell
    column_bits = getattr(adc, "bits", None) or math.ceil(math.log2(rows * (2**cell_bits - 1) + 1))
    slices = context["cells_per_weight"]
    carry = 1 if slices > 1 else 0
    return column_bits + context["input_bits"] + (slices - 1) * cell_bits + carry


def _adc_context(comps: list[BuiltComponent], rows: int, context: dict[str, Any]) -> None:
    """After the subarray's ADC is built: its bits and column sharing become context for the
    mux, shift-adder and decoders, and fix the partial-sum width."""
    adc = next((c.model for c in comps if c.spec.kind.startswith("adc.")), None)
    context["psum_bits"] = _psum_bits(adc, rows, context)
    if adc is not None:
        context["adc_bits"] = adc.bits
        context["share"] = adc.share


READOUT_ROLES = ("adc", "sense")


def _check_readout(components: dict[str, ComponentSpec], array: BuiltComponent, problems: list[Problem]) -> None:
    """A subarray whose array needs a read-out circuit (every analog array; a digital CIM array
    class sets ``digital = True``) must have an ADC or sense amplifier: without one
    the read-out would silently cost nothing (a netlist cut off before its `adc:` line). A missing
    shift-adder is a reported assumption instead (`cimgraph run` warns)."""
    if getattr(type(array.model), "digital", False):
        return
    roles = {c.kind.split(".")[0] for c in components.values()}  # the forward read-out
    if not roles & set(READOUT_ROLES):
        problems.append(Problem(array.spec.path, f"the {array.spec.kind} subarray has no read-out circuit: add an "
                                                 "ADC (e.g. adc: {kind: adc.flash, bits: 5, share: 8}) or a sense "
                                                 "amplifier (sense.*); `cimgraph components` lists the kinds"))



def _check_sharing(comps: list[BuiltComponent], columns: int, problems: list[Problem]) -> None:
    """Columns per ADC / mux (``share``) cannot exceed the subarray's columns."""
    for comp in comps:
        share = getattr(comp.model, "share", None)
        if isinstance(share, int) and share > columns:
            where = f"{comp.spec.path}.share" if "share" in comp.spec.params else comp.spec.path
            problems.append(Problem(where, f"{comp.spec.kind} shares one unit among {share} columns, but the "
                                           f"subarray has {columns} columns; expected share <= {columns}"))


def build_levels(spec: NetlistSpec, registry: Registry, tech: Any, cell: Any,
                 problems: list[Problem], until: str = "chip") -> dict[str, BuiltLevel]:
    """Build every level's models, subarray first, injecting context; return levels by name
    (``until``: the last level to build, e.g. ``subarray`` for the read-out alone)."""
    cells_per_weight = math.ceil(spec.precision.weight / cell.bits_per_cell)
    context: dict[str, Any] = {
        "tech": tech, "cell": cell, "input_bits": spec.precision.input, "weight_bits": spec.precision.weight,
        "cells_per_weight": cells_per_weight, "clock": spec.clock,
    }
    built: dict[str, BuiltLevel] = {}
    child_area = 0.0
    child_count = 1
    for level in reversed(LEVELS):
        lspec = spec.levels[level]
        level_ctx = dict(context)
        array = None
        if level == "subarray":
            made = instantiate(registry, lspec.array, level_ctx, problems)
            if made is None:
                return {}
            array = BuiltComponent("array", level, lspec.array, *made)
            model = array.model
            try:
                size = (float(model.width()), float(model.height()))
                if not all(math.isfinite(v) and v > 0 for v in size):
                    raise ValueError(f"width() and height() returned {size}, expected positive lengths (m)")
            except Exception as exc:  # a broken array plugin is blamed, never a traceback
                problems.append(Problem(lspec.array.path, f"{lspec.array.kind} (plugin {array.plugin}): "
                                                          f"{type(exc).__name__}: {exc}"))
                return {}
            level_ctx.update(rows=model.rows, columns=model.columns, array_width=size[0], array_height=size[1],
                             readout=getattr(model, "readout", "parallel"))
        else:
            side = math.sqrt(child_area) if child_area > 0 else 0.0
            level_ctx.update(children=child_count, child_width=side, child_height=side,
                             psum_bits=context["psum_bits"] + math.ceil(math.log2(max(child_count, 1))))
        comps = []
        forward = {n: c for n, c in lspec.components.items() if not c.transposed}
        # ADCs first: the subarray's partial-sum width (context for the rest) follows their bits.
        ordered = sorted(forward.items(), key=lambda item: not item[1].kind.startswith("adc."))
        for name, cspec in ordered:
            if level == "subarray" and "psum_bits" not in level_ctx and not cspec.kind.startswith("adc."):
                _adc_context(comps, array.model.rows, level_ctx)
            misplaced = placement_problem(cspec.kind, level)
            if misplaced:
                problems.append(Problem(cspec.path, misplaced))
                continue
            made = instantiate(registry, cspec, level_ctx, problems)
            if made is not None:
                comps.append(BuiltComponent(name, level, cspec, *made))
        if level == "subarray" and "psum_bits" not in level_ctx:
            _adc_context(comps, array.model.rows, level_ctx)
        if level == "subarray":
            _check_readout(forward, array, problems)
            _check_sharing(comps, array.model.columns, problems)
        order = list(lspec.components)
        comps.sort(key=lambda c: order.index(c.name))
        transposed = _build_transposed(registry, lspec, level_ctx, problems) if array else ()
        context["psum_bits"] = level_ctx["psum_bits"]
        own = sum(c.area * c.spec.count for c in (*comps, *transposed)) + (array.area if array else 0.0)
        unit_area = own + child_area * child_count
        count = lspec.count if lspec.count is not None else AUTO_PLACEHOLDER
        built[level] = BuiltLevel(level, count, lspec.count is None, tuple(comps), array, unit_area,
                                  level_ctx["psum_bits"], transposed)
        child_area, child_count = unit_area, count
        if level == until:
            break
    return built


def _build_transposed(registry: Registry, lspec: Any, forward_ctx: dict[str, Any],
                      problems: list[Problem]) -> tuple[BuiltComponent, ...]:
    """The subarray's transposed read-out (seed 001 sec. 5.2): inputs enter on the columns and
    outputs leave along the rows, so these peripherals see the array with rows and columns
    (and width and height) swapped; their ADC sets the sharing and bits of the rest."""
    specs = {n: c for n, c in lspec.components.items() if c.transposed}
    if not specs:
        return ()
    ctx = dict(forward_ctx, rows=forward_ctx["columns"], columns=forward_ctx["rows"],
               array_width=forward_ctx["array_height"], array_height=forward_ctx["array_width"])
    ctx.pop("adc_bits", None)
    ctx.pop("share", None)
    out: list[BuiltComponent] = []
    for name, cspec in sorted(specs.items(), key=lambda item: not item[1].kind.startswith("adc.")):
        made = instantiate(registry, cspec, ctx, problems)
        if made is None:
            continue
        out.append(BuiltComponent(name, "subarray", cspec, *made))
        if cspec.kind.startswith("adc."):
            ctx.setdefault("adc_bits", made[0].bits)
            ctx.setdefault("share", made[0].share)
    order = list(lspec.components)
    return tuple(sorted(out, key=lambda c: order.index(c.name)))


CONTEXT_FIELDS = ("tech", "cell", "rows", "columns", "array_width", "array_height", "children", "child_width",
                  "child_height", "input_bits", "weight_bits", "cells_per_weight", "psum_bits", "clock",
                  "adc_bits", "share", "readout")
# Context fields that are also ordinary user settings of some kinds (the array's size and read-out, the ADC's sharing).
USER_OR_CONTEXT = ("rows", "columns", "share", "adc_bits", "readout")
