"""Workloads: Layer, Network, NetWork.csv / YAML readers, torch.fx import, bundled networks.

``from_torch`` imports torch only when called, so ``import cimgraph.workload`` never loads torch.
"""
from __future__ import annotations

from typing import Any, Sequence

from .bundled import BUNDLED, bundled
from .layers import Layer, Network
from .readers import (network_from_dict, network_to_dict, read_network, read_network_csv, read_network_yaml,
                      write_network_csv, write_network_yaml)


def from_torch(module: Any, input_shape: Sequence[int], name: str | None = None) -> Network:
    """Import a torch ``nn.Module`` with torch.fx (see cimgraph.workload.torch_import.from_torch)."""
    from .torch_import import from_torch as _from_torch

    return _from_torch(module, input_shape, name=name)


__all__ = ["BUNDLED", "Layer", "Network", "bundled", "from_torch", "network_from_dict", "network_to_dict",
           "read_network", "read_network_csv", "read_network_yaml", "write_network_csv", "write_network_yaml"]
