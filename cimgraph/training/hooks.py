"""Built-in update rules registered through the plugin hook (no torch import here)."""
from __future__ import annotations

from ..hookspecs import hookimpl
from .device import BUILTIN_RULES


@hookimpl(trylast=True)
def cimgraph_register_update_rules(registry):
    """Register the eq. 8.1-8.3 non-linear device (``nonlinear``)."""
    for cls in BUILTIN_RULES:
        registry.add_update_rule(cls.name, cls)
