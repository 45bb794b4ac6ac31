"""CIM layers for on-chip training: forward and backward through the mapped arrays, devices as weights.

A :class:`TrainLayer` wraps a Conv2d or Linear. Its weight parameter mirrors the conductances of the
layer's cells (one analog cell per weight, or a G+/G- pair), read through the update rule after
every update. The forward pass quantises weights and inputs (WAGE widths), then computes the
layer's product one of three ways (``adc``):

- ``none``: the exact product in float (ideal read-out, as NeuroSim V2's training wrapper);
- ``approx``: NeuroTorch's approximated ADC quantisation (seed 000 sec. 3-4): the analog sums of
  all the layer's subarrays are integrated first and quantised once, with the resolution of one
  subarray's ADC (the step of a ``bits``-bit ADC over one subarray's share of the calibrated range,
  i.e. 2^bits codes per subarray) widened by G_on/(G_on - G_off) because each column also carries
  the off-state current (the on/off ratio normalised by the number of arrays). The same rule
  quantises the backward product (errors through the transposed arrays). Straight-through gradient.
- ``exact``: the integer product through :class:`cimgraph.accuracy.CimArray` (bit-serial inputs,
  per-subarray ADC, shift-and-add), from the very CimConfig the mapping gives; with ``wl_error``
  set, the error product also runs through a transposed CimArray (the transposable array of seed
  001 sec. 5.2: errors drive the columns, rows are sensed), else in float. Weight gradients are the
  digital outer products (V2's weight-gradient unit). The ADC range is calibrated on the first
  batch of every epoch and held fixed in between.

Biases are digital and train with plain SGD. Grouped convolutions are not supported in training.
"""
from __future__ import annotations

import math
from typing import Any

import attrs
import torch
import torch.nn.functional as F
from torch import nn

from .device import TrainingError, UpdateRule
from .wage import activation_grid, on_backward, quantize_error_on_backward, symmetric_top, through

ADC_MODES = ("none", "approx", "exact")
CELL_SCHEMES = ("single", "pair")
POPU_MODES = ("LTP_only", "LTD_only", "LTPLTD_both")  # NeuroTorch Onchip_ParMode


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


@attrs.define
class UpdateStats:
    """What one update step did to one layer (sums over its weights, normalised units)."""

    delta_sum: float = 0.0
    delta_square: float = 0.0
    delta_abs: float = 0.0
    weights: int = 0
    cells: int = 0
    pulsed: float = 0.0
    pulses_ltp: float = 0.0
    pulses_ltd: float = 0.0


class ApproxAdc:
    """NeuroTorch's approximated ADC for one product: running peak, one quantisation of the integrated sum."""

    def __init__(self, bits: int, arrays: int, on_off_ratio: float):
        self.bits, self.arrays = bits, max(1, arrays)
        self.widen = on_off_ratio / (on_off_ratio - 1.0) if math.isfinite(on_off_ratio) else 1.0
        self.peak = 0.0

    def __call__(self, y: torch.Tensor, observe: bool = True) -> torch.Tensor:
        """Quantise ``y``; ``observe`` (training) first widens the calibrated peak to cover it."""
        with torch.no_grad():
            if observe:
                self.peak = max(self.peak, float(y.detach().abs().max()))
            if self.peak == 0:
                return y
            step = self.peak / (self.arrays * (2**self.bits - 1)) * self.widen
            top = math.ceil(self.peak / step)
            quantised = torch.round(y.detach() / step).clamp_(-top, top) * step
        return through(y, quantised)


