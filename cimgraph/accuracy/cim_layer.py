"""One layer's weight matrix programmed into CIM subarrays, and its bit-serial read-out.

Follows seed 001 sec. 7 (Fig. 22-25) and sec. 5.4(6)/(8):

- integer weights q in +-(2^(b-1)-1) are stored as cell levels. ``dummy`` and ``none`` store the
  offset-binary code u = q + 2^(b-1) sliced over ``cells_per_weight`` cells of ``bits_per_cell``
  (LSB slice first); ``dummy`` adds one reference column per subarray and slice holding the code of
  weight zero (its cells at the nominal state of that slice), so subtracting it cancels the
  off-state current and the offset; ``none`` subtracts the offset digitally from the known input
  sum and keeps the off-state error. ``differential`` stores max(q,0) and max(-q,0) in two columns.
- ``subtraction="analog"`` (default) subtracts the reference current from each data column before
  the ADC (a current mirror of the reference column per column, or the differential pair's two
  currents into one sense node), so the ADC sees the signed difference: the off-state current
  cancels in the analog domain and no reference conversion is rounded. ``digital`` converts data and
  reference columns separately and subtracts the codes (NeuroSim's wrapper; a rounding bias).
- a cell at level l has state off + l (on - off)/(L-1) (S or F), then every effect's ``program``;
- inputs are applied ``dac_bits`` at a time (bit-serial for 1); each cycle every subarray sums
  input x state over its row group per column; read and output noise are added; the ADC converts
  each column (data and reference separately, as NeuroSim does); the digital periphery subtracts
  the reference, shifts and adds over cell slices, adds over subarrays and over input cycles.

Vectorised without loops over columns, slices or cycles. Noise-free read-out runs in blocks of
output positions sized to stay in cache: one GEMM per block and row group stacks every input
cycle's digits (rows) against every slice's columns, in the fastest exact operand, timed once per
shape class (int8 with int32 sums on CPU, bfloat16 for sums <= 256, float32, or several input
cycles packed into one int8 or float32 operand, ``packing``, decoded exactly or read out through a
table of both planes' ADC codes); the ADC converts the block in
place and the shift-and-add is one reduction over row groups, cycles and slices. With read or
output noise, and for ADC calibration, the read-out goes one whole cycle at a time so the noise
draws keep their order. Padded rows of short groups hold no cell. Signed inputs are offset to
unsigned and the offset's contribution (known weight column sums) is removed digitally.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..errors import AccuracyError
from . import kernels, packing
from .adc import LinearAdc, NonlinearAdc, SlicedAdc, linear_adc, nonlinear_adc
from .config import CimConfig

SAMPLES_PER_BATCH = 20_000  # partial sums kept per forward for ADC calibration
BFLOAT16_MATMUL = True  # exact-integer bfloat16 matmuls where they are provably exact
INT8_MATMUL = True  # exact int8 x int8 -> int32 matmuls (CPU torch._int_mm) where the operands fit
PACKED_MATMUL = True  # offer input cycles packed into one operand (``packing``) to the timed operand choice
BLOCK_PSUMS = 1 << 22  # partial sums per block of output positions (16 MiB in float32, within a CPU's L3)


def row_index(config: CimConfig, in_rows: int) -> torch.Tensor:
    """(groups, rows) weight-row index of every read; ``in_rows`` (a row holding no cell) pads short groups."""
    groups = config.groups_for(in_rows)
    index = torch.full((len(groups), max(len(g) for g in groups)), in_rows, dtype=torch.long)
    for i, rows in enumerate(groups):
        index[i, : len(rows)] = torch.tensor(rows, dtype=torch.long)
    return index


def unsigned_inputs(x: torch.Tensor, in_rows: int, input_bits: int, signed: bool | None, device: Any,
                    dtype: torch.dtype) -> tuple[torch.Tensor, float]:
    """Inputs on the device, offset by 2^(bits-1) if ``signed`` (detected when None); and that offset."""
    if x.shape[1] != in_rows:
        raise AccuracyError(f"CIM layer: expected {in_rows} input rows, got {x.shape[1]}")
    x = x.to(device, dtype)
    signed = bool(x.numel() and float(x.min()) < 0) if signed is None else signed
    offset = 2.0 ** (input_bits - 1) if signed else 0.0
    return (x + offset if signed else x), offset


def gather_rows(x: torch.Tensor, index: torch.Tensor, groups: int, rows: int) -> torch.Tensor:
    """Inputs (N, I, P) -> (groups, N*P, rows) per read, zero on padding rows."""
    n, _, positions = x.shape
    padded = torch.cat([x, x.new_zeros(n, 1, positions)], dim=1)
    gathered = padded.index_select(1, index).view(n, groups, rows, positions)
    return gathered.permute(1, 0, 3, 2).reshape(groups, n * positions, rows)


class CimArray:
    """Programmed subarrays of one layer; ``matmul`` computes the integer-domain product."""

    def __init__(self, weight: torch.Tensor, config: CimConfig, effects: Sequence[Any] = (),
                 generator: torch.Generator | None = None, device: str | torch.device = "cpu"):
        for effect in effects:
            config = effect.configure(config)
        self.config, self.effects, self.device = config, tuple(effects), torch.device(device)
        out_features, in_rows = weight.shape
        self.out_features, self.in_rows = out_features, in_rows
        index = row_index(config, in_rows)
        self.group_count, self.group_rows = index.shape
        self.index = index.flatten().to(self.device)
        present = (index < in_rows).to(torch.float64)  # (G, R): 0 on padding rows
        q = weight.detach().to(torch.float64).cpu()
        self.weight_sums = q.sum(1).to(self.device)  # for the signed-input offset correction
        placed = torch.cat([q.t(), torch.zeros(1, out_features, dtype=torch.float64)])[index]  # (G, R, O)
        levels = self._levels(placed)  # (S, G, R, C)
        span = config.state_on - config.state_off
        self.unit = span / (config.levels - 1)  # state of one level step
        mask = present[None, :, :, None]
        nominal = (config.state_off + levels * self.unit) * mask
        states = config.state_off + levels * self.unit
        for effect in self.effects:
            states = effect.program(states, levels, config, generator)
        states = states * mask
        self.analog = config.reference != "none" and config.subtraction == "analog"
        variance = None
        for effect in self.effects:
            extra = effect.read_variance(states, config)
            if extra is not None:
                variance = extra if variance is None else variance + extra
        variance = None if variance is None else variance * mask / self.unit**2
        if self.analog:  # signed difference current; off-state and offset cancel exactly in level units
            deviation = (states - nominal) / self.unit  # exactly 0 where no effect moved the cell
            data, reference = slice(None, out_features), slice(out_features, None)
            cells = (levels * mask)[..., data] - (levels * mask)[..., reference] \
                + deviation[..., data] - deviation[..., reference]
            variance = None if variance is None else variance[..., data] + variance[..., reference]
        else:
            cells = states / self.unit
        self.slices, self.columns = cells.shape[0], cells.shape[-1]
        self.conductance = self._flat(cells)  # (G, R, S*C) in level units
        self.whole_levels = bool(torch.equal(self.conductance, self.conductance.round()))
        per_slice = self.conductance.view(self.group_count, self.group_rows, self.slices, self.columns)
        self.column_high = per_slice.clamp_min(0).sum(1).amax(dim=(0, 2)).double().cpu()  # (S,) largest sum
        self.column_low = per_slice.clamp_max(0).sum(1).amin(dim=(0, 2)).double().cpu()  # (S,) most negative
        self.column_peak = float(torch.maximum(self.column_high, -self.column_low).max())
        self.read_variance = None if variance is None else self._flat(variance)
        self.output_sigma = sum(effect.output_sigma(config) for effect in self.effects)
        self.output_effects = tuple(e for e in self.effects if getattr(e, "perturbs_output", False))
        cpb = config.bits_per_cell
        self.slice_weights = torch.tensor([2.0 ** (k * cpb) for k in range(self.slices)],
                                          dtype=torch.float64, device=self.device)
        self.adc: LinearAdc | SlicedAdc | NonlinearAdc | None = None
        self.observed_peak = 0.0
        self.observed_low = torch.zeros(self.slices, dtype=torch.float64)  # per slice, over calibration
        self.observed_high = torch.zeros(self.slices, dtype=torch.float64)
        self.observed: list[torch.Tensor] = []
        self.observed_weights: list[torch.Tensor] = []  # squared shift-and-add weight of each sample
        self.observed_cycles: list[torch.Tensor] = []  # input cycle of each sample
        self.observed_slices: list[torch.Tensor] = []  # cell slice of each sample
        self.cycles = -(-config.input_bits // config.dac_bits)
        self.mean_error = torch.zeros(self.cycles, self.slices, dtype=torch.float64)  # (cycle, slice) correction

    # -- programming ---------------------------------------------------------------------------
    def _levels(self, placed: torch.Tensor) -> torch.Tensor:
        """Cell levels (slices, groups, rows, columns) of the weights, reference columns last."""
        config = self.config
        top = config.levels - 1
        shifts = torch.tensor([k * config.bits_per_cell for k in range(config.cells_per_weight)], dtype=torch.float64)
        scale = (2.0**shifts).view(-1, 1, 1, 1)

        def sliced(codes: torch.Tensor) -> torch.Tensor:
            return torch.remainder(torch.floor(codes.unsqueeze(0) / scale), top + 1)

        offset = 2.0 ** (config.weight_bits - 1)
        if config.reference == "differential":
            return torch.cat([sliced(placed.clamp_min(0)), sliced((-placed).clamp_min(0))], dim=-1)
        data = sliced(placed + offset)
        if config.reference == "none":
            return data
        zero = sliced(torch.full_like(placed[..., :1], offset))
        return torch.cat([data, zero], dim=-1)

    def _flat(self, per_cell: torch.Tensor) -> torch.Tensor:
        """(S, G, R, C) -> (G, R, S*C) float32 on the device, the matmul's right operand."""
        s, g, r, c = per_cell.shape
        return per_cell.permute(1, 2, 0, 3).reshape(g, r, s * c).to(self.device, torch.float32).contiguous()

    # -- read-out ------------------------------------------------------------------------------
    def cycle_peak(self) -> float:
        """Largest magnitude of a partial sum one input cycle can put on a column of the programmed array."""
        return self.column_peak * self._digit_top()

    def _digit_top(self) -> int:
        return 2 ** min(self.config.dac_bits, self.config.input_bits) - 1

    def cycle_bounds(self) -> tuple[list[float], list[float]]:
        """Per slice, the lowest and highest partial sum one input cycle can put on a column."""
        top = self._digit_top()
        return [float(v) * top for v in self.column_low], [float(v) * top for v in self.column_high]

    def can_fold(self) -> bool:
        """Whether the input-cycle loop may be folded: the ADC cannot clip or round any cycle's sum.

        Proof from the programmed array: every cycle's column sum lies within ``cycle_bounds`` (all
        digits at their maximum on the cells of one sign), and the ADC converts every integer there
        exactly. Exact when the states are whole levels; otherwise folding skips the ADC's rounding.
        """
        if self.adc is None:
            return True
        low, high = self.cycle_bounds()
        if isinstance(self.adc, SlicedAdc):
            return self.adc.lossless(low, high)
        return self.adc.lossless(min(low), max(high))

    def calibrate_adc(self) -> None:
        """Fix the ADC from the config and the partial sums observed since programming.

        ``adc_range``: ``full`` spans the array's possible column sums, ``calibrated`` the sums seen
        on calibration data (one range per layer), ``slice`` those seen per cell slice.
        """
        config = self.config
        if config.adc_bits is None:
            self.adc = None
        elif config.adc == "nonlinear":
            if not self.observed:
                raise AccuracyError("non-linear ADC: run calibration batches before reading")
            self.adc = nonlinear_adc(config.adc_bits, torch.cat(self.observed), torch.cat(self.observed_weights))
        else:
            if config.adc_range == "full":
                low, high = self.cycle_bounds()
            elif not self.observed:
                raise AccuracyError(f"{config.adc_range} ADC range: run calibration batches before reading")
            else:
                low, high = self.observed_low.tolist(), self.observed_high.tolist()
            if config.adc_range == "slice":
                self.adc = SlicedAdc(config.adc_bits, tuple(linear_adc(config.adc_bits, h, lo)
                                                            for lo, h in zip(low, high)))
            else:
                self.adc = linear_adc(config.adc_bits, max(high), min(low))
            if config.error_calibration and self.observed:
                self.mean_error = self._mean_error(self.adc)
        self.observed, self.observed_weights, self.observed_cycles, self.observed_slices = [], [], [], []

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

    def matmul(self, x: torch.Tensor, generator: torch.Generator | None = None, fast: bool = False,
               observe: bool = False, signed: bool | None = None) -> torch.Tensor:
        """Integer product x @ q^T through the arrays: x (N, I, P) integers -> (N, P, O) float64.

        ``signed`` inputs (two's complement; detected when None) are offset to unsigned first.
        ``observe`` records partial sums for ADC calibration (the ADC is bypassed meanwhile).
        """
        config = self.config
        n, rows, positions = x.shape
        x, offset = unsigned_inputs(x, self.in_rows, config.input_bits, signed, self.device, torch.float32)
        signed = offset > 0
        adc = None if observe else self.adc
        dac = config.dac_bits
        cycles = -(-config.input_bits // dac)
        noisy = self.read_variance is not None or self.output_sigma > 0 or bool(self.output_effects)
        folded = fast and not observe and self.can_fold()
        if observe or noisy:
            gathered = gather_rows(x, self.index, self.group_count, self.group_rows)
        if folded and noisy:
            acc = self._cycle(gathered, self.conductance, self._folded_square(gathered, cycles, dac), cycles, dac,
                              None, generator, False)
        elif observe or noisy:
            acc = self._serial_per_cycle(gathered, cycles, dac, adc, generator, observe)
        else:
            # rows grouped per subarray, (positions, groups, rows); padding rows hold no cell, so any input will do
            narrow = torch.uint8 if config.input_bits <= 8 else torch.int32
            codes = x.to(narrow).transpose(1, 2).index_select(2, self.index.clamp_max(rows - 1))
            codes = codes.view(n * positions, self.group_count, self.group_rows)
            acc = self._folded_product(codes) if folded else self._serial_blocked(codes, cycles, dac, adc)
        o = self.out_features
        acc = acc if config.reference == "none" or self.analog else acc[:, :o] - acc[:, o:]
        if config.reference == "none":
            acc -= 2.0 ** (config.weight_bits - 1) * x.double().sum(1).reshape(-1, 1)
        if signed:
            acc -= offset * self.weight_sums.view(1, -1)
        return acc.view(n, positions, o)

    def _serial_per_cycle(self, gathered, cycles, dac, adc, generator, observe) -> torch.Tensor:
        """Bit-serial read-out, one whole input cycle at a time (noise draws and ADC calibration)."""
        codes = gathered.to(torch.int32)
        small = self.whole_levels and (2.0**dac - 1) * self.column_peak <= 256 and self.read_variance is None
        operand_dtype = torch.bfloat16 if small and BFLOAT16_MATMUL else torch.float32
        operand = self.conductance.to(operand_dtype)
        acc = torch.zeros(gathered.shape[1], self.columns, dtype=torch.float64, device=self.device)
        for j in range(cycles):
            digits = ((codes >> (j * dac)) & (2**dac - 1)).to(operand_dtype)
            acc += 2.0 ** (j * dac) * self._cycle(digits, operand, None, 1, dac, adc, generator, observe,
                                                  significance=2.0 ** (j * dac), cycle=j)
        return acc

    def _operand_candidates(self, dac: int) -> list[torch.dtype]:
        """Matmul operands that keep every column sum exact, narrowest first.

        int8 (int32 sums, CPU ``torch._int_mm``) when states are whole levels in -128..127 and digits
        fit; bfloat16 (8 significant bits) when every |column sum| is a whole number <= 256; float32.
        """
        digit_top = 2**dac - 1
        if not self.whole_levels:
            return [torch.float32]
        found = []
        if (INT8_MATMUL and self.device.type == "cpu" and hasattr(torch, "_int_mm") and digit_top <= 127
                and float(self.conductance.min()) >= -128 and float(self.conductance.max()) <= 127):
            found.append(torch.int8)
        if BFLOAT16_MATMUL and digit_top * self.column_peak <= 256:
            found.append(torch.bfloat16)
        return found + [torch.float32]

    def _packings(self, dac: int, adc=None) -> list[packing.Packing]:
        """Packed operands (several input cycles per product, ``packing``) exact for this array and ``adc``.

        A lookup packing needs codes that depend on the slice alone (no dither) and are whole numbers."""
        cycles = -(-self.config.input_bits // dac)
        if not (PACKED_MATMUL and self.whole_levels):
            return []
        dtypes = [torch.int8] if torch.int8 in self._operand_candidates(dac) else []
        if self.device.type != "cuda" or not torch.backends.cuda.matmul.allow_tf32:  # TF32 keeps 10 bits
            dtypes.append(torch.float32)
        found = [packing.plan(dtype, cycles, self._digit_top(), self.cycle_peak()) for dtype in dtypes]
        whole = not isinstance(adc, NonlinearAdc) or all(float(v).is_integer() for v in adc.levels)
        if torch.int8 in dtypes and whole and not self.config.dither:
            found.append(packing.plan_lookup(cycles, self._digit_top(), *self.cycle_bounds()))
        return [p for p in found if p is not None]

    def _lookup(self, packed: packing.Packing, adc, dac: int, operand: torch.Tensor):
        """A lookup packing's table (both planes' codes as this ADC converts them) and index offsets."""
        low, _ = self.cycle_bounds()
        fields = torch.arange(packed.radix, dtype=torch.float32).view(-1, 1, 1) + torch.tensor(
            low, dtype=torch.float32).view(1, -1, 1)
        codes = fields.expand(-1, self.slices, self.columns).contiguous().to(self.device)
        if adc is not None:
            codes = self._convert_(codes, adc, whole=True)
        return packing.lookup_table(codes[:, :, 0], dac), packing.lookup_offsets(operand, packed, low)

    def _serial_blocked(self, codes: torch.Tensor, cycles: int, dac: int, adc) -> torch.Tensor:
        """Noise-free bit-serial read-out, blocked over output positions so partial sums stay in cache.

        ``codes`` (positions, groups, rows) input integers. Each block stacks every input cycle
        along the matmul rows (one GEMM per block and subarray; packed operands hold several cycles
        per row), converts the partial sums in place, sums over subarrays and weights the cycles
        (float32 where that is exact), then weights the slices in float64. Returns (positions,
        slices' columns). The operand is the fastest exact one, measured once per shape class.
        """
        count, groups, rows = codes.shape
        width = self.slices * self.columns
        block = max(1, min(count, BLOCK_PSUMS // (groups * cycles * width)))
        options = self._operand_candidates(dac) + self._packings(dac, adc)
        converts = adc is not None and (isinstance(adc, NonlinearAdc) or not self.can_fold())
        shape = (groups, cycles * block, rows, width, self.device, converts)
        option = kernels.fastest(options, *shape)
        workers = min(kernels.workers_for(option, options, *shape), -(-count // block))
        if workers > 1:   # whole blocks per worker: the same blocks as one loop, so the same numbers
            per_worker = -(-count // block // workers) * block
            with kernels.threads(1):
                parts = kernels.pool(workers).map(lambda part: self._blocks(part, cycles, dac, adc, option, block),
                                                  codes.split(per_worker))
                return torch.cat(list(parts))
        with kernels.threads(kernels.threads_for(option, options, *shape)):
            return self._blocks(codes, cycles, dac, adc, option, block)

    def _blocks(self, codes: torch.Tensor, cycles: int, dac: int, adc, option: kernels.Option,
                block: int) -> torch.Tensor:
        """The block loop of ``_serial_blocked`` with the chosen operand (a type or a packing)."""
        count, groups, rows = codes.shape
        width = self.slices * self.columns
        packed = option if isinstance(option, packing.Packing) else None
        dtype = packed.dtype if packed else option
        operand = self.conductance.to(dtype)
        psum_dtype = kernels.sums_dtype(dtype)
        sum_rows = -(-cycles // packed.planes) if packed else cycles  # product rows per position
        lookup = packed is not None and packed.slices > 0
        store = torch.empty(groups * sum_rows * block * width, dtype=psum_dtype, device=self.device)
        if packed:  # decoded planes (or a lookup's codes per pack) in float32
            real = torch.empty(groups * (sum_rows if lookup else cycles) * block * width, device=self.device)
        else:
            real = store.view(torch.float32) if psum_dtype == torch.int32 else (
                store if dtype == torch.float32 else torch.empty(store.shape, device=self.device))
        shift = packing.column_shift(operand, packed) if packed and not lookup else None
        shifts = torch.arange(0, cycles * dac, dac, dtype=codes.dtype, device=self.device).view(1, cycles, 1, 1)
        cycle_weights = 2.0 ** shifts.flatten().double()
        integral = dtype != torch.float32 or packed is not None
        if isinstance(adc, NonlinearAdc):
            integral = integral and all(float(v).is_integer() for v in adc.levels)
        steps, top = self._code_values(adc)
        # float32 sums are exact for whole numbers below 2^24; fractional values get float64 cycle sums
        group_dtype = torch.float32 if groups * top * (1 + 2**dac if lookup else 1) < 2.0**24 else torch.float64
        cycle_dtype = torch.float32 if integral and groups * top * float(cycle_weights.sum()) < 2.0**24 \
            else torch.float64
        cycle_weights = cycle_weights.to(cycle_dtype)
        low, high = self.cycle_bounds()
        linear = adc is not None and not isinstance(adc, NonlinearAdc)
        clip = None  # whole-number sums lie within the cycle bounds: clip only the sides and slices that can pass
        if linear and integral:
            step, code_low, code_high = self._adc_grid(adc)
            bounded = bool((torch.tensor(low) / step).round().ge(code_low).all()
                           and (torch.tensor(high) / step).round().le(code_high).all())
            clip = (None, None) if bounded else self._clip_plan(adc)
        convert = not (integral and (psum_dtype == torch.int32 or packed) and groups * top < 2.0**31 and (
            adc is None or (linear and self.can_fold())))
        table, index = self._lookup(packed, adc if convert else None, dac, operand) if lookup else (None, None)
        row_weights = cycle_weights[::packed.planes] if lookup else cycle_weights  # a table row holds a pack
        slice_weights = (self.slice_weights.cpu() * steps).to(self.device)
        # the codes' offsets (low x step per conversion) over subarrays, cycles and slices: one constant
        offset = torch.mv(self._code_offsets(adc, groups * float(cycle_weights.double().sum())).t(),
                          self.slice_weights.cpu()).to(self.device) if convert and adc is not None else None
        acc = torch.empty(count, self.columns, dtype=torch.float64, device=self.device)
        for start in range(0, count, block):
            k = min(block, count - start)
            size = groups * cycles * k * width
            digits = (codes[start:start + k].transpose(0, 1).unsqueeze(1) >> shifts) & (2**dac - 1)
            digits = packing.pack(digits, packed) if packed else digits.to(dtype).reshape(groups, cycles * k, rows)
            psum = kernels.batched_product(digits.contiguous(), operand, store[:groups * sum_rows * k * width].view(
                groups, sum_rows * k, width))
            if lookup:  # both planes' codes, weighted, in one gather
                values = torch.index_select(table, 0, psum.add_(index).view(-1), out=real[:psum.numel()])
                total = values.view(groups, -1).sum(0, dtype=group_dtype).view(sum_rows, k * width).to(cycle_dtype)
            elif not (convert or packed):  # exact integer sums that the ADC passes unchanged
                total = psum.sum(0, dtype=torch.int32).view(cycles, k * width).to(cycle_dtype)
            else:
                values = real[:size].view(groups, cycles * k, width)
                if packed:
                    packing.decode(psum, shift, values, packed, cycles, k)
                elif values.data_ptr() != psum.data_ptr() or values.dtype != psum.dtype:
                    values.copy_(psum)  # int32 -> float32 in place (same memory), bfloat16 -> float32
                if adc is not None and convert:
                    values = self._convert_(values, adc, whole=integral, clip=clip)
                total = values.sum(0, dtype=group_dtype).view(cycles, k * width).to(cycle_dtype)
            total = torch.mv(total.t(), row_weights).view(k, self.slices, self.columns)
            acc[start:start + k] = torch.matmul(slice_weights, total.double())
        if offset is not None:
            acc += offset - groups * float(torch.einsum("js,j,s->", self.mean_error, cycle_weights.double().cpu(),
                                                        self.slice_weights.cpu()))
        return acc

    def _folded_product(self, codes: torch.Tensor) -> torch.Tensor:
        """Noise-free fast mode: input cycles and cell slices folded, one product per subarray.

        Valid where ``can_fold`` holds (the ADC passes every cycle's sum unchanged), so the read-out
        equals sum over subarrays of x @ (sum over slices of 2^(slice bits) x states). Whole-level
        8-bit operands run as one exact int8 GEMM on offset values (x - 128)(w - c), c = 128 for
        weights in 0..255 and 0 for signed ones in -128..127, with the offsets restored from row and
        column sums; otherwise per-subarray float32 products where exact, else (wider integers, analog
        states) float64. ``codes`` (positions, groups, rows) -> (positions, columns).
        """
        count, groups, rows = codes.shape
        per_slice = self.conductance.view(groups, rows, self.slices, self.columns).double()
        weights = torch.einsum("grsc,s->grc", per_slice, self.slice_weights)  # (groups, rows, columns)
        depth = groups * rows
        low, high = float(weights.min()), float(weights.max())
        shift = 128.0 if low >= 0 else 0.0
        if (INT8_MATMUL and self.device.type == "cpu" and hasattr(torch, "_int_mm") and self.whole_levels
                and codes.dtype == torch.uint8 and low >= -128 + shift and high <= 127 + shift
                and depth * 128 * 256 < 2**31):
            inputs = (codes.reshape(count, depth) ^ 128).view(torch.int8)  # x - 128
            cells = (weights.reshape(depth, self.columns) - shift).to(torch.int8)
            acc = torch._int_mm(inputs, cells).double()
            acc += 128.0 * cells.sum(0, dtype=torch.int32).double().view(1, -1)
            if shift:
                acc += shift * inputs.sum(1, dtype=torch.int32).double().view(-1, 1) + 128.0 * shift * depth
            return acc
        top = 2.0**self.config.input_bits - 1
        exact32 = self.whole_levels and rows * top * float(weights.abs().max()) < 2.0**24
        dtype = torch.float32 if exact32 else torch.float64
        psum = torch.bmm(codes.transpose(0, 1).to(dtype), weights.to(dtype))
        return psum.sum(0, dtype=torch.float64)

    @staticmethod
    def _digit(x: torch.Tensor, j: int, dac: int) -> torch.Tensor:
        return torch.remainder(torch.floor(x / 2.0 ** (j * dac)), 2.0**dac)

    def _folded_square(self, x: torch.Tensor, cycles: int, dac: int) -> torch.Tensor | None:
        """sum_j 4^(j*dac) d_j^2: per-row weight of the read-noise variance when cycles are folded."""
        if self.read_variance is None:
            return None
        total = torch.zeros_like(x)
        for j in range(cycles):
            total += 4.0 ** (j * dac) * self._digit(x, j, dac) ** 2
        return total

    def _observe(self, psum: torch.Tensor, significance: float, cycle: int = 0) -> None:
        """Record one cycle's partial sums (G, M, slices*columns) for ADC calibration."""
        per_slice = psum.view(*psum.shape[:2], self.slices, self.columns)
        self.observed_peak = max(self.observed_peak, float(psum.max()))
        self.observed_low = torch.minimum(self.observed_low, per_slice.amin(dim=(0, 1, 3)).double().cpu())
        self.observed_high = torch.maximum(self.observed_high, per_slice.amax(dim=(0, 1, 3)).double().cpu())
        flat = psum.flatten()
        stride = max(1, flat.numel() // SAMPLES_PER_BATCH)
        self.observed.append(flat[::stride].double().cpu())
        # a sample's error reaches the output times its cycle's and its slice's shift-and-add weight
        slice_of = torch.arange(0, flat.numel(), stride) % (self.slices * self.columns) // self.columns
        self.observed_weights.append((significance * self.slice_weights.cpu()[slice_of]) ** 2)
        self.observed_cycles.append(torch.full((len(slice_of),), cycle, dtype=torch.long))
        self.observed_slices.append(slice_of)

    def _cycle(self, digits, operand, squares, span, dac, adc, generator, observe,
               significance: float = 1.0, cycle: int | None = None) -> torch.Tensor:
        """One input cycle (or the folded sum): column sums -> noise -> ADC -> shift-add over slices
        and subarrays. Returns (samples*positions, slices' columns incl. reference) in float64."""
        psum = torch.bmm(digits.to(operand.dtype), operand).float()
        if self.read_variance is not None:
            squares = digits * digits if squares is None else squares
            sigma = torch.bmm(squares, self.read_variance).clamp_min_(0).sqrt_()
            psum += sigma * torch.randn(psum.shape, generator=generator, device=psum.device)
        if self.output_sigma > 0:
            scale = sum(4.0 ** (j * dac) for j in range(span)) ** 0.5
            psum += (self.output_sigma * scale) * torch.randn(psum.shape, generator=generator, device=psum.device)
        for effect in self.output_effects:
            psum = effect.perturb_output(psum, generator)
        if observe:
            self._observe(psum, significance, cycle or 0)
        steps, _ = self._code_values(adc)
        if adc is not None:
            psum = self._convert_(psum, adc)
        # sum over subarrays in float32 (exact while below 2^24), then weight the slices in float64
        g, m, _ = psum.shape
        top = self._code_values(adc)[1] if adc is not None else self.column_peak * float(digits.max())
        total = psum.sum(0) if g * top < 2.0**24 else psum.double().sum(0)
        total = total.view(m, self.slices, self.columns).double()
        offset = torch.mv(self._code_offsets(adc, g).t(), self.slice_weights.cpu()).to(self.device)
        if adc is not None and cycle is not None:  # the calibrated mean error of this cycle's conversions
            offset -= g * float(self.mean_error[cycle] @ self.slice_weights.cpu())
        return torch.einsum("msc,s->mc", total, (self.slice_weights.cpu() * steps).to(self.device)) + offset


def build_array(weight: torch.Tensor, config: CimConfig, effects: Sequence[Any] = (),
                generator: torch.Generator | None = None, device: str | torch.device = "cpu") -> Any:
    """The programmed arrays of one layer under ``config.profile`` (``cimgraph`` or ``neurosim``)."""
    if config.profile == "neurosim":
        from .neurosim import NeuroSimArray

        return NeuroSimArray(weight, config, effects, generator, device)
    return CimArray(weight, config, effects, generator, device)
