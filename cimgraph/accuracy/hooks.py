"""Built-in accuracy effects registered through the plugin hook (no torch import here)."""
from __future__ import annotations

from ..hookspecs import hookimpl
from .effects import BUILTIN_EFFECTS


@hookimpl(trylast=True)
def cimgraph_register_accuracy_effects(registry):
    """Register variation, read/output noise, drift, stuck-at, memory-state and capacitive effects."""
    for cls in BUILTIN_EFFECTS:
        registry.add_accuracy_effect(cls.name, cls)
