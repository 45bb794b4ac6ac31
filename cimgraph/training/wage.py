"""WAGE quantisation for on-chip training: weights, activations, gradients, errors (seed 001 sec. 6).

Wu et al., "Training and inference with integers in deep neural networks" (arXiv:1802.04680), as
DNN+NeuroSim's wrapper uses it (wl_weight, wl_activate, wl_grad, wl_error; -1 = float):

- weights: the symmetric grid of 2^(k-1) - 1 steps per side over the layer's weight range;
- activations: the unsigned (or, if negative values were seen, two's-complement) k-bit grid over the
  running maximum of the layer's input (NeuroSim scales inputs into the ADC's input range the same
  way); straight-through gradient;
- errors (WAGE's Q_E): e -> shift(max|e|) Q(clip(e / shift(max|e|))), shift(v) = 2^round(log2 v);
  applied to the gradient arriving at each CIM layer's output;
- gradients (WAGE's Q_G): g -> SR(g / shift(max|g|)) on the k-bit grid, stochastic rounding; the
  result is unitless (the learning rate then sets the largest update as a fraction of the range),
  exactly as WAGE and NeuroSim's ``QG`` normalise before the update.

Q_E keeps the power-of-two scale (WAGE drops it; the scale is a shift and does not change the
direction), so an error-quantised network keeps torch's loss scale. Torch is imported lazily.
"""
from __future__ import annotations

import math

from .device import TrainingError


def check_width(name: str, bits: int) -> int:
    if bits == -1 or (isinstance(bits, int) and not isinstance(bits, bool) and 1 <= bits <= 16):
        return bits
    raise TrainingError(f"{name}: expected -1 (float) or a bit width from 1 to 16, got {bits!r}")


def shift(value: float) -> float:
    """WAGE's shift(): the power of two nearest to ``value`` (> 0) in the log domain."""
    return 2.0 ** round(math.log2(value))


def symmetric_top(bits: int) -> int:
    """Largest integer of the symmetric k-bit grid, 2^(k-1) - 1 (1 for k = 1)."""
    return max(1, 2 ** (bits - 1) - 1)


def _ste():
    import torch

    class RoundThrough(torch.autograd.Function):
        """Forward: the given quantised value; backward: identity (straight-through estimator)."""

        @staticmethod
        def forward(ctx, x, quantised):
            return quantised

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    class BackwardMap(torch.autograd.Function):
        """Forward: identity; backward: ``function`` of the incoming gradient (a quantiser)."""

        @staticmethod
        def forward(ctx, x, function):
            ctx.function = function
            return x.view_as(x)

        @staticmethod
        def backward(ctx, grad):
            return ctx.function(grad), None

    return RoundThrough, BackwardMap


_FUNCTIONS: tuple | None = None


def _functions():
    global _FUNCTIONS
    if _FUNCTIONS is None:
        _FUNCTIONS = _ste()
    return _FUNCTIONS


def through(x, quantised):
    """``quantised`` in the forward pass, the gradient of ``x`` in the backward pass."""
    return _functions()[0].apply(x, quantised)


def on_backward(x, function):
    """Identity whose backward pass replaces the gradient g by ``function(g)``."""
    return _functions()[1].apply(x, function)


def quantize_error_on_backward(x, bits: int):
    """Identity whose backward pass applies Q_E with ``bits`` (no-op for -1)."""
    return x if bits == -1 else on_backward(x, lambda grad: quantize_error(grad, bits))


def quantize_error(e, bits: int):
    """WAGE Q_E with the power-of-two scale kept: s Q(clip(e/s, +-(1 - 2^(1-k))), k), s = shift(max|e|)."""
    import torch

    if bits == -1:
        return e
    top = float(e.abs().max())
    if top == 0 or not math.isfinite(top):
        return e
    s = shift(top)
    steps = 2.0 ** (bits - 1)
    limit = symmetric_top(bits)
    return torch.round(e / s * steps).clamp(-limit, limit) * (s / steps)


def quantize_gradient(g, bits: int, generator=None):
    """WAGE Q_G: g / shift(max|g|) stochastically rounded onto the k-bit grid (unitless, |.| <= 1)."""
    import torch

    top = float(g.abs().max())
    if top == 0 or not math.isfinite(top):
        return torch.zeros_like(g)
    steps = 2.0 ** (bits - 1)
    scaled = g / shift(top) * steps
    noise = torch.rand(g.shape, generator=generator, dtype=g.dtype, device="cpu").to(g.device)
    limit = symmetric_top(bits)
    return torch.floor(scaled + noise).clamp(-limit, limit) / steps


def activation_grid(x, bits: int, peak: float, signed: bool):
    """(codes, step): x on the k-bit unsigned / two's-complement grid whose top code is ``peak``."""
    import torch

    if signed:
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        low, high = 0, 2**bits - 1
    step = peak / max(high, 1) if peak > 0 else 1.0
    return torch.round(x / step).clamp(low, high), step
