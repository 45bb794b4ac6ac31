"""Fixed-point quantization of weights and activations (WAGE grid, per-layer calibrated scale).

Weights: WAGE (Wu et al., arXiv:1802.04680; seed 001 sec. 6) quantizes to a symmetric grid with
step 2^(1-k) on [-1+2^(1-k), 1-2^(1-k)], i.e. the integers -(2^(k-1)-1) .. 2^(k-1)-1 times a
step. Following seed 001's PyTorch wrapper the scale is moved from the weight to the layer output,
and following NeuroSim V1.5 (seed 003, ``--weight_calib_method`` / ``--input_calib_method``) the
step is calibrated per layer from the maximum or a percentile of |value|.

Activations: unsigned ``bits``-bit integers 0 .. 2^bits-1 when every calibration value is >= 0
(after ReLU), else two's-complement integers -2^(bits-1) .. 2^(bits-1)-1.

Every function here takes and returns torch tensors; torch is imported lazily by callers.
"""
from __future__ import annotations

import attrs

from ..errors import AccuracyError

CALIBRATIONS = ("max", "percentile")
SAMPLE_LIMIT = 200_000  # values kept per observer for percentile calibration


def _check_bits(bits: int, what: str) -> None:
    if not isinstance(bits, int) or isinstance(bits, bool) or not 1 <= bits <= 16:
        raise AccuracyError(f"{what}: expected an integer number of bits from 1 to 16, got {bits!r}")


def weight_levels(bits: int) -> int:
    """Largest weight integer of the symmetric WAGE grid: 2^(bits-1) - 1 (at least 1)."""
    _check_bits(bits, "weight bits")
    return max(1, 2 ** (bits - 1) - 1)


def robust_max(values, method: str = "max", percentile: float = 99.99) -> float:
    """Calibration range of |values|: the maximum, or the given percentile (seed 003 calib methods)."""
    if method not in CALIBRATIONS:
        raise AccuracyError(f"calibration method: expected one of {CALIBRATIONS}, got {method!r}")
    flat = values.detach().abs().flatten().float()
    if flat.numel() == 0:
        raise AccuracyError("calibration: no values observed")
    if method == "max":
        return float(flat.max())
    if not 0.0 < percentile <= 100.0:
        raise AccuracyError(f"calibration percentile: expected 0 < p <= 100, got {percentile!r}")
    if flat.numel() > SAMPLE_LIMIT:
        flat = flat[:: flat.numel() // SAMPLE_LIMIT + 1]
    return float(flat.quantile(percentile / 100.0))


def weight_scale(weight, bits: int, method: str = "max", percentile: float = 99.99) -> float:
    """Step of the weight grid: calibrated |w| range / (2^(bits-1)-1); 1.0 for an all-zero weight."""
    top = robust_max(weight, method, percentile)
    return top / weight_levels(bits) if top > 0 else 1.0


def quantize_weight(weight, bits: int, scale: float):
    """Integer weights round(w/scale) clipped to +-(2^(bits-1)-1), as a float tensor of integers."""
    limit = weight_levels(bits)
    return (weight / scale).round().clamp(-limit, limit)


def activation_limits(bits: int, signed: bool) -> tuple[int, int]:
    """Integer range of a ``bits``-bit activation: unsigned 0..2^b-1 or two's complement."""
    _check_bits(bits, "input bits")
    if signed:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def quantize_activation(x, bits: int, scale: float, signed: bool):
    """Integer activations round(x/scale) clipped to the ``bits``-bit range, as floats."""
    low, high = activation_limits(bits, signed)
    return (x / scale).round().clamp(low, high)


@attrs.define
class RangeObserver:
    """Running record of a tensor's values for max / percentile calibration.

    Keeps the running |max|, whether any value was negative, and a strided subsample of at most
    ``SAMPLE_LIMIT`` magnitudes for the percentile.
    """

    peak: float = 0.0
    negative: bool = False
    samples: list = attrs.Factory(list)
    count: int = 0

    def observe(self, x) -> None:
        flat = x.detach().flatten().float()
        if flat.numel() == 0:
            return
        self.peak = max(self.peak, float(flat.abs().max()))
        self.negative = self.negative or bool((flat < 0).any())
        step = max(1, flat.numel() // (SAMPLE_LIMIT // 8))
        self.samples.append(flat[::step].abs().cpu())
        self.count += flat.numel()

    def scale(self, bits: int, method: str = "max", percentile: float = 99.99) -> float:
        """Activation step so that the calibrated range maps onto the top integer code."""
        if self.count == 0:
            raise AccuracyError("calibration: the layer saw no inputs; run calibration batches first")
        import torch

        top = self.peak if method == "max" else robust_max(torch.cat(self.samples), method, percentile)
        low, high = activation_limits(bits, self.negative)
        levels = high if not self.negative else -low
        return top / levels if top > 0 else 1.0
