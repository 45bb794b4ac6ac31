"""Fixed-point quantization of weights and activations (WAGE grid, per-layer calibrated scale).

Weights: WAGE (Wu et al., arXiv:1802.04680; seed 001 sec. 6) quantizes to a symmetric grid with
step 2^(1-k) on [-1+2^(1-k), 1-2^(1-k)], i.e. the integers -(2^(k-1)-1) .. 2^(k-1)-1 times a
step. Following seed 001's PyTorch wrapper the scale is moved from the weight to the layer output,
and following NeuroSim V1.5 (seed 003, ``--weight_calib_method`` / ``--input_calib_method``) the
step is calibrated per layer from the maximum or a percentile of |value|.

Activations: unsigned ``bits``-bit integers 0 .. 2^bits-1 when every calibration value is >= 0
(after ReLU), else two's-complement integers -2^(bits-1) .. 2^(bits-1)-1.

NeuroSim V1.5's ``histogram`` calibration (seed 003) uses TensorRT's histogram calibrators
(pytorch-quantization ``HistogramCalibrator``): a 2048-bin histogram of |x| and a clipping range
chosen by ``entropy`` (the range whose quantised distribution has the least KL divergence from the
clipped one; Migacz, "8-bit inference with TensorRT", GTC 2017), ``mse`` (least mean squared
quantisation error over the histogram) or ``percentile`` (here exact, on the samples).

Every function here takes and returns torch tensors; torch is imported lazily by callers.
"""
from __future__ import annotations

import attrs

from ..errors import AccuracyError

CALIBRATIONS = ("max", "percentile", "entropy", "mse")
SAMPLE_LIMIT = 200_000  # values kept per observer for percentile calibration
HISTOGRAM_BINS = 2048  # TensorRT's histogram calibrator default
ENTROPY_STRIDE = 4  # candidate ranges every 4 bins (TensorRT: every bin); MSE tries every bin


def _check_bits(bits: int, what: str) -> None:
    if not isinstance(bits, int) or isinstance(bits, bool) or not 1 <= bits <= 16:
        raise AccuracyError(f"{what}: expected an integer number of bits from 1 to 16, got {bits!r}")


def weight_levels(bits: int) -> int:
    """Largest weight integer of the symmetric WAGE grid: 2^(bits-1) - 1 (at least 1)."""
    _check_bits(bits, "weight bits")
    return max(1, 2 ** (bits - 1) - 1)


def robust_max(values, method: str = "max", percentile: float = 99.99, bits: int = 8,
               unsigned: bool = False) -> float:
    """Calibration range of |values|: the maximum, a percentile (seed 003 calib methods), or TensorRT's
    histogram ``entropy`` / ``mse`` choice for a ``bits``-bit grid (``unsigned``: one more magnitude bit)."""
    if method not in CALIBRATIONS:
        raise AccuracyError(f"calibration method: expected one of {CALIBRATIONS}, got {method!r}")
    flat = values.detach().abs().flatten().float()
    if flat.numel() == 0:
        raise AccuracyError("calibration: no values observed")
    if method == "max":
        return float(flat.max())
    if method in ("entropy", "mse"):
        return histogram_range(flat, method, bits, unsigned)
    if not 0.0 < percentile <= 100.0:
        raise AccuracyError(f"calibration percentile: expected 0 < p <= 100, got {percentile!r}")
    if flat.numel() > SAMPLE_LIMIT:
        flat = flat[:: flat.numel() // SAMPLE_LIMIT + 1]
    return float(flat.quantile(percentile / 100.0))


def histogram_range(magnitudes, method: str, bits: int, unsigned: bool = False) -> float:
    """Clipping range of a histogram of ``magnitudes`` (>= 0) by TensorRT's ``entropy`` or ``mse`` rule.

    Histogram: ``HISTOGRAM_BINS`` bins over 0..max. Quantised bins: 2^(bits-1) (2^bits if unsigned).
    ``entropy``: for each candidate edge i >= that count, P = the first i bins with the outliers added to
    the last, Q = P merged into the quantised bins and spread evenly over each one's non-empty bins;
    the range is the edge with the least KL(P || Q). ``mse``: the edge whose uniform grid (nearest code,
    clipping) gives the least count-weighted squared error of the bin centres.
    """
    import torch

    top = float(magnitudes.max())
    if top == 0.0:
        return 0.0
    counts = torch.histc(magnitudes.double(), HISTOGRAM_BINS, 0.0, top)
    edges = torch.linspace(0.0, top, HISTOGRAM_BINS + 1, dtype=torch.float64)
    nbins = 2 ** (bits - 1 + int(unsigned))
    if nbins >= HISTOGRAM_BINS:
        return top
    if method == "mse":
        centres = (edges[:-1] + edges[1:]) / 2
        candidates = edges[nbins:][:, None]  # (candidates, 1)
        step = candidates / nbins
        quantised = (centres[None, :] / step).round().clamp(max=nbins) * step
        error = (counts[None, :] * (centres[None, :] - quantised) ** 2).sum(1)
        return float(candidates[int(error.argmin()), 0])
    best, best_edge = float("inf"), top
    for i in range(nbins, HISTOGRAM_BINS + 1, ENTROPY_STRIDE):
        reference = counts[:i].clone()
        reference[-1] += counts[i:].sum()
        chunk = torch.arange(i) * nbins // i  # bin -> quantised bin
        kept = counts[:i]
        filled = (kept > 0).double()
        share = torch.bincount(chunk, kept, nbins) / torch.bincount(chunk, filled, nbins).clamp_min(1)
        q = filled * share[chunk]
        p = reference / reference.sum()
        q = q / q.sum()
        mask = p > 0
        divergence = float((p[mask] * torch.log(p[mask] / q[mask].clamp_min(1e-12))).sum())
        if divergence < best:
            best, best_edge = divergence, float(edges[i])
    return best_edge


def weight_scale(weight, bits: int, method: str = "max", percentile: float = 99.99) -> float:
    """Step of the weight grid: calibrated |w| range / (2^(bits-1)-1); 1.0 for an all-zero weight."""
    top = robust_max(weight, method, percentile, bits)
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

        top = self.peak if method == "max" else robust_max(torch.cat(self.samples), method, percentile, bits,
                                                           unsigned=not self.negative)
        low, high = activation_limits(bits, self.negative)
        levels = high if not self.negative else -low
        return top / levels if top > 0 else 1.0
