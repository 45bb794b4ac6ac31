"""Device model of the weight update: non-linear LTP/LTD with limited pulses and variation.

Seed 001 sec. 8 (DNN+NeuroSim V2 manual, eq. 8.1-8.3): after P identical pulses from G_min,

    G_LTP(P) = B (1 - exp(-P/A)) + G_min,    B = (G_max - G_min) / (1 - exp(-P_max/A)),

and eq. 8.2 (LTD from G_max) is eq. 8.1 with A of the other sign, so one curve per direction serves
both: a cell's conductance is inverted to a pulse position on the curve of the direction being
applied, moved by the pulse count, and read back (NeuroSim's ``RealDevice::Write``, MLP_NeuroSim
V3.0 Cell.cpp; DNN_NeuroSim_V2.1 ``QG``). P_max is the cell's ``levels_ltp`` / ``levels_ltd``
(asymmetric if they or the two non-linearities differ); G_min = 1/r_off, G_max = 1/r_on.

Non-linearity labels (the -6..+6 of seed 001 Fig. 28) map to the normalised A (P_max = 1) by the
table in NeuroSim's ``getParamA`` (MLP_NeuroSim_V3.0 formula.cpp; DNN_NeuroSim_V2.1
Training_pytorch/utee/wage_quantizer.py ``GetParamA``, labels 0.01..9 in 0.01 steps). Every entry
of that table satisfies  max_x [g(x) - x] = 0.07 sqrt(2) |NL|  for the normalised curve
g(x) = (1 - exp(-x/a)) / (1 - exp(-1/a)) (checked to 7-8 digits on entries from 0.01 to 9; tests/test_training.py checks five):
the label is the curve's largest excess over the linear ramp in units of 0.07 sqrt(2) of the range.
That relation is solved once, in ``cimgraph.schedule.training_update.curve_a`` (shared with the
training PPA's pulse counts); d2d-perturbed labels interpolate between the table's 0.01 steps. The
sign of NL is the sign of A; NL = 0 is the linear device. Valid for |NL| <= 9 (the table's range;
larger labels are clamped to 9).

Variation (seed 001 sec. 8(3)-(4), seed 002): device-to-device = each cell's LTP and LTD labels
drawn once as NL + nonlinearity_d2d N(0, 1) (sigma in label steps; the cell field of that name,
not the conductance spread sigma_d2d); cycle-to-cycle = Gaussian noise of
sigma_c2c x (G_max - G_min) per pulse, so n pulses add sigma_c2c sqrt(|n|) of the range
(MLP_NeuroSim Cell.cpp). Conductances stay within [G_min, G_max]. All draws come from the
generator passed in (seeded by the trainer).

Everything here is in normalised conductance g = (G - G_min) / (G_max - G_min) in [0, 1] and
normalised pulse position x = P / P_max in [0, 1]. Torch is imported inside functions.
"""
from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import attrs

from ..errors import CimgraphError
from ..schedule.training_update import LABEL_LIMIT, curve_a



class TrainingError(CimgraphError):
    """Bad on-chip training input (device parameters, schemes, widths, data)."""


TABLE_STEP = 0.01  # NeuroSim's getParamA table resolution


@functools.lru_cache(maxsize=1)
def _label_table() -> tuple[float, ...]:
    """1/A (normalised) at labels 0, 0.01, ..., 9: the grid of NeuroSim's getParamA table (pure, computed once)."""
    count = round(LABEL_LIMIT / TABLE_STEP)
    return (0.0, *(1.0 / curve_a(i * TABLE_STEP) for i in range(1, count + 1)))


def label_to_a(nl):
    """Normalised A (P_max = 1) of non-linearity labels ``nl`` (tensor or number; 0 -> inf = linear).

    One label (or any label on the table's 0.01 grid) is solved exactly by ``curve_a``
    (cimgraph.schedule.training_update: max_x [g(x) - x] = 0.07 sqrt(2) |NL|, bisection), the
    relation NeuroSim's getParamA table satisfies; per-device (d2d) labels interpolate 1/A linearly
    between the grid's 0.01 steps (NeuroSim floors the label to the step instead). sign(A) = sign(NL);
    |NL| is clamped to 9.
    """
    import torch

    nl = torch.as_tensor(nl, dtype=torch.float64)
    magnitude = nl.abs().clamp(max=LABEL_LIMIT)
    values = torch.unique(magnitude)
    if values.numel() <= 16:  # a few distinct labels: exact solves
        inverse = torch.zeros_like(magnitude)
        for value in values.tolist():
            inverse = torch.where(magnitude == value, 0.0 if value == 0 else 1.0 / abs(curve_a(value)), inverse)
    else:
        table = torch.tensor(_label_table(), dtype=torch.float64, device=nl.device)
        position = magnitude / TABLE_STEP
        low = position.floor().long().clamp(max=table.numel() - 2)
        inverse = torch.lerp(table[low], table[low + 1], position - low)
    return torch.where(inverse == 0, torch.full_like(inverse, math.inf), torch.sign(nl) / inverse)


