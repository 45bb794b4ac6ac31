"""Every cimgraph hook, grouped by phase.

Collecting hooks receive a :class:`cimgraph.registry.Registry` and add to it; they return nothing.
Built-in modules implement them with ``trylast=True`` and are registered first, so a plugin that
registers the same name later overrides the built-in (the registry records who did).
"""
from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("cimgraph")
hookimpl = pluggy.HookimplMarker("cimgraph")


# -- Library phase: what exists ------------------------------------------------------------

@hookspec
def cimgraph_register_technologies(registry: Any) -> None:
    """Add CMOS technology nodes with ``registry.add_technology(tech)``. Called once per registry."""


@hookspec
def cimgraph_register_memory_cells(registry: Any) -> None:
    """Add memory-cell parameter sets with ``registry.add_memory_cell(cell)``. Called once per registry."""


@hookspec
def cimgraph_register_components(registry: Any) -> None:
    """Add component model classes with ``registry.add_component(cls)``. Called once per registry."""


# -- Mapping phase -------------------------------------------------------------------------

@hookspec
def cimgraph_register_mapping_strategies(registry: Any) -> None:
    """Add mapping strategies with ``registry.add_mapping_strategy(name, function)``.

    ``function(chip, network, **options) -> Mapping``. Called once per registry.
    """


# -- Accuracy phase ------------------------------------------------------------------------

@hookspec
def cimgraph_register_accuracy_effects(registry: Any) -> None:
    """Add accuracy effects (non-idealities) with ``registry.add_accuracy_effect(name, cls)``."""


# -- Training phase ------------------------------------------------------------------------

@hookspec
def cimgraph_register_update_rules(registry: Any) -> None:
    """Add device models of the weight update (``cimgraph.training.UpdateRule`` subclasses) with
    ``registry.add_update_rule(name, cls)``. Called once per registry."""


# -- Report phase --------------------------------------------------------------------------

@hookspec
def cimgraph_report_sections(result: Any) -> list[Any] | None:
    """Return extra report sections (``cimgraph.report.Section``) for ``result``, or None.

    Called for every report; all plugins' answers are collected in registration order.
    """
