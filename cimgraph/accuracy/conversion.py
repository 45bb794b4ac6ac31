"""The ADC's conversion of a programmed array's partial sums, slice by slice.

A mixin of :class:`cimgraph.accuracy.cim_layer.CimArray` (it reads the array's ``config``, ``slices``,
``columns``, ``cycles``, ``cycle_bounds``/``cycle_peak`` and calibration samples). A linear ADC
(``adc.LinearAdc``, per slice for ``adc_range="slice"``) maps a partial sum p to the signed code
n = clamp(round(p / step + u), low, high) with value (n - u) x step; u is the optional subtractive
dither (Schuchman, IEEE Trans. Commun. 1964); a non-linear ADC (``adc.NonlinearAdc``) returns its
output levels. The clip is reduced to what the proven cycle bounds let past the codes; the
foreground offset calibration subtracts each (cycle, slice)'s mean error.
"""
from __future__ import annotations

import torch

from .adc import NonlinearAdc


class AdcConversion:
    """Partial sums -> ADC codes on the array's slices: grid, dither, clip plan, mean error."""

    def _mean_error(self, adc) -> torch.Tensor:
        """(cycle, slice) mean conversion error (converted - analog) of the calibration partial sums.

        The digital periphery subtracts it from every conversion of that cycle and slice: a foreground
        offset calibration (one register per slice and input bit), which removes the part of the
        rounding error that does not average out, the mean of a narrow, discrete partial-sum
        distribution on a coarse grid, without adding variance. Zero for a lossless ADC.
        """
        samples, slices = torch.cat(self.observed), torch.cat(self.observed_slices)
        cycles = torch.cat(self.observed_cycles)
        step, low, _ = self._adc_grid(adc)
        step, low = step[slices], low[slices]
        code = (samples / step).round() - low
        converted = (code.clamp(0, 2**adc.bits - 1) + low) * step
        cells = cycles * self.slices + slices
        total = torch.bincount(cells, converted - samples, self.cycles * self.slices)
        count = torch.bincount(cells, minlength=self.cycles * self.slices).clamp_min(1)
        return (total / count).view(self.cycles, self.slices)

    def _adc_grid(self, adc) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per slice: step, lowest and highest signed code n (value n x step) of a linear ADC."""
        parts = adc.parts if len(adc.parts) == self.slices else adc.parts * self.slices
        step = torch.tensor([a.step for a in parts], dtype=torch.float64)
        low = torch.tensor([round(a.low / a.step) for a in parts], dtype=torch.float64)
        return step, low, low + (2**adc.bits - 1)

    def _convert_(self, values: torch.Tensor, adc, whole: bool = False, clip=None) -> torch.Tensor:
        """In place: (..., slices*columns) partial sums -> signed codes n (linear) or levels (non-linear).

        Linear: n = clamp(round(p / step + u), low, high) per slice, u the column's dither (``_dither``,
        0 unless enabled), so the code's value is (n - u) x step (``_code_offsets`` adds the -u part).
        ``whole`` skips the rounding when the step is one level and the values are integers;
        ``clip`` (from ``_clip_plan``) is the clip the values provably need, else every slice's
        both-sided clip is applied. Five in-place passes at most: multiply by the reciprocal step
        (several times faster than a divide), dither, round, and one scalar clamp (a clamp with tensor
        bounds is ~30x slower, one per slice on its strided columns ~3x).
        """
        if isinstance(adc, NonlinearAdc):
            return adc.convert(values)
        step, low, high = self._adc_grid(adc)
        shaped = values.view(-1, self.slices, self.columns)
        if bool((step != 1.0).any()):
            shaped.mul_((1.0 / step).to(values.device, values.dtype).view(-1, 1))
            whole = False
        if self.config.dither and bool((step > 1.0).any()):
            shaped.add_(self._dither(adc).to(values.device, values.dtype))
            whole = False
        if not whole:
            values.round_()
        if clip is None:
            uniform = bool((low == low[0]).all()) and bool((high == high[0]).all())
            clip = (float(low[0]), float(high[0])) if uniform else (
                [(k, float(low[k])) for k in range(self.slices)], [(k, float(high[k])) for k in range(self.slices)])
        lower, upper = clip
        if isinstance(lower, float) and isinstance(upper, float):
            return values.clamp_(lower, upper)
        if isinstance(lower, float):
            values.clamp_min_(lower)
        else:
            for k, bound in lower or ():
                shaped[:, k].clamp_min_(bound)
        if isinstance(upper, float):
            values.clamp_max_(upper)
        else:
            for k, bound in upper or ():
                shaped[:, k].clamp_max_(bound)
        return values

    def _clip_plan(self, adc, dtype: torch.dtype = torch.float32):
        """The clip that whole-number, noise-free partial sums within ``cycle_bounds`` need, or None.

        Each slice's extreme sums are converted as ``_convert_`` converts them (times the reciprocal
        step in ``dtype``, rounded; both monotonic), so every code of the slice lies between the two.
        A side whose codes can pass the slice's bound is clipped; where every slice that can pass it
        shares the bound that is outermost over all slices, one scalar clamp over all columns does it
        (it cannot move a code of the other slices, which lie within their own bounds). Returns
        (lower, upper), each None (no clip), a float (one scalar clamp) or [(slice, bound), ...].
        None with dither on (it moves codes by a column's offset).
        """
        if self.config.dither or adc is None or isinstance(adc, NonlinearAdc):
            return None
        step, code_low, code_high = self._adc_grid(adc)
        low, high = (torch.tensor(v, dtype=dtype) for v in self.cycle_bounds())
        if bool((step != 1.0).any()):
            reciprocal = (1.0 / step).to(dtype)
            low, high = (low * reciprocal).round(), (high * reciprocal).round()
        low, high = low.double(), high.double()

        def side(passes: torch.Tensor, bounds: torch.Tensor, outermost: float):
            if not bool(passes.any()):
                return None
            if bool((bounds[passes] == outermost).all()):
                return outermost
            return [(k, float(bounds[k])) for k in range(self.slices) if bool(passes[k])]

        return (side(low < code_low, code_low, float(code_low.min())),
                side(high > code_high, code_high, float(code_high.max())))

    def _dither(self, adc) -> torch.Tensor:
        """(slices, columns) subtractive dither u in [-1/2, 1/2) steps; zero where the step is one level.

        ``config.dither``: each column's conversion is offset by a fixed, known fraction of a step,
        evenly spread over the columns (golden-ratio sequence), and the digital periphery subtracts it
        again. A partial sum that many outputs share then rounds differently on each column, so the
        rounding error loses its part common to all outputs (subtractive dither: Schuchman, IEEE Trans.
        Commun. 1964; a per-column offset is an ADC reference trim the periphery undoes).
        """
        step = self._adc_grid(adc)[0]
        if not self.config.dither:
            return torch.zeros(self.slices, self.columns, dtype=torch.float64)
        phase = (torch.arange(self.columns, dtype=torch.float64).view(1, -1) * 0.6180339887498949
                 + torch.arange(self.slices, dtype=torch.float64).view(-1, 1) * 0.7548776662466927) % 1.0
        return (phase - 0.5) * (step.view(-1, 1) > 1.0)

    def _code_offsets(self, adc, conversions: float) -> torch.Tensor:
        """(slices, columns) value the dither adds back: -u x step per conversion, times ``conversions``."""
        if adc is None or isinstance(adc, NonlinearAdc) or not self.config.dither:
            return torch.zeros(self.slices, self.columns, dtype=torch.float64)
        return -self._dither(adc) * self._adc_grid(adc)[0].view(-1, 1) * conversions

    def _code_values(self, adc) -> tuple[torch.Tensor, float]:
        """Per-slice value of one code step (1 for none / non-linear) and the largest |code| or level."""
        if adc is None:
            return torch.ones(self.slices, dtype=torch.float64), self.cycle_peak()
        if isinstance(adc, NonlinearAdc):
            return torch.ones(self.slices, dtype=torch.float64), max(abs(v) for v in adc.levels)
        step, low, high = self._adc_grid(adc)
        return step, float(torch.maximum(low.abs(), high.abs()).max())