def curve(x, a):
    """Normalised conductance after normalised pulse position x on the curve with normalised A ``a``
    (eq. 8.1 with G_min = 0, G_max = 1, P_max = 1); a = +-inf is the linear device g = x."""
    import torch

    linear = torch.isinf(a)
    safe = torch.where(linear, torch.ones_like(a), a)
    g = torch.expm1(-x / safe) / torch.expm1(-1.0 / safe)
    return torch.where(linear, x, g)


def inverse_curve(g, a):
    """Pulse position x of normalised conductance g on the curve with normalised A ``a``."""
    import torch

    linear = torch.isinf(a)
    safe = torch.where(linear, torch.ones_like(a), a)
    x = -safe * torch.log1p(g * torch.expm1(-1.0 / safe))
    return torch.where(linear, g, x)


def _normal(like, generator):
    """Standard normal draws shaped like ``like``, drawn on the CPU generator (same numbers on any device)."""
    import torch

    return torch.randn(like.shape, generator=generator, dtype=like.dtype).to(like.device)


@attrs.frozen
class UpdateRule:
    """Base of every update rule (device model of the weight update); plugins subclass it.

    A rule keeps per-cell state (a dict of tensors) and answers three calls: ``program(g, generator)``
    makes the state of cells at normalised conductances ``g``; ``conductance(state)`` reads g back;
    ``pulse(state, pulses, generator)`` applies signed pulse counts (positive = LTP, negative = LTD;
    POPU may apply fractions of a pulse) and returns nothing. ``levels`` = (P_max LTP, P_max LTD),
    None for a continuous (infinite-level) device. ``ideal`` marks the identity device (linear,
    continuous, no variation), whose update the trainer applies in weight units directly.
    """

    name: ClassVar[str] = ""
    source: ClassVar[str] = ""

    @property
    def levels(self) -> tuple[float, float] | None:
        return None

    @property
    def ideal(self) -> bool:
        return False

    def program(self, g: Any, generator: Any) -> dict[str, Any]:
        return {"g": g.clone()}

    def conductance(self, state: dict[str, Any]) -> Any:
        return state["g"]

    def pulse(self, state: dict[str, Any], pulses: Any, generator: Any) -> None:
        """Apply signed pulse counts to the state; every rule implements it (the registry refuses one that
        does not), so the base raises if it is ever called directly."""
        raise NotImplementedError(f"{type(self).__name__} does not implement pulse()")


