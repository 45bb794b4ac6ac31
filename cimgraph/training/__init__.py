"""On-chip training accuracy: device model of the update, WAGE, V2 and POPU schemes, trace files.

Importing this package does not import torch; the torch-using names load on first access.
"""
from __future__ import annotations

import importlib
from typing import Any

from .device import NonlinearDevice, TrainingError, UpdateRule, label_to_a, make_rule
from .traces import DeltaRow, TraceError, WeightRow, read_trace, read_traces, write_traces

BUNDLED_MODELS = ("digits-cnn", "digits-mlp")   # `cimgraph train --model` names (and `train-ppa --network`)

_LAZY = {
    "train_on_chip": "loop", "TrainingResult": "loop", "V2Scheme": "loop", "PopuScheme": "loop",
    "popu_update_levels": "loop", "train_command": "loop", "model_network": "loop", "TrainLayer": "layers",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BUNDLED_MODELS", "DeltaRow", "NonlinearDevice", "TraceError", "TrainingError", "UpdateRule", "WeightRow", "label_to_a",
           "make_rule", "read_trace", "read_traces", "write_traces", *_LAZY]
