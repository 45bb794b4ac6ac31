"""ADC quantization of column partial sums: linear and non-linear (seed 001 sec. 7(4), Fig. 25).

Partial sums are in cell-level units (one unit = one cell level times a 1 input digit). A linear
ADC has 2^bits codes spaced ``step`` apart from ``low``; rounding to the nearest code, clipping at
both ends. Its range is the span of partial sums the array can produce (``full``), or that seen on
calibration data (``calibrated``: one range per layer, NeuroSim's data-driven range; ``slice``: one
range per cell slice, :class:`SlicedAdc`). When the range straddles zero (analog reference
subtraction gives signed sums) zero is always a code, so an idle column reads exactly 0. The step
is never below one level, so an ADC with at least as many codes as partial-sum values is exact.
A non-linear ADC has 2^bits reconstruction levels fitted to the calibration partial sums by
Lloyd-Max (minimum mean squared error; denser where partial sums are frequent), with decision
edges half-way between levels.
"""
from __future__ import annotations

import math

import attrs

from ..errors import AccuracyError


@attrs.frozen
class LinearAdc:
    """Uniform ADC: code = clamp(round((p - low) / step), 0, codes - 1); value = low + code * step."""

    bits: int
    step: float
    low: float = 0.0

    @property
    def codes(self) -> int:
        return 2**self.bits

    @property
    def full_scale(self) -> float:
        return (self.codes - 1) * self.step

    def lossless_below(self, peak: float) -> bool:
        """True if every integer partial sum up to ``peak`` converts exactly (no clipping, 1-level step)."""
        return self.lossless(0.0, peak)

    def lossless(self, lowest: float, highest: float) -> bool:
        """True if every integer partial sum in lowest..highest converts exactly."""
        return (self.step == 1.0 and float(self.low).is_integer() and self.low <= lowest
                and highest <= self.low + self.codes - 1)

    @property
    def parts(self) -> tuple["LinearAdc", ...]:
        return (self,)

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
    """ADC with non-uniform reconstruction levels (sorted) and decision edges half-way between them.

    A partial sum p gets the code of the cell edge[i-1] < p <= edge[i]; the digital periphery
    maps the code to ``levels[i]`` (a lookup table in place of the linear ADC's shift).
    """

    bits: int
    levels: tuple[float, ...]

    def lossless_below(self, peak: float) -> bool:
        return self.lossless(0.0, peak)

    def lossless(self, lowest: float, highest: float) -> bool:
        return all(float(i) in self.levels for i in range(math.floor(lowest), math.ceil(highest) + 1))

    def convert(self, psum):
        import torch

        levels = torch.tensor(self.levels, dtype=psum.dtype, device=psum.device)
        edges = (levels[1:] + levels[:-1]) / 2
        return levels[torch.bucketize(psum, edges)]


@attrs.frozen
class SlicedAdc:
    """One linear range per cell slice (``parts[k]`` converts slice k's columns).

    Physically: the columns of one slice significance share their ADCs (slice-major column order),
    and each ADC's reference ladder is trimmed once, at calibration, to its slice's span.
    """

    bits: int
    parts: tuple[LinearAdc, ...]

    def lossless(self, lowest, highest) -> bool:
        return all(a.lossless(lo, hi) for a, lo, hi in zip(self.parts, lowest, highest))

    @property
    def step(self) -> float:
        return max(a.step for a in self.parts)


LLOYD_ITERATIONS = 100  # Lloyd-Max passes at most; it stops earlier at a fixed point


TRIM_BITS = 8  # reference-ladder trim resolution: steps are multiples of 2^-8 level


