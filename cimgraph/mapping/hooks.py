"""Built-in mapping strategies as a plugin ("conventional", "novel"; DNN+NeuroSim V2 manual sec. 4.2-4.3).

A strategy is ``function(chip, network, **options) -> Mapping``. This module must not import torch.
"""
from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl


def conventional(chip: Any, network: Any, **options: Any) -> Any:
    """Each 3-D kernel unrolled into one weight-matrix column; NeuroSim's three-stage floorplan."""
    from . import place

    return place(chip, network, "conventional")


def novel(chip: Any, network: Any, **options: Any) -> Any:
    """One PE per kernel position holding its D x N sub-matrix; inputs reused across the PEs of a tile."""
    from . import place

    return place(chip, network, "novel")


@hookimpl(trylast=True)
def cimgraph_register_mapping_strategies(registry: Any) -> None:
    registry.add_mapping_strategy("conventional", conventional)
    registry.add_mapping_strategy("novel", novel)
