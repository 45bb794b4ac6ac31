"""Transformer accuracy on a hybrid chip: ACIM non-idealities on the static layers, exact integer math on
the digital-CIM attention products, quantized softmax / layer norm / GELU (NeuroSim V1.5, seed 003).

The static ``nn.Linear`` / ``nn.Conv2d`` layers go through :func:`cimgraph.accuracy.run.simulate_accuracy`
exactly as a CNN's do (mapped by the hybrid mapper onto the ACIM tiles, effects applied there). This module
adds what runs elsewhere, as module swaps made before the simulation:

- :class:`DigitalMatMul` takes every product of two activations: a torch.fx rewrite of the model turns each
  ``a @ b``, ``torch.matmul`` / ``torch.bmm`` and ``.matmul()`` / ``.bmm()`` call whose operands are both
  computed values (not parameters or buffers: those are static weights) into a ``DigitalMatMul`` submodule;
  a model fx cannot trace falls back to swapping its ``MatMul`` modules
  (``cimgraph.workload.torch_vit.MatMul``: Q K^T and S V). Both operands are quantized to the chip's input
  bits (symmetric, or unsigned when non-negative,
  with a per-tensor scale taken from the operand itself: the DCIM writes each sequence's operand anew)
  and multiplied exactly in integers (a DCIM macro has no ADC, so there is no read-out error);
- :class:`QuantizedFunction` wraps ``nn.Softmax``, ``nn.LayerNorm`` and ``nn.GELU``: input and output
  quantized to ``function_bits`` (softmax outputs unsigned on the fixed [0, 1] range).

The wrappers compute in float while the simulation runs its float pass and quantize in its quantized and
CIM passes (they follow the mode of the model's CIM layers). In a model fx cannot trace, products written
with a bare ``@`` stay float (write them with ``MatMul``).
"""
from __future__ import annotations

import operator
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


PRODUCT_FUNCTIONS = {operator.matmul, torch.matmul, torch.bmm}
PRODUCT_METHODS = {"matmul", "bmm", "__matmul__"}


def route_products(model: nn.Module, bits: int, root: list[nn.Module]) -> tuple[nn.Module, int]:
    """(graph module, count): ``model`` traced with torch.fx, every product of two activations (``@``,
    torch.matmul / bmm, their methods) replaced by a ``DigitalMatMul`` submodule; (model, 0) if fx cannot
    trace it. An operand read from a parameter or buffer (``get_attr``) is a static weight and stays."""
    try:
        graph_module = torch.fx.symbolic_trace(model)
    except Exception:   # noqa: BLE001 - any tracing failure: keep the module swaps of prepare()
        return model, 0
    graph = graph_module.graph
    count = 0
    for node in list(graph.nodes):
        product = ((node.op == "call_function" and node.target in PRODUCT_FUNCTIONS)
                   or (node.op == "call_method" and node.target in PRODUCT_METHODS))
        operands = node.args[:2]
        if not product or len(operands) < 2 or node.kwargs or not all(
                isinstance(x, torch.fx.Node) and x.op != "get_attr" for x in operands):
            continue
        name = f"dcim_product_{count}"
        graph_module.add_submodule(name, DigitalMatMul(bits, root))
        with graph.inserting_after(node):
            replacement = graph.call_module(name, tuple(operands))
        node.replace_all_uses_with(replacement)
        graph.erase_node(node)
        count += 1
    if not count:
        return model, 0
    graph.lint()
    graph_module.recompile()
    return graph_module, count


def prepare(model: nn.Module, bits: int = 8, function_bits: int = 8) -> nn.Module:
    """A copy of ``model`` whose products of two activations are DCIM products and whose softmax / layer
    norm / GELU modules are quantized function units (see the module docstring)."""
    import copy

    from ..workload.torch_vit import MatMul

    root: list[nn.Module] = []
    model, swapped = route_products(copy.deepcopy(model), bits, root)
    root.append(model)
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
        raise AccuracyError(f"{type(model).__name__} has no product of two activations and no Softmax, "
                            f"LayerNorm or GELU module to put on the digital units")
    return model


def transformer_accuracy(model: nn.Module, data: Any = "digits", *, netlist: Any, function_bits: int = 8,
                         **options: Any) -> Any:
    """Float / quantized / CIM accuracy of a transformer on a hybrid ``netlist`` (simulate_accuracy's options)."""
    from ..netlist import load_netlist
    from .run import simulate_accuracy

    chip = load_netlist(netlist) if isinstance(netlist, str) else netlist
    bits = chip.spec.precision.input
    return simulate_accuracy(prepare(model, bits, function_bits), data, netlist=chip, **options)