def ladder_step(step: float) -> float:
    """The smallest step >= ``step`` whose decision thresholds (k + 1/2) step never sit on a whole level.

    Partial sums of ideal cells are whole levels; a threshold exactly on one would make the code
    depend on how a tie is broken (a comparator's metastable case), and a tie that recurs biases the
    layer. A trimmed ladder has steps N / 2^TRIM_BITS of a level; (k + 1/2) N / 2^TRIM_BITS is never
    an integer unless N / 2^TRIM_BITS is an even integer, which is then widened by one trim step.
    """
    if step <= 1.0:
        return 1.0
    trims = math.ceil(step * 2**TRIM_BITS - 1e-9)
    if trims % 2**TRIM_BITS == 0 and (trims // 2**TRIM_BITS) % 2 == 0:
        trims += 1
    return trims / 2**TRIM_BITS


def linear_adc(bits: int, full_scale: float, lowest: float = 0.0) -> LinearAdc:
    """Linear ADC of ``bits`` covering lowest..full_scale (step >= 1 level, zero on a code).

    A range that straddles zero spends one spare code so that zero is a code exactly: step =
    span / (2^bits - 2), low = -ceil(-lowest / step) step. Steps are trimmed (``ladder_step``) so
    that no decision threshold sits on a whole level.
    """
    top = 2**bits - 1
    lowest, full_scale = min(0.0, lowest), max(0.0, full_scale)
    if lowest == 0.0:
        return LinearAdc(bits, ladder_step(full_scale / top)) if full_scale > 0 else LinearAdc(bits, 1.0)
    if full_scale == 0.0:
        step = ladder_step(-lowest / top)
        return LinearAdc(bits, step, -top * step)
    fits = math.ceil(-lowest - 1e-9) + full_scale <= top
    step = 1.0 if fits else ladder_step((full_scale - lowest) / max(1, top - 1))
    below = math.ceil(-lowest / step - 1e-9)
    return LinearAdc(bits, step, -below * step)


def _histogram(samples, weights=None):
    """Distinct calibration partial sums and their total weight (float64, sorted)."""
    import torch

    flat = samples.flatten().double()
    if weights is not None and weights.numel() != flat.numel():
        raise AccuracyError(f"non-linear ADC: {weights.numel()} weights for {flat.numel()} partial sums")
    if flat.numel() == 0:
        raise AccuracyError("non-linear ADC: calibration saw no partial sums")
    if not bool(torch.isfinite(flat).all()):
        raise AccuracyError("non-linear ADC: calibration partial sums must be finite")
    values, cells = torch.unique(flat, sorted=True, return_inverse=True)
    if weights is None:
        return values, torch.bincount(cells, minlength=values.numel()).double()
    return values, torch.bincount(cells, weights=weights.flatten().double(), minlength=values.numel())


def _whole_levels(bits: int, values) -> NonlinearAdc | None:
    """Integer levels 0 .. 2^bits - 1 when every calibration sum is a whole level within them.

    Such an ADC converts every whole partial sum up to its top code exactly (like a linear ADC
    with a one-level step), including values the calibration did not happen to see.
    """
    import torch

    codes = 2**bits
    low = min(0, int(values[0])) if torch.equal(values, values.round()) else None
    if low is not None and float(values[-1]) <= low + codes - 1:
        return NonlinearAdc(bits, tuple(float(low + i) for i in range(codes)))
    return None


def lloyd_max_levels(values, counts, init, iterations: int = LLOYD_ITERATIONS):
    """Lloyd-Max quantiser (Lloyd 1982, "Least squares quantization in PCM"; Max 1960) of a histogram.

    Alternates the two conditions of a minimum mean-squared-error quantiser on the weighted
    points ``values`` (sorted, float64) with weights ``counts``: edges half-way between adjacent
    levels (nearest-level rule), then every level at the centroid (weighted mean) of its cell.
    A cell that holds no point keeps its level. Starting from sorted ``init`` levels the levels
    stay sorted, the MSE never rises, and the result is deterministic; the loop ends at a fixed
    point or after ``iterations`` passes. Vectorised over the histogram: one bucketize and two
    bincounts per pass.
    """
    import torch

    levels = init.double().clone()
    moments = counts * values
    for _ in range(iterations):
        cells = torch.bucketize(values, (levels[1:] + levels[:-1]) / 2)
        mass = torch.bincount(cells, weights=counts, minlength=levels.numel())
        centroid = torch.bincount(cells, weights=moments, minlength=levels.numel()) / mass.clamp_min(1e-300)
        updated = torch.where(mass > 0, centroid, levels)
        if torch.equal(updated, levels):
            break
        levels = updated
    return levels


def quantisation_mse(levels, values, counts) -> float:
    """Mean squared error of converting the histogram (``values``, ``counts``) with ``levels``."""
    import torch

    levels = levels.double()
    converted = levels[torch.bucketize(values, (levels[1:] + levels[:-1]) / 2)]
    return float((counts * (values - converted) ** 2).sum() / counts.sum())


def nonlinear_adc(bits: int, samples, weights=None) -> NonlinearAdc:
    """Calibrated non-linear ADC: Lloyd-Max levels of the calibration partial sums ``samples``.

    Seed 001 sec. 7(4), Fig. 21/25: non-linear references follow the partial-sum distribution
    (denser where partial sums are frequent), as proposed for CIM read-out by Sun et al.,
    "XNOR-RRAM", DATE 2018 (the manual's ref. [12]); NeuroSim's ``NonLinearQuantizeOut`` uses
    fixed hand-set edge tables instead. Here the 2^bits reconstruction levels and the edges
    minimise the weighted mean squared quantisation error of the calibration sums
    (``lloyd_max_levels``), starting from the calibrated linear ADC's levels (0 .. largest sum),
    so the fit is never worse than that linear ADC on the calibration data. ``weights`` (one per
    sample, default 1) let the caller weight each sum by the square of its shift-and-add factor,
    which makes the objective the mean squared error the ADC adds to the layer output.
    Levels are the cells' centroids and need not be whole numbers (the code-to-value table is
    digital). When every sum is a whole level no larger than the top code the levels are
    0 .. 2^bits - 1, so a wide ADC is exact.
    """
    import torch

    values, counts = _histogram(samples, weights)
    exact = _whole_levels(bits, values)
    if exact is not None:
        return exact
    start = linear_adc(bits, float(values[-1]), float(values[0]))
    linear = start.low + torch.arange(2**bits, dtype=torch.float64) * start.step
    levels = lloyd_max_levels(values, counts, linear)
    return NonlinearAdc(bits, tuple(float(v) for v in levels.unique()))
