"""Hybrid mapping: each layer kind onto a tile design that can run it (NeuroSim V1.5 hybrid ACIM/DCIM chip, seed 003).

- static layers (conv, fc, linear) go to the chip's own ``chip:`` hierarchy, or to a design listing their kind
  (and, where the design lists ``schemes``, the mapping scheme the chip's method gives them on the chip's own
  subarrays: DNN+NeuroSim V1.4 puts its conventionally mapped layers on a second tile design);
- dynamic layers (``matmul``, activation x activation) go to a design whose ``runs`` lists ``matmul``
  (a digital-CIM design: its operand is rewritten for every sequence);
- functional layers (softmax, layer norm, GELU) go to a chip-level function unit (role ``function``) that
  supports them.

Each design maps its own sub-network with the ordinary floorplan search (``map_network`` / ``place``), so
duplication, utilization and fixed-count errors behave as on a single-design chip; a sub-network keeps the
whole network's pipeline pace, so a layer's speed-up bound does not depend on which design runs it. A layer
that no design can run, or that does not fit, raises MappingError naming the layer.
"""
from __future__ import annotations

import copy
from typing import Any

import attrs

from ..errors import MappingError
from ..workload.layers import Layer, Network
from .floorplan import layer_schemes, pipeline_pace
from .placement import LayerPlacement, Mapping

PRIMARY = "chip"          # name of the netlist's own chip: hierarchy among the designs


@attrs.frozen
class HybridMapping:
    """A network on a hybrid chip: one Mapping per tile design used, function-unit layers, and the layer order.

    ``parts`` maps a design name (``chip`` = the primary hierarchy) to the Mapping of the layers it runs;
    ``functional`` maps a layer name to the chip-level function-unit node that runs it; ``assignment`` maps
    every layer name to its design name (or ``function``).
    """

    chip: Any                       # the primary ChipGraph, counts resolved (its designs resolved in parts)
    network: Network
    method: str
    parts: dict[str, Mapping]
    functional: dict[str, str]
    assignment: dict[str, str]

    @property
    def layers(self) -> tuple[LayerPlacement, ...]:
        """Placements of every array layer (all designs), in network order."""
        placed = {p.layer.name: p for part in self.parts.values() for p in part.layers}
        return tuple(placed[layer.name] for layer in self.network if layer.name in placed)

    @property
    def utilization(self) -> float:
        cells = sum(p.cells for p in self.layers)
        total = sum(part.utilization and sum(p.cells for p in part.layers) / part.utilization
                    for part in self.parts.values())
        return cells / total if total else 0.0

    @property
    def tiles_used(self) -> int:
        return sum(part.tiles_used for part in self.parts.values())

    def layer(self, name: str) -> LayerPlacement:
        for placement in self.layers:
            if placement.layer.name == name:
                return placement
        raise MappingError(f"mapping of {self.network.name!r} has no array layer {name!r}")


def needs_hybrid(chip: Any, network: Network) -> bool:
    """Whether ``network`` on ``chip`` takes the hybrid mapper (extra designs, or non-static layers)."""
    return bool(getattr(chip, "designs", None)) or any(layer.role != "static" for layer in network)


def function_units(chip: Any) -> list[tuple[str, Any]]:
    """(node path, model) of the chip-level function units."""
    return [(f"chip/{c.name}", c.model) for c in chip.levels["chip"].components if c.spec.kind.split(".")[0] == "function"]


def _design_for(layer: Layer, scheme: str, chip: Any) -> str:
    """The first design that takes ``layer`` (its kind, and the ``scheme`` the chip maps it with); a static
    layer no design takes stays on the chip's own tiles."""
    for name, design in chip.spec.designs.items():
        if design.takes(layer.kind, scheme):
            return name
    if layer.role == "static":
        return PRIMARY
    for name, design in chip.spec.designs.items():
        if layer.kind in design.runs:
            raise MappingError(
                f"layer {layer.name} ({layer.kind}) cannot be mapped on {chip.spec.name!r}: design {name} runs "
                f"{layer.kind} but takes only schemes {', '.join(design.schemes)}, and the chip maps this layer "
                f"{scheme!r}; add {scheme!r} to $.designs.{name}.schemes or drop schemes")
    runs = {name: design.runs for name, design in chip.spec.designs.items()}
    designs = ", ".join(f"{n} runs {', '.join(k)}" for n, k in runs.items()) or "it has no designs: section"
    raise MappingError(
        f"layer {layer.name} ({layer.kind}: an activation x activation product whose operand changes with every "
        f"input) cannot be mapped on {chip.spec.name!r}: its chip: tiles ({chip.subarray.kind}) hold static "
        f"weights and no tile design runs {layer.kind!r} ({designs}); add a digital-CIM design with "
        f"runs: [{layer.kind}] under designs: (docs/transformers.md)")


def _function_unit(layer: Layer, chip: Any) -> str:
    for path, model in function_units(chip):
        if model.supports(layer.kind):
            return path
    raise MappingError(
        f"layer {layer.name} ({layer.kind}) needs a function unit on {chip.spec.name!r}: the chip level has none "
        f"that computes {layer.kind!r}; add e.g. chip: {{functions: {{kind: function.unit, lanes: 64}}}}")


def map_hybrid(chip: Any, network: Network, method: str | None = None) -> HybridMapping:
    """Place every layer of ``network`` on the tile design that runs its kind (see the module docstring)."""
    from . import map_network, place

    if not isinstance(network, Network):
        raise MappingError(f"expected a cimgraph Network to map, got {type(network).__name__}")
    assignment: dict[str, str] = {}
    functional: dict[str, str] = {}
    groups: dict[str, list[Layer]] = {}
    problems: dict[str, list[str]] = {}   # layer kind -> [first message, other layer names...]
    schemes = dict(zip((layer.name for layer in network),
                       layer_schemes(network, method or chip.spec.mapping.method, int(chip.subarray.rows))))
    for layer in network:
        try:
            if layer.role == "functional":
                functional[layer.name] = _function_unit(layer, chip)
                assignment[layer.name] = "function"
            else:
                design = _design_for(layer, schemes[layer.name], chip)
                assignment[layer.name] = design
                groups.setdefault(design, []).append(layer)
        except MappingError as exc:
            problems.setdefault(layer.kind, [str(exc)]).append(layer.name)
    if problems:
        raise MappingError("\n".join(f"{lines[0]}" + (f" (also {len(lines) - 2} more {kind} layers)"
                                                        if len(lines) > 2 else "")
                                      for kind, lines in problems.items()))
    parts: dict[str, Mapping] = {}
    for design, layers in groups.items():
        sub = Network(f"{network.name}[{design}]", tuple(layers), pace=network.pace or pipeline_pace(network))
        if design == PRIMARY:
            parts[design] = map_network(_without_designs(chip), sub, method=method)
        else:
            parts[design] = place(chip.designs[design], sub, "conventional")
    resolved = parts[PRIMARY].chip if PRIMARY in parts else chip
    return HybridMapping(chip=resolved, network=network, method=parts[PRIMARY].method if PRIMARY in parts
                         else "conventional", parts=parts, functional=functional, assignment=assignment)


def _without_designs(chip: Any) -> Any:
    """The primary chip as the single-design mapper sees it (its designs are mapped separately)."""
    if not chip.designs:
        return chip
    plain = copy.copy(chip)
    plain.designs = {}
    return plain
