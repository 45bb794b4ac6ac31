"""ADC quantization of column partial sums: linear and non-linear (seed 001 sec. 7(4), Fig. 25).

Partial sums are in cell-level units (one unit = one cell level times a 1 input digit). A linear
ADC has 2^bits codes spaced ``step`` apart from 0; rounding to the nearest code, clipping at the
top. Its full scale is either the largest partial sum the array can produce (``full``) or the
largest one seen on calibration data (``calibrated``, NeuroSim's data-driven range); the step is
never below one level, so an ADC with at least as many codes as partial-sum values is exact.
A non-linear ADC places its 2^bits output levels at quantiles of the calibration partial sums
(denser where partial sums are frequent), with decision edges half-way between levels.
"""
from __future__ import annotations

import attrs

from ..errors import AccuracyError


@attrs.frozen
class LinearAdc:
    """Uniform ADC: code = clamp(round(p / step), 0, codes - 1); value = code * step."""

    bits: int
    step: float

    @property
    def codes(self) -> int:
        return 2**self.bits

    @property
    def full_scale(self) -> float:
        return (self.codes - 1) * self.step

    def lossless_below(self, peak: float) -> bool:
        """True if every integer partial sum up to ``peak`` converts exactly (no clipping, 1-level step)."""
        return self.step == 1.0 and peak <= self.codes - 1

    def codes_of(self, scaled, whole: bool = False, peak: float | None = None):
        """In place: partial sums already divided by ``step`` -> integer codes.

        ``whole``: the values are integers already; ``peak``: known bounds 0 .. peak of the values,
        which skip the clip when peak rounds to a code (rounding is monotonic).
        """
        if not whole:
            scaled.round_()
        if peak is None or round(peak) > self.codes - 1:
            scaled.clamp_(0, self.codes - 1)
        return scaled


@attrs.frozen
class NonlinearAdc:
    """ADC with non-uniform output levels (sorted) and decision edges half-way between them."""

    bits: int
    levels: tuple[float, ...]

    def lossless_below(self, peak: float) -> bool:
        return all(float(i) in self.levels for i in range(int(peak) + 1))

    def convert(self, psum):
        import torch

        levels = torch.tensor(self.levels, dtype=psum.dtype, device=psum.device)
        edges = (levels[1:] + levels[:-1]) / 2
        return levels[torch.bucketize(psum, edges)]


def linear_adc(bits: int, full_scale: float) -> LinearAdc:
    """Linear ADC of ``bits`` whose top code sits at ``full_scale`` (step >= 1 level)."""
    if full_scale <= 0:
        return LinearAdc(bits, 1.0)
    return LinearAdc(bits, max(1.0, full_scale / (2**bits - 1)))


def nonlinear_adc(bits: int, samples) -> NonlinearAdc:
    """Non-linear ADC whose levels are quantiles of the calibration partial sums ``samples``.

    When the samples are whole levels no larger than the top code, the levels are the integers
    0 .. 2^bits - 1, so such an ADC is exact (the same as a linear ADC with a one-level step).
    """
    import torch

    flat = samples.flatten().double()
    if flat.numel() == 0:
        raise AccuracyError("non-linear ADC: calibration saw no partial sums")
    codes = 2**bits
    peak = float(flat.max())
    if peak <= codes - 1 and torch.equal(flat, flat.round()):
        return NonlinearAdc(bits, tuple(float(i) for i in range(codes)))
    q = (torch.arange(codes, dtype=torch.float64) + 0.5) / codes
    levels = torch.quantile(flat, q).unique().tolist()
    return NonlinearAdc(bits, tuple(float(v) for v in levels))
