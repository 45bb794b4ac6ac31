"""The ``neurosim`` semantics profile: one layer read out as NeuroSim V1.4's PyTorch wrapper does it.

Facts of DNN+NeuroSim V1.4's inference layers (``QConv2d`` / ``QLinear``, hardware path; issue 15 lists
them, seed 001 sec. 7 describes the wrapper), re-expressed in cimgraph's integer domain and cell-level
units (one unit = one level step (G_on - G_off)/(L - 1); L = 2^bits_per_cell, R = on/off ratio):

- weights w = q / 2^(b-1) become the code X = round((2^b - 1)/2 (w + 1)) (round half to even, as
  ``torch.round``), sliced LSB first into cells: r_k = X mod L, X <- round((X - r_k) / L);
- a data cell of digit r has conductance r + (L-1)/(R-1) (G_off maps to level 0); every slice of every
  subarray is read against a dummy column at mid conductance (G_on + G_off)/2, i.e. (L-1)/2 + (L-1)/(R-1);
  the wrapper's scale 2/(1 - 1/R) and its final 1/2^b make the effective weight (2X - (2^b - 1)) / 2^b,
  here (2X - (2^b - 1))/2 integer units: q shrunk by half a step towards zero, 0 read as +1/2;
- the ADC (``LinearQuantizeOut``) converts each conversion tensor (one subarray x slice x input bit:
  every sample, output position and column of the layer) on its own range: 2^bits bins of width
  (max - min)/2^bits from that tensor's min, values floored to the bin's lower edge (index =
  clamp(floor((x - min)/step), 0, 2^bits - 1), value = index step + min: no half step added), the
  top bin closed; data and dummy separately, the codes subtracted after scaling
  (quantization_cpu_np_infer.py: ``outputSP - outputD``). A tensor with max = min passes unchanged
  (NeuroSim divides by zero there and returns NaN);
- ties: partial sums are lattice points (active rows x cell states) and the bin edges k/2^bits of a
  lattice span, so many sums sit exactly on an edge (a dummy value n c is on one whenever 2^bits n
  / n_max is whole). ``arithmetic="exact"`` (default) floors as exact arithmetic does, a sum on an
  edge keeps its own code. NeuroSim computes in float32, where rounding in the column sums breaks
  these ties either way (issue 15's figures are those of its loop summed by a float32 ``F.conv2d``
  on the CPU, docs/accuracy.md): ``float32`` emulates that (the wrapper's states (1 - 1/R) r + (L-1)/R
  and dummy (L-1)(1 + 1/R)/2 evaluated in float32, G_on = 1; sums, min/max, quotient and floor in
  float32), ``tf32`` the Ampere-and-later default for cuDNN convolutions
  (``torch.backends.cudnn.allow_tf32``: states truncated to a 10-bit
  mantissa, sums exact in the float32 accumulator, conversion in float32). In float32, which ties
  break depends on the summation order (here ``torch.bmm``'s), so that mode gives float32's kind of
  error, not NeuroSim's bits; TF32's exact sums do not depend on it;
- variation (the ``variation`` effect's sigma) is redrawn for every input bit, slice and forward pass:
  each data cell reads (r + G_off) (1 + sigma N(0, 1)); the dummy column has none;
- retention (the ``drift`` effect: time t, coefficient v, scenario) first on w, then on every slice
  digit, as V1.4's ``Retention``: x t^(v s) clamped to that tensor's own min..max, with s = sign(target -
  (x+1)/2) (it assumes x in [-1, 1]; ``max``/``min``/``intermediate`` target 1/0/target) or s drawn from
  {-1, 0, 1} per cell and read (``random``). The next digit is taken from the retained remainder.

NeuroSim V1.5 options that sit here too: ``parallel_read`` (the conversion tensor is one read of that many
rows, ``CimConfig.groups_for``), scalar output noise and the per-level output-noise table (added to the
data partial sums before the ADC). Inputs are cimgraph's calibrated integers; signed inputs are offset
to unsigned and the offset's product with the effective weights is removed digitally (NeuroSim takes
non-negative inputs only). Valid for the linear ADC; ``adc_bits`` None is an ideal ADC.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..errors import AccuracyError
from .cim_layer import gather_rows, row_index, unsigned_inputs
from .config import CimConfig

PROFILE_EFFECTS = ("variation", "drift", "output_noise", "output_noise_table")


TIE = 1e-9  # bins: a float64 quotient this close below a whole number is an exact tie rounded down


def linear_quantize_out(values: torch.Tensor, bits: int, dims: tuple[int, ...] | None = None,
                        exact: bool = True) -> torch.Tensor:
    """NeuroSim's per-tensor min/max ADC: 2^bits bins of width (max - min)/2^bits, floored. In place.

    As V1.4's ``wage_quantizer.LinearQuantizeOut``: index = clamp(floor((x - min)/step), 0, 2^bits - 1),
    value = index step + min (the bin's lower edge; no half step is added back).

    ``dims``: the dimensions one conversion tensor spans (default: all); every other index is a
    separate conversion with its own range. ``exact``: a value on a bin edge keeps that bin's code
    as in exact arithmetic (lattice sums are within 1e-13 of an edge or at least 1e-6 bins from it);
    otherwise the quotient is floored as computed, in the tensor's own dtype (NeuroSim's float32).
    """
    dims = tuple(range(values.dim())) if dims is None else dims
    low = values.amin(dim=dims, keepdim=True)
    width = (values.amax(dim=dims, keepdim=True) - low) / 2**bits
    safe = torch.where(width > 0, width, torch.ones_like(width))  # max = min: (x - low) = 0, stays x
    index = values.sub_(low).div_(safe)
    if exact:
        index.add_(TIE)
    return index.floor_().clamp_(0, 2**bits - 1).mul_(width).add_(low)


def tf32(x: torch.Tensor) -> torch.Tensor:
    """x read by a TF32 tensor core: float32 with the mantissa truncated to its first 10 bits (PyTorch
    notes, "TensorFloat-32 (TF32) on Ampere devices": "only the first 10 bits of the input mantissa are read")."""
    bits = x.to(torch.float32).contiguous().view(torch.int32)
    return (bits & ~((1 << 13) - 1)).view(torch.float32)


def retention(x: torch.Tensor, drift: Any, generator: torch.Generator | None, floor: float | None = None) -> torch.Tensor:
    """NeuroSim V1.4 ``Retention``: x t^(v s), clamped to the tensor's own min..max (see module doc).

    ``floor``: a value the tensor also holds (the wrapper's masked remainder tensors hold zeros
    outside the subarray, so their minimum is at most 0)."""
    if drift is None or drift.time <= drift.t0 or drift.coefficient == 0:
        return x
    if drift.scenario == "random":
        device = generator.device if generator is not None else x.device
        sign = torch.randint(-1, 2, x.shape, generator=generator, device=device).to(x.device, x.dtype)
    else:
        target = {"max": 1.0, "min": 0.0}.get(drift.scenario, drift.target)
        sign = torch.sign(target - (x + 1) / 2)
    ratio = (drift.time / drift.t0) ** (drift.coefficient * sign)
    low = float(x.min()) if floor is None else min(floor, float(x.min()))
    return (x * ratio).clamp(low, max(float(x.max()), low))


def _randn(shape: Any, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal float64 draws on the generator's device (CPU without one)."""
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.randn(shape, generator=generator, dtype=torch.float64, device=device)


