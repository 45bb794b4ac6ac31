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

Vectorised without loops over columns, slices or cycles. Noise-free read-outs (blocked bit-serial,
folded) are in :mod:`cimgraph.accuracy.readout`, the ADC's conversion of partial sums in
:mod:`cimgraph.accuracy.conversion`. With read or output noise, and for ADC calibration, the read-out
here goes one whole cycle at a time so the noise draws keep their order. Padded rows of short groups
hold no cell. Signed inputs are offset to unsigned and the offset's contribution (known weight column
sums) is removed digitally.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..errors import AccuracyError
from . import readout
from .adc import LinearAdc, NonlinearAdc, SlicedAdc, linear_adc, nonlinear_adc
from .config import CimConfig
from .conversion import AdcConversion

SAMPLES_PER_BATCH = 20_000  # partial sums kept per forward for ADC calibration


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


class CimArray(AdcConversion, readout.NoiseFreeReadout):
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

    # -- cycle bounds and ADC calibration ---------------------------------------------------
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

    # -- read-out (noise-free paths in readout.NoiseFreeReadout) -----------------------------
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

    # -- per-cycle read-out: noise draws in order, ADC calibration ---------------------------
    def _serial_per_cycle(self, gathered, cycles, dac, adc, generator, observe) -> torch.Tensor:
        """Bit-serial read-out, one whole input cycle at a time (noise draws and ADC calibration)."""
        codes = gathered.to(torch.int32)
        small = self.whole_levels and (2.0**dac - 1) * self.column_peak <= 256 and self.read_variance is None
        operand_dtype = torch.bfloat16 if small and readout.BFLOAT16_MATMUL else torch.float32
        operand = self.conductance.to(operand_dtype)
        acc = torch.zeros(gathered.shape[1], self.columns, dtype=torch.float64, device=self.device)
        for j in range(cycles):
            digits = ((codes >> (j * dac)) & (2**dac - 1)).to(operand_dtype)
            acc += 2.0 ** (j * dac) * self._cycle(digits, operand, None, 1, dac, adc, generator, observe,
                                                  significance=2.0 ** (j * dac), cycle=j)
        return acc

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