def _positive_levels(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 1 or not math.isfinite(value):
        raise TrainingError(f"{type(instance).__name__}.{attribute.name}: expected a pulse count >= 1 or None "
                            f"(continuous), got {value!r}")


def _label(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not abs(value) <= LABEL_LIMIT:
        raise TrainingError(f"{type(instance).__name__}.{attribute.name}: expected a non-linearity label from "
                            f"-{LABEL_LIMIT:g} to {LABEL_LIMIT:g}, got {value!r}")


def _sigma(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < math.inf:
        raise TrainingError(f"{type(instance).__name__}.{attribute.name}: expected a number >= 0, got {value!r}")


@attrs.frozen
class NonlinearDevice(UpdateRule):
    """Eq. 8.1-8.3 device: LTP/LTD labels, P_max per direction, d2d and c2c variation (see module doc).

    ``levels_ltp``/``levels_ltd`` None = continuous (no pulse quantisation; the trainer then asks
    for fractional pulses of a nominal P_max of 1). Validity: |NL| <= 9, sigma_c2c well below 1.
    """

    name: ClassVar[str] = "nonlinear"
    source: ClassVar[str] = ("DNN+NeuroSim V2 manual (seed 001) sec. 8 eq. 8.1-8.3, d2d/c2c variation; NL label "
                             "-> A as NeuroSim's getParamA (MLP_NeuroSim_V3.0 formula.cpp)")
    levels_ltp: float | None = attrs.field(default=None, validator=_positive_levels)
    levels_ltd: float | None = attrs.field(default=None, validator=_positive_levels)
    nonlinearity_ltp: float = attrs.field(default=0.0, validator=_label)
    nonlinearity_ltd: float = attrs.field(default=0.0, validator=_label)
    nonlinearity_d2d: float = attrs.field(default=0.0, validator=_sigma)
    sigma_c2c: float = attrs.field(default=0.0, validator=_sigma)

    def __attrs_post_init__(self) -> None:
        if (self.levels_ltp is None) != (self.levels_ltd is None):
            raise TrainingError("NonlinearDevice: levels_ltp and levels_ltd must both be pulse counts or both None")

    @property
    def levels(self) -> tuple[float, float] | None:
        return None if self.levels_ltp is None else (float(self.levels_ltp), float(self.levels_ltd))

    @property
    def ideal(self) -> bool:
        return (self.levels_ltp is None and self.nonlinearity_ltp == 0 and self.nonlinearity_ltd == 0
                and self.nonlinearity_d2d == 0 and self.sigma_c2c == 0)

    def program(self, g: Any, generator: Any) -> dict[str, Any]:
        import torch

        g = g.to(torch.float64).clamp(0.0, 1.0)
        labels = []
        for nl in (self.nonlinearity_ltp, self.nonlinearity_ltd):
            label = torch.full_like(g, float(nl))
            if self.nonlinearity_d2d > 0:
                label = label + self.nonlinearity_d2d * _normal(g, generator)
            labels.append(label)
        if self.nonlinearity_d2d > 0:
            a_ltp, a_ltd = label_to_a(labels[0]), label_to_a(labels[1])
        else:  # one solve for the whole array
            a_ltp = label_to_a(self.nonlinearity_ltp).to(g.device).expand_as(g)
            a_ltd = label_to_a(self.nonlinearity_ltd).to(g.device).expand_as(g)
        return {"g": g.clone(), "a_ltp": a_ltp, "a_ltd": a_ltd}

    def pulse(self, state: dict[str, Any], pulses: Any, generator: Any) -> None:
        import torch

        g = state["g"]
        pulses = pulses.to(g.dtype)
        p_ltp, p_ltd = self.levels or (1.0, 1.0)
        up = pulses > 0
        a = torch.where(up, state["a_ltp"], state["a_ltd"])
        steps = torch.where(up, pulses / p_ltp, pulses / p_ltd)
        moved = curve((inverse_curve(g, a) + steps).clamp(0.0, 1.0), a)
        if self.sigma_c2c > 0:
            moved = moved + self.sigma_c2c * pulses.abs().sqrt() * _normal(g, generator)
        state["g"] = torch.where(pulses != 0, moved.clamp(0.0, 1.0), g)

    @classmethod
    def from_cell(cls, cell: Any, **overrides: Any) -> "NonlinearDevice":
        """The device of a netlist cell: levels_ltp/ltd, nonlinearity_ltp/ltd, nonlinearity_d2d (label steps),
        sigma_c2c. The cell's sigma_d2d (relative conductance spread) belongs to inference, not here."""
        fields = {"levels_ltp": float(cell.levels_ltp), "levels_ltd": float(cell.levels_ltd),
                  "nonlinearity_ltp": float(cell.nonlinearity_ltp), "nonlinearity_ltd": float(cell.nonlinearity_ltd),
                  "nonlinearity_d2d": float(cell.nonlinearity_d2d), "sigma_c2c": float(cell.sigma_c2c)}
        return cls(**{**fields, **overrides})


BUILTIN_RULES = (NonlinearDevice,)


def make_rule(spec: Any = None, cell: Any = None, registry: Any = None, **overrides: Any) -> UpdateRule:
    """An update rule from an instance, a registered name (fields from ``cell`` where the class has
    ``from_cell``, then ``overrides``), or None (the built-in ``nonlinear`` device)."""
    if isinstance(spec, UpdateRule):
        return attrs.evolve(spec, **overrides) if overrides else spec
    if registry is None:
        from ..plugins import default_registry

        registry = default_registry()
    cls = registry.update_rule(spec or "nonlinear")
    if "sigma_d2d" in overrides and "sigma_d2d" not in (attrs.fields_dict(cls) if attrs.has(cls) else {}):
        raise TrainingError("sigma_d2d is the cell's relative conductance spread (inference); the device-to-device "
                            "spread of the update non-linearity is nonlinearity_d2d (NL label steps)")
    try:
        if cell is not None and hasattr(cls, "from_cell"):
            return cls.from_cell(cell, **overrides)
        return cls(**overrides)
    except TypeError as exc:
        raise TrainingError(f"update rule {spec or 'nonlinear'!r}: {exc}") from exc