class NeuroSimArray:
    """A layer's weights read out with the ``neurosim`` profile; the interface of ``CimArray``."""

    def __init__(self, weight: torch.Tensor, config: CimConfig, effects: Sequence[Any] = (),
                 generator: torch.Generator | None = None, device: str | torch.device = "cpu"):
        for effect in effects:
            config = effect.configure(config)
        unknown = sorted({e.name for e in effects} - set(PROFILE_EFFECTS))
        if unknown:
            raise AccuracyError(f"profile 'neurosim' models {', '.join(PROFILE_EFFECTS)}; got effect(s) {unknown}")
        if config.adc != "linear":
            raise AccuracyError("profile 'neurosim': the wrapper's ADC is linear (LinearQuantizeOut); "
                                f"got adc={config.adc!r}")
        self.config, self.effects, self.device = config, tuple(effects), torch.device(device)
        self.variation = sum(e.sigma for e in effects if e.name == "variation")
        self.drift = next((e for e in effects if e.name == "drift"), None)
        self.output_sigma = sum(e.output_sigma(config) for e in effects)
        self.output_effects = tuple(e for e in effects if getattr(e, "perturbs_output", False))
        out_features, in_rows = weight.shape
        self.out_features, self.in_rows = out_features, in_rows
        index = row_index(config, in_rows)
        self.group_count, self.group_rows = index.shape
        self.index = index.flatten().to(self.device)
        self.present = (index < in_rows).to(torch.float64).to(self.device)  # (G, R)
        self.levels, self.slices = config.levels, config.cells_per_weight
        ratio = config.on_off_ratio
        self.off = 0.0 if ratio == float("inf") else (self.levels - 1) / (ratio - 1)
        self.dummy = (self.levels - 1) / 2 + self.off
        self.weight = weight.detach().to(torch.float64).cpu() / 2 ** (config.weight_bits - 1)  # w in [-1, 1]
        self.half = (2**config.weight_bits - 1) / 2
        nominal = self._code(self.weight)
        self.effective = (nominal - self.half).to(self.device)  # (O, I): NeuroSim's weight in integer units
        self.weight_sums = self.effective.sum(1)
        # float modes read states in NeuroSim's units (G_on = 1, G_off = 1/R: one level = unit) and float32
        self.lower = 0.0 if ratio == float("inf") else 1.0 / ratio
        self.exact = config.arithmetic == "exact"
        self.unit = 1.0 if self.exact else 1.0 - self.lower
        self.static = self.variation == 0 and (self.drift is None or self.drift.scenario != "random")
        self.digits = self._digits(generator) if self.static else None
        self.adc = None  # converts per conversion tensor: nothing to calibrate

    def _code(self, w: torch.Tensor) -> torch.Tensor:
        return torch.round(self.half * (w + 1))

    def _digits(self, generator: torch.Generator | None) -> torch.Tensor:
        """Slice digits (S, G, R, O) of the code X, with V1.4 retention on w and on every remainder."""
        placed_index = self.index.cpu().view(self.group_count, self.group_rows)
        w = retention(self.weight, self.drift, generator)
        code = torch.cat([self._code(w).t(), torch.zeros(1, self.out_features, dtype=w.dtype)])[placed_index]
        digits = []
        for _ in range(self.slices):
            remainder = torch.fmod(code, self.levels)
            retained = torch.stack([retention(r, self.drift, generator, 0.0) for r in remainder]) \
                if self.drift is not None else remainder
            code = torch.round((code - retained) / self.levels)
            digits.append(retained)
        return torch.stack(digits).to(self.device)

    # -- the CimArray interface ----------------------------------------------------------------------
    def cycle_peak(self) -> float:
        return float(self.group_rows * (self.levels - 1 + self.off))

    def can_fold(self) -> bool:
        return (self.config.adc_bits is None and self.static and self.exact and self.output_sigma == 0
                and not self.output_effects)

    def calibrate_adc(self) -> None:
        """Nothing to calibrate: every conversion tensor sets its own range."""

    def matmul(self, x: torch.Tensor, generator: torch.Generator | None = None, fast: bool = False,
               observe: bool = False, signed: bool | None = None) -> torch.Tensor:
        """x (N, I, P) integers -> (N, P, O) float64, read out as NeuroSim's wrapper does."""
        n, _, positions = x.shape
        x, offset = unsigned_inputs(x, self.in_rows, self.config.input_bits, signed, self.device, torch.float64)
        if fast and self.can_fold():
            acc = torch.einsum("nip,oi->npo", x, self.effective).reshape(n * positions, self.out_features)
        else:
            acc = self._bit_serial(gather_rows(x, self.index, self.group_count, self.group_rows), generator)
        if offset:
            acc = acc - offset * self.weight_sums.view(1, -1)
        return acc.view(n, positions, self.out_features)

    def _bit_serial(self, gathered: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Every input bit x slice x subarray converted as one tensor; the dummy column likewise."""
        bits, o, s, g = self.config.adc_bits, self.out_features, self.slices, self.group_count
        arithmetic = self.config.arithmetic
        dtype = torch.float32 if arithmetic == "float32" else torch.float64  # tf32: exact sums, then float32
        codes = gathered.to(torch.int64)
        present = self.present.view(g, self.group_rows, 1)
        # float modes: the wrapper's dummyP (L-1)(1 + 1/R)/2 and remainderQ (1 - 1/R) r + (L-1)/R, in float32
        dummy_cells = present * (self.dummy if self.exact else (self.levels - 1) * (1 + self.lower) / 2)
        if arithmetic == "tf32":
            dummy_cells = tf32(dummy_cells).double()
        scale = self.levels ** torch.arange(s, dtype=torch.float64, device=self.device) / self.unit
        acc = torch.zeros(gathered.shape[1], o, dtype=torch.float64, device=self.device)
        for z in range(self.config.input_bits):
            bit = ((codes >> z) & 1).to(dtype)  # (G, M, R)
            digits = self.digits if self.static else self._digits(generator)
            states = digits + self.off if self.exact else \
                digits.float() * (1 - self.lower) + (self.levels - 1) * self.lower
            cells = states.permute(1, 2, 0, 3)  # (G, R, S, O)
            if self.variation > 0:
                noise = _randn(cells.shape, generator).to(self.device, cells.dtype)
                cells = cells * (1 + self.variation * noise)
            cells = (cells * present.unsqueeze(-1)).reshape(g, self.group_rows, s * o)
            if arithmetic == "tf32":
                cells = tf32(cells).double()
            data = self._perturb(torch.bmm(bit, cells.to(dtype)), generator).view(g, -1, s, o)  # (G, M, S, O)
            dummy = torch.bmm(bit, dummy_cells.to(dtype)).view(g, -1, 1, 1)  # same in every slice
            if arithmetic == "tf32":
                data, dummy = data.float(), dummy.float()
            if bits is not None:
                linear_quantize_out(data, bits, (1, 3), self.exact)  # one range per subarray and slice
                linear_quantize_out(dummy, bits, (1, 2, 3), self.exact)
            acc += 2.0**z * torch.einsum("gmso,s->mo", data.double().sub_(dummy.double()), scale)
        return acc

    def _perturb(self, data: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if self.output_sigma > 0:
            data = data + self.output_sigma * _randn(data.shape, generator).to(data.device)
        for effect in self.output_effects:
            data = effect.perturb_output(data, generator)
        return data
