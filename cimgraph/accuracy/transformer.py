"""Transformer accuracy on a hybrid chip: ACIM non-idealities on the static layers, exact integer math on
the digital-CIM attention products, quantized softmax / layer norm / GELU (NeuroSim V1.5, seed 003).

The static ``nn.Linear`` / ``nn.Conv2d`` layers go through :func:`cimgraph.accuracy.run.simulate_accuracy`
exactly as a CNN's do (mapped by the hybrid mapper onto the ACIM tiles, effects applied there). This module
adds what runs elsewhere, as module swaps made before the simulation:

- :class:`DigitalMatMul` replaces every ``MatMul`` module (``cimgraph.workload.torch_vit.MatMul``: Q K^T and
  S V): both operands are quantized to the chip's input bits (symmetric, or unsigned when non-negative,
  with a per-tensor scale taken from the operand itself: the DCIM writes each sequence's operand anew)
  and multiplied exactly in integers (a DCIM macro has no ADC, so there is no read-out error);
- :class:`QuantizedFunction` wraps ``nn.Softmax``, ``nn.LayerNorm`` and ``nn.GELU``: input and output
  quantized to ``function_bits`` (softmax outputs unsigned on the fixed [0, 1] range).

The wrappers compute in float while the simulation runs its float pass and quantize in its quantized and
CIM passes (they follow the mode of the model's CIM layers). Products written with a bare ``@`` inside a
model stay float: write them with ``MatMul`` to put them on the DCIM.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import AccuracyError

FUNCTIONS = (nn.Softmax, nn.LayerNorm, nn.GELU)


def _mode(root: list[nn.Module]) -> str:
    from .convert import cim_layers

    layers = cim_layers(root[0])
    return layers[0].mode if layers else "float"


def quantize_dynamic(x: torch.Tensor, bits: int, full_scale: float | None = None) -> torch.Tensor:
    """``x`` on ``bits``-bit integer codes x scale: unsigned when x >= 0, else symmetric; the scale is
    ``full_scale`` (if given) or the tensor's largest magnitude."""
    unsigned = bool((x >= 0).all())
    levels = 2**bits - 1 if unsigned else 2 ** (bits - 1) - 1
    top = full_scale if full_scale is not None else float(x.detach().abs().max())
    if top <= 0:
        return x
    scale = top / levels
    low = 0 if unsigned else -levels
    return torch.clamp(torch.round(x / scale), low, levels) * scale


class DigitalMatMul(nn.Module):
    """a @ b on a digital-CIM macro: both operands on ``bits``-bit integers, the product exact."""

    def __init__(self, bits: int, root: list[nn.Module]):
        super().__init__()
        self.bits, self._root = bits, root

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if _mode(self._root) == "float":
            return a @ b
        qa, qb = quantize_dynamic(a, self.bits).double(), quantize_dynamic(b, self.bits).double()
        return (qa @ qb).to(a.dtype)   # integer codes x scales: exact in float64 for these sizes


class QuantizedFunction(nn.Module):
    """A softmax / layer norm / GELU unit with ``bits``-bit fixed-point input and output."""

    def __init__(self, module: nn.Module, bits: int, root: list[nn.Module]):
        super().__init__()
        self.module, self.bits, self._root = module, bits, root

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _mode(self._root) == "float":
            return self.module(x)
        y = self.module(quantize_dynamic(x, self.bits))
        return quantize_dynamic(y, self.bits, 1.0 if isinstance(self.module, nn.Softmax) else None)


def prepare(model: nn.Module, bits: int = 8, function_bits: int = 8) -> nn.Module:
    """A copy of ``model`` whose MatMul modules are DCIM products and whose softmax / layer norm / GELU
    modules are quantized function units (see the module docstring)."""
    import copy

    from ..workload.torch_vit import MatMul

    model = copy.deepcopy(model)
    root: list[nn.Module] = [model]
    swapped = 0
    for name, module in list(model.named_modules()):
        if isinstance(module, MatMul):
            new: nn.Module = DigitalMatMul(bits, root)
        elif isinstance(module, FUNCTIONS):
            new = QuantizedFunction(module, function_bits, root)
        else:
            continue
        parent_name, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, attr, new)
        swapped += 1
    if not swapped:
        raise AccuracyError(f"{type(model).__name__} has no MatMul, Softmax, LayerNorm or GELU module to put on "
                            f"the digital units")
    return model


def transformer_accuracy(model: nn.Module, data: Any = "digits", *, netlist: Any, function_bits: int = 8,
                         **options: Any) -> Any:
    """Float / quantized / CIM accuracy of a transformer on a hybrid ``netlist`` (simulate_accuracy's options)."""
    from ..netlist import load_netlist
    from .run import simulate_accuracy

    chip = load_netlist(netlist) if isinstance(netlist, str) else netlist
    bits = chip.spec.precision.input
    return simulate_accuracy(prepare(model, bits, function_bits), data, netlist=chip, **options)
