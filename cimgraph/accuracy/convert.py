"""Swap a model's Conv2d/Linear layers for CIM wrappers that keep torch's module structure.

A :class:`CimLayer` runs in one of three modes: ``float`` (the original layer), ``quant`` (the
fixed-point model: integer weights and inputs, exact integer product in float64, rescaled) and
``cim`` (the same integers through the programmed subarrays). All three share the calibrated
scales, so the quantized and CIM outputs are directly comparable.

A grouped convolution (depthwise when groups = C_in) runs on the chip as its equivalent dense
matrix over all C_in*k*k unfold rows, zero off the block diagonal, placed as the mapping packs it
(:class:`BlockDiagonalArrays`): the subarrays holding the same output channels form one CimArray
over just their rows and columns, whose off-diagonal cells hold the code of weight zero (so finite
on/off ratios, dummy columns and device effects act on them as on the chip) and whose absent
columns have no cells at all.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping as TypingMapping, Sequence

import attrs
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AccuracyError
from .cim_layer import CimArray, build_array
from .config import CimConfig
from .quantize import RangeObserver, quantize_activation, quantize_weight, weight_scale

MODES = ("float", "quant", "cim")


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


class BlockDiagonalArrays:
    """The subarrays of a block-diagonal (grouped) weight matrix, one :class:`CimArray` per set of row
    groups that hold the same output channels (``config.column_groups``).

    ``dense`` (outputs, rows) integer weights with the block-diagonal zeros; ``mask`` marks the weights
    that are not structurally zero, each of which must sit in some subarray. ``matmul`` takes the full
    unfolded input (N, rows, P) and adds each part's outputs into its columns. The ADC is one design per
    layer, as for a dense layer: calibrated on the partial sums of all parts together.
    """

    def __init__(self, dense: torch.Tensor, mask: torch.Tensor, config: CimConfig, effects: Sequence[Any] = (),
                 generator: torch.Generator | None = None, device: str | torch.device = "cpu", name: str = ""):
        outputs, rows = dense.shape
        groups = attrs.evolve(config, parallel_read=None).groups_for(rows)  # the subarrays; reads split later
        columns = config.column_groups or [tuple(range(outputs))] * len(groups)
        sets: dict[tuple[int, ...], list[list[int]]] = {}
        for group, held in zip(groups, columns):
            if len(set(held)) != len(held) or min(held, default=0) < 0 or max(held, default=0) >= outputs:
                raise AccuracyError(f"layer {name!r}: a column group must list distinct output channels "
                                    f"0..{outputs - 1}, got {list(held)[:8]}...")
            sets.setdefault(tuple(held), []).append(group)
        self.config, self.device = config, torch.device(device)
        covered = torch.zeros(outputs, rows, dtype=torch.bool)
        local = torch.full((rows,), -1, dtype=torch.long)
        self.parts: list[tuple[torch.Tensor, torch.Tensor, CimArray]] = []
        for held, row_groups in sets.items():
            row_index = torch.tensor([r for g in row_groups for r in g], dtype=torch.long)
            column_index = torch.tensor(held, dtype=torch.long)
            local[row_index] = torch.arange(len(row_index))
            part = attrs.evolve(config, row_groups=[local[torch.tensor(g)].tolist() for g in row_groups],
                                column_groups=None)
            covered[column_index.view(-1, 1), row_index.view(1, -1)] = True
            array = build_array(dense[column_index][:, row_index], part, effects, generator, device)
            self.parts.append((row_index.to(self.device), column_index.to(self.device), array))
        missing = mask & ~covered
        if bool(missing.any()):
            o, r = (int(i) for i in missing.nonzero()[0])
            raise AccuracyError(f"layer {name!r}: weight (output {o}, row {r}) is in no subarray; each row group's "
                                f"column group must hold every output channel its input rows feed")
        self.outputs = outputs
        self.arrays = [array for _, _, array in self.parts]
        self.group_count = sum(a.group_count for a in self.arrays)
        self.group_rows = max(a.group_rows for a in self.arrays)

    @property
    def adc(self) -> Any:
        return self.arrays[0].adc

    def cycle_peak(self) -> float:
        return max(a.cycle_peak() for a in self.arrays)

    def can_fold(self) -> bool:
        return all(a.can_fold() for a in self.arrays)

    def calibrate_adc(self) -> None:
        """One ADC for the layer from the partial sums seen by every part (full range: the largest part's)."""
        lead = max(self.arrays, key=lambda a: a.cycle_peak())
        lead.observed_peak = max(a.observed_peak for a in self.arrays)
        lead.observed_low = torch.stack([a.observed_low for a in self.arrays]).amin(0)
        lead.observed_high = torch.stack([a.observed_high for a in self.arrays]).amax(0)
        lead.observed = [t for a in self.arrays for t in a.observed]
        lead.observed_weights = [t for a in self.arrays for t in a.observed_weights]
        lead.observed_cycles = [t for a in self.arrays for t in a.observed_cycles]
        lead.observed_slices = [t for a in self.arrays for t in a.observed_slices]
        lead.calibrate_adc()
        for array in self.arrays:
            array.adc, array.mean_error = lead.adc, lead.mean_error
            array.observed, array.observed_weights, array.observed_cycles, array.observed_slices = [], [], [], []

    def matmul(self, x: torch.Tensor, generator: torch.Generator | None = None, fast: bool = False,
               observe: bool = False, signed: bool | None = None) -> torch.Tensor:
        """Integer product of the full unfolded input x (N, rows, P) -> (N, P, outputs) float64."""
        x = x.to(self.device)
        if signed is None:
            signed = bool(x.numel() and float(x.min()) < 0)
        out = torch.zeros(x.shape[0], x.shape[2], self.outputs, dtype=torch.float64, device=self.device)
        for row_index, column_index, array in self.parts:
            out.index_add_(2, column_index, array.matmul(x.index_select(1, row_index), generator, fast, observe,
                                                        signed).to(self.device))
        return out


def block_diagonal(weight: torch.Tensor, groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A grouped layer's (outputs, rows per group) weights as the dense (outputs, groups x rows per group)
    matrix over all input channels' unfold rows, and the mask of its not structurally zero entries."""
    outputs, rows = weight.shape
    blocks = weight.reshape(groups, outputs // groups, rows)
    return torch.block_diag(*blocks), torch.block_diag(*torch.ones_like(blocks, dtype=torch.float64)) > 0


class CimLayer(nn.Module):
    """A Conv2d (any groups, zero padding) or Linear layer evaluated float, quantized or on CIM arrays."""

    def __init__(self, module: nn.Module, config: CimConfig, effects: Sequence[Any] = (), name: str = ""):
        super().__init__()
        if isinstance(module, nn.Conv2d):
            if module.padding_mode != "zeros" or isinstance(module.padding, str):
                raise AccuracyError(
                    f"layer {name!r}: CIM conv needs zero padding given as numbers "
                    f"(got padding={module.padding!r}, mode={module.padding_mode!r})")
        elif not isinstance(module, nn.Linear):
            raise AccuracyError(f"layer {name!r}: expected nn.Conv2d or nn.Linear, got {type(module).__name__}")
        self.module, self.config, self.effects, self.name = module, config, tuple(effects), name
        self.mode = "float"
        self.fast = False
        self.observe_inputs = False
        self.observe_psums = False
        self.inputs = RangeObserver()
        self.input_scale: float | None = None
        self.signed = False
        self.array: CimArray | BlockDiagonalArrays | None = None
        self.generator: torch.Generator | None = None
        self.noise_seed = 0
        w = module.weight.detach().reshape(module.weight.shape[0], -1)
        self.weight_scale = weight_scale(w, config.weight_bits, config.weight_calibration, config.percentile)
        self.register_buffer("weight_int", quantize_weight(w.double(), config.weight_bits, self.weight_scale),
                             persistent=False)

    @property
    def is_conv(self) -> bool:
        return isinstance(self.module, nn.Conv2d)

    # -- life cycle ----------------------------------------------------------------------------
    def fix_input_scale(self) -> None:
        """Input step from the observed float inputs (max or percentile, seed 003)."""
        c = self.config
        self.input_scale = self.inputs.scale(c.input_bits, c.input_calibration, c.percentile)
        self.signed = self.inputs.negative

    def program(self, seed: int, device: str | torch.device = "cpu") -> None:
        """Write the weights into fresh subarrays; device effects drawn from ``seed``."""
        generator = torch.Generator().manual_seed(seed)
        groups = self.module.groups if self.is_conv else 1
        if groups > 1 or self.config.column_groups is not None:
            dense, mask = block_diagonal(self.weight_int, groups)
            self.array = BlockDiagonalArrays(dense, mask, self.config, self.effects, generator, device, self.name)
        else:
            self.array = build_array(self.weight_int, self.config, self.effects, generator, device)
        self.noise_seed = seed + 7919
        self.reset_noise()

    def reset_noise(self) -> None:
        """Restart the read/output noise stream so every evaluation draws the same noise."""
        if self.array is not None:
            self.generator = torch.Generator(device=self.array.device).manual_seed(self.noise_seed)

    # -- forward -------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "float":
            if self.observe_inputs:
                self.inputs.observe(x)
            return self.module(x)
        if self.input_scale is None:
            raise AccuracyError(f"layer {self.name!r}: calibrate inputs before the {self.mode} run")
        xq = quantize_activation(x, self.config.input_bits, self.input_scale, self.signed)
        if self.mode == "quant":
            acc = self._integer(xq)
        elif self.array is None:
            raise AccuracyError(f"layer {self.name!r}: program the arrays before the CIM run")
        else:
            acc = self._cim(xq)
        y = acc * (self.weight_scale * self.input_scale)
        bias = self.module.bias
        if bias is not None:
            y = y + (bias.detach().double().view(1, -1, 1, 1) if self.is_conv else bias.detach().double())
        return y.to(x.dtype)

    def _integer(self, xq: torch.Tensor) -> torch.Tensor:
        q = self.weight_int.to(xq.device)
        if not self.is_conv:
            return xq.double() @ q.t()
        m = self.module
        return F.conv2d(xq.double(), q.view_as(m.weight), None, m.stride, m.padding, m.dilation, m.groups)

    def _cim(self, xq: torch.Tensor) -> torch.Tensor:
        array = self.array
        if not self.is_conv:
            lead = xq.shape[:-1]
            flat = xq.reshape(-1, xq.shape[-1], 1)
            acc = array.matmul(flat, self.generator, self.fast, self.observe_psums, self.signed)
            return acc.reshape(*lead, -1).to(xq.device)
        m = self.module
        k, s, p, d = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding), _pair(m.dilation)
        cols = F.unfold(xq, k, d, p, s)
        h = (xq.shape[2] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
        w = (xq.shape[3] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
        acc = array.matmul(cols, self.generator, self.fast, self.observe_psums, self.signed)
        return acc.permute(0, 2, 1).reshape(xq.shape[0], -1, h, w).to(xq.device)

    def extra_repr(self) -> str:
        c = self.config
        return (f"name={self.name!r}, mode={self.mode}, w{c.weight_bits}/in{c.input_bits}, "
                f"{c.cells_per_weight}x{c.bits_per_cell}b cells, adc={c.adc_bits}, ref={c.reference}")


def convert(model: nn.Module, config: CimConfig | TypingMapping[str, CimConfig] | Any = None,
            effects: Iterable[Any] = (), **overrides: Any) -> nn.Module:
    """A copy of ``model`` with its Conv2d/Linear layers wrapped in :class:`CimLayer`.

    ``config`` is one CimConfig for every layer, a ``{qualified name: CimConfig}`` dict, or a
    cimgraph ``Mapping`` (each layer the mapping covers gets ``CimConfig.from_mapping``, with
    ``overrides`` applied; layers the mapping does not cover stay float). Effects apply to all.
    """
    model = copy.deepcopy(model)
    effects = tuple(effects)
    targets = [(name, mod) for name, mod in model.named_modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]
    if not targets:
        raise AccuracyError("convert: the model has no nn.Conv2d or nn.Linear layer to put on CIM arrays")
    configs = _configs_for([n for n, _ in targets], config, overrides)
    for name, module in targets:
        if name not in configs:
            continue
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, attr, CimLayer(module, configs[name], effects, name))
    if not cim_layers(model):
        raise AccuracyError(f"convert: none of the model's layers {[n for n, _ in targets]} is in the mapping")
    return model


def _configs_for(names: list[str], config: Any, overrides: dict[str, Any]) -> dict[str, CimConfig]:
    if config is None or isinstance(config, CimConfig):
        base = config or CimConfig()
        return {n: (CimConfig(**{**_fields(base), **overrides}) if overrides else base) for n in names}
    if isinstance(config, dict):
        unknown = sorted(set(config) - set(names))
        if unknown:
            raise AccuracyError(f"convert: no Conv2d/Linear layer named {unknown}; the model has {names}")
        return dict(config)
    mapped = {p.layer.name for p in config.layers}
    return {n: CimConfig.from_mapping(config, n, **overrides) for n in names if n in mapped}


def _fields(config: CimConfig) -> dict[str, Any]:
    import attrs

    return attrs.asdict(config, recurse=False)


def cim_layers(model: nn.Module) -> list[CimLayer]:
    """The CimLayer modules of a converted model, in module order."""
    return [m for m in model.modules() if isinstance(m, CimLayer)]


def set_mode(model: nn.Module, mode: str, fast: bool = False) -> None:
    """Put every CimLayer in ``float``, ``quant`` or ``cim`` mode (``fast`` folds input cycles)."""
    if mode not in MODES:
        raise AccuracyError(f"mode: expected one of {MODES}, got {mode!r}")
    for layer in cim_layers(model):
        layer.mode, layer.fast = mode, fast