class TrainLayer(nn.Module):
    """A Conv2d/Linear whose weights live in device cells and whose products go through the chip."""

    def __init__(self, module: nn.Module, name: str, rule: UpdateRule, *, config: Any = None, cells: str = "single",
                 headroom: float = 2.0, wl_weight: int = -1, wl_activate: int = -1, wl_error: int = -1,
                 adc: str = "none", adc_bits: int | None = None, on_off_ratio: float = math.inf,
                 columns: int = 128, pair_start: str = "low", generator: torch.Generator | None = None):
        super().__init__()
        if isinstance(module, nn.Conv2d):
            if module.groups != 1 or module.padding_mode != "zeros" or isinstance(module.padding, str):
                raise TrainingError(f"layer {name!r}: on-chip training supports dense zero-padded convolutions "
                                    f"(groups=1, numeric padding)")
        elif not isinstance(module, nn.Linear):
            raise TrainingError(f"layer {name!r}: expected nn.Conv2d or nn.Linear, got {type(module).__name__}")
        if adc not in ADC_MODES:
            raise TrainingError(f"adc: expected one of {ADC_MODES}, got {adc!r}")
        if cells not in CELL_SCHEMES:
            raise TrainingError(f"cells: expected one of {CELL_SCHEMES}, got {cells!r}")
        if adc == "exact" and (wl_weight == -1 or wl_activate == -1):
            raise TrainingError("adc='exact' reads integer weights and inputs: set wl_weight and wl_activate")
        if adc == "approx" and adc_bits is None:
            raise TrainingError("adc='approx' needs adc_bits (from the netlist's subarray ADC or given)")
        self.module, self.name, self.rule, self.config, self.cells = module, name, rule, config, cells
        self.wl_weight, self.wl_activate, self.wl_error = wl_weight, wl_activate, wl_error
        self.adc, self.adc_bits, self.columns, self.pair_start = adc, adc_bits, columns, pair_start
        weight = module.weight.detach()
        top = float(weight.abs().max()) * headroom
        self.range = 2.0 ** math.ceil(math.log2(top)) if top > 0 else 1.0  # power of two: exact rescaling
        self.input_peak, self.input_signed = 0.0, False
        rows = weight[0].numel()
        arrays = len(config.groups_for(rows)) if config is not None else 1
        self.forward_adc = ApproxAdc(adc_bits, arrays, on_off_ratio) if adc == "approx" else None
        # the transposed read sums over output channels, split across subarray columns
        self.backward_adc = (ApproxAdc(adc_bits, math.ceil(weight.shape[0] / columns), on_off_ratio)
                             if adc == "approx" and wl_error != -1 else None)
        self.exact_adcs: dict[str, Any] = {}
        self.steps = 0
        self.state = self._program(weight / self.range, generator)
        self.sync_weight()

    # -- cells ---------------------------------------------------------------------------------
    def _program(self, w: torch.Tensor, generator) -> dict[str, Any]:
        if self.rule.ideal and self.cells == "single":
            return {}
        w = w.double().clamp(-1, 1)
        if self.cells == "single":
            return {"single": self.rule.program((w + 1) / 2, generator)}
        # a pair starts where its update direction has room: low (LTP only), high (LTD only), middle (LTPLTD_both)
        plus, minus = w.clamp(min=0), (-w).clamp(min=0)
        if self.pair_start == "high":
            plus, minus = 1 - minus, 1 - plus
        elif self.pair_start == "middle":
            plus, minus = (1 + w) / 2, (1 - w) / 2
        return {"plus": self.rule.program(plus, generator), "minus": self.rule.program(minus, generator)}

    def normalised_weight(self) -> torch.Tensor:
        """Weights in [-1, 1] as the cells hold them."""
        if not self.state:
            return self.module.weight.detach() / self.range
        if self.cells == "single":
            return 2 * self.rule.conductance(self.state["single"]) - 1
        return self.rule.conductance(self.state["plus"]) - self.rule.conductance(self.state["minus"])

    def conductances(self) -> torch.Tensor:
        """Normalised conductances of all cells (0 = G_min, 1 = G_max)."""
        if not self.state:
            return (self.module.weight.detach() / self.range + 1) / 2
        return torch.cat([self.rule.conductance(s).flatten() for s in self.state.values()])

    def sync_weight(self) -> None:
        if self.state:
            self.module.weight.data.copy_((self.normalised_weight() * self.range).to(self.module.weight.dtype))

    def update(self, direction: torch.Tensor, alpha: float, scheme: Any, generator) -> UpdateStats:
        """Apply the desired change alpha x direction (weight units) through the cells; returns the stats."""
        weight = self.module.weight.data
        before = self.normalised_weight().double()
        if not self.state:  # the identity device (linear, continuous, no variation): exactly SGD's step
            weight.add_(direction, alpha=alpha).clamp_(-self.range, self.range)
            pulses = None
        else:
            wanted = (alpha * direction.double() / self.range)
            pulses, refreshed, due = [], [], None
            for key, dg in self._cell_changes(wanted, scheme).items():
                counts = scheme.pulses(dg, self.rule)
                self.rule.pulse(self.state[key], counts, generator)
                pulses.append(counts)
            self.steps += 1
            every = getattr(scheme, "refresh_every", 0)
            if self.cells == "pair" and scheme.mode != "LTPLTD_both" and every and self.steps % every == 0:
                refreshed, due = self.refresh(scheme.refresh_level, generator)
            self.sync_weight()
        delta = self.normalised_weight().double() - before
        stats = UpdateStats(float(delta.sum()), float((delta * delta).sum()), float(delta.abs().sum()),
                            delta.numel())
        if pulses is None:
            stats.cells, stats.pulsed = delta.numel(), float((delta != 0).sum())
        else:
            stats.cells = sum(p.numel() for p in pulses)
            stats.pulsed = float(sum(((p != 0) | (due if due is not None else False)).sum() for p in pulses))
            stats.pulses_ltp = float(sum(p.clamp(min=0).sum() for p in pulses + refreshed))
            stats.pulses_ltd = float(sum((-p).clamp(min=0).sum() for p in pulses + refreshed))
        return stats

    def refresh(self, level: float, generator) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        """Occasional RESET of one-direction G+/G- pairs (Burr et al., IEEE TED 62(11), 2015, sec. II: when a
        device of a pair nears saturation both are reset and the weight is reprogrammed onto one of them).
        Pairs whose moving device has passed ``level`` (LTP only: above it; LTD only: below 1 - level) get
        reset on both devices (one strong RESET / erase pulse to G_min, or SET to G_max for LTD only; applied
        as a full-range move, counted as one pulse), then the open-loop pulses that put w = g+ - g- back on
        one device. Returns the pulse counts (for the
        update statistics, so Delta_dist.csv and the training PPA see the extra writes) and the refreshed pairs."""
        g_plus, g_minus = self.rule.conductance(self.state["plus"]), self.rule.conductance(self.state["minus"])
        w = g_plus - g_minus
        low = self.pair_start == "low"
        due = torch.maximum(g_plus, g_minus) >= level if low else torch.minimum(g_plus, g_minus) <= 1 - level
        if not bool(due.any()):
            return [], None
        full_ltp, full_ltd = self.rule.levels or (1.0, 1.0)
        sign, full, steps = (1.0, full_ltd, full_ltp) if low else (-1.0, full_ltp, full_ltd)
        # LTP only: (g+, g-) -> (max(w, 0), max(-w, 0)); LTD only: (1 - max(-w, 0), 1 - max(w, 0))
        targets = {"plus": w.clamp(min=0), "minus": (-w).clamp(min=0)} if low else \
            {"plus": (-w).clamp(min=0), "minus": w.clamp(min=0)}
        applied = []
        for key, target in targets.items():
            reset = torch.where(due, torch.full_like(w, -sign * full), torch.zeros_like(w))
            program = target * steps
            program = torch.where(due, sign * (torch.round(program) if self.rule.levels else program), 0.0 * w)
            self.rule.pulse(self.state[key], reset, generator)
            self.rule.pulse(self.state[key], program, generator)
            applied += [torch.sign(reset), program]
        return applied, due

    def _cell_changes(self, wanted: torch.Tensor, scheme: Any) -> dict[str, torch.Tensor]:
        """Desired normalised conductance change per cell set for a desired weight change in [-1, 1] units."""
        if self.cells == "single":
            return {"single": wanted / 2}
        mode = scheme.mode
        if mode == "LTPLTD_both":
            return {"plus": wanted / 2, "minus": -wanted / 2}
        if mode == "LTP_only":
            return {"plus": wanted.clamp(min=0), "minus": (-wanted).clamp(min=0)}
        return {"plus": wanted.clamp(max=0), "minus": -(wanted.clamp(min=0))}

    # -- forward -------------------------------------------------------------------------------
    def _weight(self) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        """(weight used in the product, its integer codes or None, code step)."""
        w = self.module.weight
        if self.wl_weight == -1:
            return w, None, 1.0
        top = symmetric_top(self.wl_weight)
        step = self.range / top
        codes = torch.round(w.detach() / step).clamp(-top, top)
        return through(w, codes * step), codes, step

    def _input(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        if self.wl_activate == -1:
            return x, None, 1.0
        if self.training:
            with torch.no_grad():
                self.input_peak = max(self.input_peak, float(x.detach().abs().max()))
                self.input_signed = self.input_signed or bool((x.detach() < 0).any())
        if self.input_peak == 0:
            return x, torch.zeros_like(x), 1.0
        codes, step = activation_grid(x.detach(), self.wl_activate, self.input_peak, self.input_signed)
        return through(x, codes * step), codes, step

    def _product(self, x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        m = self.module
        if isinstance(m, nn.Conv2d):
            return F.conv2d(x, w, bias, m.stride, m.padding, m.dilation)
        return F.linear(x, w, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xq, x_codes, x_step = self._input(x)
        wq, w_codes, w_step = self._weight()
        if self.backward_adc is not None:
            adc = self.backward_adc
            xq = on_backward(xq, lambda grad: adc(grad).detach())
        if self.adc == "exact":
            y = _ExactProduct.apply(xq, wq, self, x_codes, x_step, w_codes, w_step)
        elif self.adc == "none" and self.wl_error == -1:  # torch's own layer arithmetic (bit-exact SGD)
            return self._product(xq, wq, self.module.bias)
        else:
            y = self._product(xq, wq)
            if self.forward_adc is not None:
                y = self.forward_adc(y, self.training)
        bias = self.module.bias
        if bias is not None:
            y = y + (bias.view(1, -1, 1, 1) if y.dim() == 4 else bias)
        return quantize_error_on_backward(y, self.wl_error)

    # -- exact read-out through CimArray --------------------------------------------------------
    def _array(self, codes: torch.Tensor, config: Any, key: str, inputs: list[torch.Tensor], signed: bool) -> Any:
        """A CimArray of integer ``codes`` (outputs, rows); its ADC calibrated on ``inputs`` when unset."""
        from ..accuracy.cim_layer import CimArray

        array = CimArray(codes.double().cpu(), config, (), None, inputs[0].device)
        if key in self.exact_adcs:
            array.adc = self.exact_adcs[key]
        else:
            if config.adc_bits is not None:
                for batch in inputs:
                    array.matmul(batch, observe=True, signed=signed)
            array.calibrate_adc()
            self.exact_adcs[key] = array.adc
        return array

    def exact_forward(self, x_codes: torch.Tensor, w_codes: torch.Tensor) -> torch.Tensor:
        m = self.module
        config = attrs.evolve(self.config, weight_bits=self.wl_weight, input_bits=self.wl_activate,
                              bits_per_cell=self.wl_weight, cells_per_weight=1, adc_bits=self.adc_bits)
        flat = w_codes.reshape(w_codes.shape[0], -1)
        if isinstance(m, nn.Conv2d):
            k, s, p, d = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding), _pair(m.dilation)
            cols = F.unfold(x_codes, k, d, p, s)
            h = (x_codes.shape[2] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
            w = (x_codes.shape[3] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
            array = self._array(flat, config, "forward", [cols], self.input_signed)
            acc = array.matmul(cols, fast=True, signed=self.input_signed)
            return acc.permute(0, 2, 1).reshape(x_codes.shape[0], -1, h, w)
        cols = x_codes.reshape(-1, x_codes.shape[-1], 1)
        array = self._array(flat, config, "forward", [cols], self.input_signed)
        return array.matmul(cols, fast=True, signed=self.input_signed).reshape(*x_codes.shape[:-1], -1)

    def exact_backward(self, e: torch.Tensor, w_codes: torch.Tensor, input_shape: torch.Size) -> torch.Tensor:
        """Error product through the transposed arrays, ``wl_error``-bit errors in sign-magnitude.

        The positive and the negative errors drive the columns in two passes (unsigned magnitudes of
        wl_error - 1 bits) and the digital periphery subtracts them, so a small error is not buried
        under an offset-binary input's common-mode sum in the ADC range.
        """
        from .wage import shift

        top = float(e.abs().max())
        if top == 0:
            return torch.zeros(input_shape, dtype=e.dtype, device=e.device)
        steps = 2.0 ** (self.wl_error - 1)
        e_step = shift(top) / steps
        e_codes = torch.round(e / e_step).clamp(-(steps - 1), steps - 1)
        config = attrs.evolve(self.config, rows=self.columns, row_groups=None, column_groups=None,
                              weight_bits=self.wl_weight, input_bits=max(1, self.wl_error - 1),
                              bits_per_cell=self.wl_weight, cells_per_weight=1, adc_bits=self.adc_bits)
        flat = w_codes.reshape(w_codes.shape[0], -1).t()  # (rows, outputs): outputs drive the columns
        m = self.module
        conv = isinstance(m, nn.Conv2d)
        cols = e_codes.reshape(e.shape[0], e.shape[1], -1) if conv else e_codes.reshape(-1, e.shape[-1], 1)
        passes = [cols.clamp(min=0), (-cols).clamp(min=0)]
        array = self._array(flat, config, "backward", passes, False)
        acc = array.matmul(passes[0], fast=True, signed=False) - array.matmul(passes[1], fast=True, signed=False)
        if conv:
            k, s, p, d = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding), _pair(m.dilation)
            out = F.fold(acc.permute(0, 2, 1), input_shape[-2:], k, d, p, s)
        else:
            out = acc.reshape(input_shape)
        return out.to(e.dtype) * e_step

    def new_epoch(self) -> None:
        """Recalibrate the exact path's ADC ranges on the next batch (NeuroSim's data-driven range)."""
        self.exact_adcs.clear()

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, rule={self.rule.name}, cells={self.cells}, range={self.range:g}, "
                f"wl_weight={self.wl_weight}, wl_activate={self.wl_activate}, wl_error={self.wl_error}, "
                f"adc={self.adc}({self.adc_bits})")


class _ExactProduct(torch.autograd.Function):
    """Integer product through CimArray (forward) and the transposed arrays (backward, with wl_error)."""

    @staticmethod
    def forward(ctx, xq, wq, layer, x_codes, x_step, w_codes, w_step):
        ctx.layer, ctx.w_codes, ctx.scale = layer, w_codes, w_step
        ctx.save_for_backward(xq, wq)
        acc = layer.exact_forward(x_codes, w_codes)
        return (acc * (x_step * w_step)).to(xq.dtype)

    @staticmethod
    def backward(ctx, grad):
        xq, wq = ctx.saved_tensors
        layer, m = ctx.layer, ctx.layer.module
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            if layer.wl_error != -1:
                grad_x = layer.exact_backward(grad, ctx.w_codes, xq.shape) * ctx.scale
            elif isinstance(m, nn.Conv2d):
                grad_x = torch.nn.grad.conv2d_input(xq.shape, wq, grad, m.stride, m.padding, m.dilation)
            else:
                grad_x = grad @ wq
        if ctx.needs_input_grad[1]:
            if isinstance(m, nn.Conv2d):
                grad_w = torch.nn.grad.conv2d_weight(xq, wq.shape, grad, m.stride, m.padding, m.dilation)
            else:
                grad_w = grad.reshape(-1, grad.shape[-1]).t() @ xq.reshape(-1, xq.shape[-1])
        return grad_x, grad_w, None, None, None, None, None
