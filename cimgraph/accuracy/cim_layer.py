"""One layer's weight matrix programmed into CIM subarrays, and its bit-serial read-out.

Follows seed 001 sec. 7 (Fig. 22-25) and sec. 5.4(6)/(8):

- integer weights q in +-(2^(b-1)-1) are stored as cell levels. ``dummy`` and ``none`` store the
  offset-binary code u = q + 2^(b-1) sliced over ``cells_per_weight`` cells of ``bits_per_cell``
  (LSB slice first); ``dummy`` adds one reference column per subarray and slice holding the code of
  weight zero (its cells at the nominal state of that slice), so subtracting it cancels the
  off-state current and the offset; ``none`` subtracts the offset digitally from the known input
  sum and keeps the off-state error. ``differential`` stores max(q,0) and max(-q,0) in two columns.
- a cell at level l has state off + l (on - off)/(L-1) (S or F), then every effect's ``program``;
- inputs are applied ``dac_bits`` at a time (bit-serial for 1); each cycle every subarray sums
  input x state over its row group per column; read and output noise are added; the ADC converts
  each column (data and reference separately, as NeuroSim does); the digital periphery subtracts
  the reference, shifts and adds over cell slices, adds over subarrays and over input cycles.

Vectorised as one batched matmul per input cycle over (row group) x (samples*positions, rows) x
(rows, slices*columns); padded rows of short groups hold no cell. Signed inputs are offset to
unsigned and the offset's contribution (known weight column sums) is removed digitally.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..errors import AccuracyError
from .adc import LinearAdc, NonlinearAdc, linear_adc, nonlinear_adc
from .config import CimConfig

SAMPLES_PER_BATCH = 20_000
BFLOAT16_MATMUL = True  # exact-integer bfloat16 matmuls where they are provably exact  # partial sums kept per forward for ADC calibration


class CimArray:
    """Programmed subarrays of one layer; ``matmul`` computes the integer-domain product."""

    def __init__(self, weight: torch.Tensor, config: CimConfig, effects: Sequence[Any] = (),
                 generator: torch.Generator | None = None, device: str | torch.device = "cpu"):
        for effect in effects:
            config = effect.configure(config)
        self.config, self.effects, self.device = config, tuple(effects), torch.device(device)
        out_features, in_rows = weight.shape
        self.out_features, self.in_rows = out_features, in_rows
        groups = config.groups_for(in_rows)
        self.group_count, self.group_rows = len(groups), max(len(g) for g in groups)
        index = torch.full((self.group_count, self.group_rows), in_rows, dtype=torch.long)
        for i, rows in enumerate(groups):
            index[i, : len(rows)] = torch.tensor(rows, dtype=torch.long)
        self.index = index.flatten().to(self.device)
        present = (index < in_rows).to(torch.float64)  # (G, R): 0 on padding rows
        q = weight.detach().to(torch.float64).cpu()
        self.weight_sums = q.sum(1).to(self.device)  # for the signed-input offset correction
        placed = torch.cat([q.t(), torch.zeros(1, out_features, dtype=torch.float64)])[index]  # (G, R, O)
        levels = self._levels(placed)  # (S, G, R, C)
        span = config.state_on - config.state_off
        self.unit = span / (config.levels - 1)  # state of one level step
        states = config.state_off + levels * self.unit
        for effect in self.effects:
            states = effect.program(states, levels, config, generator)
        states = states * present[None, :, :, None]
        self.slices, self.columns = levels.shape[0], levels.shape[-1]
        self.conductance = self._flat(states / self.unit)  # (G, R, S*C) in level units
        self.whole_levels = bool(torch.equal(self.conductance, self.conductance.round()))
        self.column_peak = float(self.conductance.sum(1).max())
        variance = None
        for effect in self.effects:
            extra = effect.read_variance(states, config)
            if extra is not None:
                variance = extra if variance is None else variance + extra
        self.read_variance = None if variance is None else self._flat(variance * present[None, :, :, None]
                                                                          / self.unit**2)
        self.output_sigma = sum(effect.output_sigma(config) for effect in self.effects)
        cpb = config.bits_per_cell
        self.slice_weights = torch.tensor([2.0 ** (k * cpb) for k in range(self.slices)],
                                          dtype=torch.float64, device=self.device)
        self.adc: LinearAdc | NonlinearAdc | None = None
        self.observed_peak = 0.0
        self.observed: list[torch.Tensor] = []

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
        """Largest partial sum one input cycle can put on a column of the programmed array."""
        digit = 2 ** min(self.config.dac_bits, self.config.input_bits) - 1
        return self.column_peak * digit

    def can_fold(self) -> bool:
        """Whether the input-cycle loop may be folded: the ADC cannot clip or round any cycle's sum.

        Proof from the programmed array: every cycle's column sum is at most ``cycle_peak`` (all
        digits at their maximum), and the ADC converts every integer up to it exactly. Exact when
        the states are whole levels; otherwise folding skips the ADC's rounding to one level.
        """
        if self.adc is None:
            return True
        return self.adc.lossless_below(self.cycle_peak())

    def calibrate_adc(self) -> None:
        """Fix the ADC from the config and the partial sums observed since programming."""
        config = self.config
        if config.adc_bits is None:
            self.adc = None
        elif config.adc == "nonlinear":
            if not self.observed:
                raise AccuracyError("non-linear ADC: run calibration batches before reading")
            self.adc = nonlinear_adc(config.adc_bits, torch.cat(self.observed))
        else:
            full = self.cycle_peak() if config.adc_range == "full" else self.observed_peak
            if config.adc_range == "calibrated" and not self.observed:
                raise AccuracyError("calibrated ADC range: run calibration batches before reading")
            self.adc = linear_adc(config.adc_bits, full)
        self.observed = []

    def matmul(self, x: torch.Tensor, generator: torch.Generator | None = None, fast: bool = False,
               observe: bool = False, signed: bool | None = None) -> torch.Tensor:
        """Integer product x @ q^T through the arrays: x (N, I, P) integers -> (N, P, O) float64.

        ``signed`` inputs (two's complement; detected when None) are offset to unsigned first.
        ``observe`` records partial sums for ADC calibration (the ADC is bypassed meanwhile).
        """
        config = self.config
        n, rows, positions = x.shape
        if rows != self.in_rows:
            raise AccuracyError(f"CIM layer: expected {self.in_rows} input rows, got {rows}")
        x = x.to(self.device, torch.float32)
        signed = bool((x < 0).any()) if signed is None else signed
        offset = 2.0 ** (config.input_bits - 1) if signed else 0.0
        if signed:
            x = x + offset
        padded = torch.cat([x, x.new_zeros(n, 1, positions)], dim=1)
        gathered = padded.index_select(1, self.index).view(n, self.group_count, self.group_rows, positions)
        gathered = gathered.permute(1, 0, 3, 2).reshape(self.group_count, n * positions, self.group_rows)
        adc = None if observe else self.adc
        dac = config.dac_bits
        cycles = -(-config.input_bits // dac)
        # bfloat16 holds every integer up to 256: exact when every column sum is a whole number <= 256
        digit_top = 2.0**dac - 1
        small = self.whole_levels and digit_top * self.column_peak <= 256 and self.read_variance is None
        operand_dtype = torch.bfloat16 if small and BFLOAT16_MATMUL else torch.float32
        if fast and not observe and self.can_fold():
            operand_dtype = torch.float32
            digit_sets = [(gathered, 1.0, self._folded_square(gathered, cycles, dac), cycles)]
            top, adc = 2.0**config.input_bits - 1, None
        else:
            codes = gathered.to(torch.int32)
            mask = 2**dac - 1
            digit_sets = [(((codes >> (j * dac)) & mask).to(operand_dtype), 2.0 ** (j * dac), None, 1)
                          for j in range(cycles)]
            top = 2.0**dac - 1
        operand = self.conductance.to(operand_dtype)
        acc = torch.zeros(n * positions, self.columns, dtype=torch.float64, device=self.device)
        for digits, weight, squares, span in digit_sets:
            acc += weight * self._cycle(digits, operand, squares, span, dac, adc, generator, observe)
        o = self.out_features
        acc = acc if config.reference == "none" else acc[:, :o] - acc[:, o:]
        if config.reference == "none":
            acc -= 2.0 ** (config.weight_bits - 1) * x.double().sum(1).reshape(-1, 1)
        if signed:
            acc -= offset * self.weight_sums.view(1, -1)
        return acc.view(n, positions, o)

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

    def _cycle(self, digits, operand, squares, span, dac, adc, generator, observe) -> torch.Tensor:
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
        if observe:
            self.observed_peak = max(self.observed_peak, float(psum.max()))
            flat = psum.flatten()
            self.observed.append(flat[:: max(1, flat.numel() // SAMPLES_PER_BATCH)].double().cpu())
        step = 1.0
        if isinstance(adc, LinearAdc):
            step = adc.step
            if step != 1.0:
                psum.div_(step)
            adc.codes_of(psum)
        elif isinstance(adc, NonlinearAdc):
            psum = adc.convert(psum)
        # sum over subarrays in float32 (exact while below 2^24), then weight the slices in float64
        g, m, _ = psum.shape
        top = (max(adc.levels) if isinstance(adc, NonlinearAdc) else 2**adc.bits - 1) if adc is not None \
            else self.column_peak * float(digits.max())
        total = psum.sum(0) if g * top < 2.0**24 else psum.double().sum(0)
        total = total.view(m, self.slices, self.columns).double()
        return torch.einsum("msc,s->mc", total, self.slice_weights * step)
