"""cimgraph: compute-in-memory accelerator modeling from a declarative chip netlist.

Three lines from netlist to figures::

    chip = load_netlist("netlists/vgg8_rram_22nm.yaml")
    mapping = map_network(chip, bundled("vgg8"))
    result = evaluate(mapping)
"""
from __future__ import annotations

from typing import Any

from .components.base import Component, Cost
from .errors import (AccuracyError, CimgraphError, ComponentNotFound, MappingError, NetlistError, PluginError,
                     UnitError, WorkloadError)
from .hookspecs import hookimpl
from .netlist import ChipGraph, load_netlist
from .units import format_si, parse, quantity

__version__ = "0.1.0"

__all__ = [
    "AccuracyError", "ChipGraph", "CimgraphError", "Component", "ComponentNotFound", "Cost", "MappingError",
    "NetlistError", "PluginError", "UnitError", "WorkloadError", "bundled", "evaluate", "format_si", "hookimpl",
    "load_netlist", "map_network", "parse", "quantity",
]


def map_network(chip: ChipGraph, network: Any, method: str | None = None) -> Any:
    """Place a network on a chip (see cimgraph.mapping.map_network)."""
    from .mapping import map_network as _map

    return _map(chip, network, method=method)


def evaluate(chip_or_mapping: Any, mapping: Any = None, **options: Any) -> Any:
    """Cost a mapped network on its chip (see cimgraph.schedule.evaluate)."""
    from .schedule import evaluate as _evaluate

    return _evaluate(chip_or_mapping, mapping, **options)


def bundled(name: str) -> Any:
    """A bundled network by name ("vgg8", "resnet18", "mlp")."""
    from .workload import bundled as _bundled

    return _bundled(name)
