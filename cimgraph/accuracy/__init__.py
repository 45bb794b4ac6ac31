"""Torch accuracy plugin: CIM-aware inference through the same Mapping the hardware model costs.

Importing this package does not import torch; the torch-using names load on first access.
"""
from __future__ import annotations

import importlib
from typing import Any

from .config import CimConfig
from .effects import (AccuracyEffect, CapacitiveCells, Drift, MemoryStates, OutputNoise, OutputNoiseTable, ReadNoise,
                      StuckAt, Variation, make_effects, read_memory_states, read_output_noise)

_LAZY = {
    "simulate_accuracy": "run", "accuracy_command": "run", "AccuracyResult": "run", "evaluate": "run",
    "calibrate": "run",
    "convert": "convert", "CimLayer": "convert", "set_mode": "convert", "cim_layers": "convert",
    "CimArray": "cim_layer", "digits": "data", "digits_cnn": "data", "trained_digits_cnn": "data",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AccuracyEffect", "CapacitiveCells", "CimConfig", "Drift", "MemoryStates", "OutputNoise", "OutputNoiseTable",
           "ReadNoise", "StuckAt", "Variation", "make_effects", "read_memory_states", "read_output_noise", *_LAZY]
