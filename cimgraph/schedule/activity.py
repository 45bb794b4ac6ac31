"""Activity factors: the fraction of ones per input bit-plane and the mean programmed
conductance level (0 = all G_off, 1 = all G_on) per layer, and the toggle rates of the data moved
through links and buffers.

Defaults, used when no activity is given: input bit density ``DEFAULT_INPUT_ACTIVITY`` = 0.2,
the density of 8-bit ReLU activations (about half of them zero, the rest small): the traces of
DNN+NeuroSim V1.4's VGG-8 wrapper measure 0.185-0.223 per layer (issue 18); weight density 0.5
(weights centred on the middle level of an offset-binary code). Toggle rates, when not given: a
bit of the input activations differs from the previous flit's with probability 2 p (1 - p) for
independent bits of density p (0.32 at p = 0.2; NeuroSim's measured VGG-8 trace value, Param.cpp
inputtoggle, is 0.18 because neighbouring activations are correlated); outputs (partial sums, fresh
results) 0.5 (NeuroSim Param.cpp outputtoggle). ``from_torch`` measures real ones from a model's
weights and a batch of inputs, as NeuroSim does from its traces (seed 001 sec. 9).
"""
from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from ..errors import CimgraphError


DEFAULT_INPUT_ACTIVITY = 0.2
DEFAULT_WEIGHT_DENSITY = 0.5
OUTPUT_TOGGLE = 0.5


def _optional_array(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=float)


@attrs.frozen
class Activity:
    input: np.ndarray = attrs.field(converter=lambda v: np.asarray(v, dtype=float))
    weight: np.ndarray = attrs.field(converter=lambda v: np.asarray(v, dtype=float))
    input_toggle: np.ndarray | None = attrs.field(default=None, converter=_optional_array)
    output_toggle: np.ndarray | None = attrs.field(default=None, converter=_optional_array)

    @classmethod
    def uniform(cls, n_layers: int, input_activity: float = DEFAULT_INPUT_ACTIVITY,
                weight_density: float = DEFAULT_WEIGHT_DENSITY) -> "Activity":
        """The same activity for every layer (the default: ``DEFAULT_INPUT_ACTIVITY`` and 0.5)."""
        return cls(np.full(n_layers, input_activity), np.full(n_layers, weight_density))

    def toggles(self) -> dict[str, np.ndarray]:
        """Per-layer toggle rate of the data moved down ("input") and up ("output"); defaults in the
        module docstring."""
        p = self.input
        return {"input": self.input_toggle if self.input_toggle is not None else 2 * p * (1 - p),
                "output": self.output_toggle if self.output_toggle is not None else np.full(p.shape, OUTPUT_TOGGLE)}

    def check(self, n_layers: int) -> None:
        for name, values in (("input", self.input), ("weight", self.weight),
                             ("input_toggle", self.toggles()["input"]), ("output_toggle", self.toggles()["output"])):
            if values.shape != (n_layers,):
                raise CimgraphError(f"activity.{name} has {values.size} values; the mapping has {n_layers} layers")
            if np.any(values < 0) or np.any(values > 1) or not np.all(np.isfinite(values)):
                raise CimgraphError(f"activity.{name} values must lie in [0, 1], got {values.tolist()}")


def bit_plane_density(values: np.ndarray, bits: int) -> float:
    """Fraction of ones over the ``bits`` bit-planes of unsigned integers ``values``."""
    values = np.asarray(values, dtype=np.int64).ravel()
    planes = (values[None, :] >> np.arange(bits)[:, None]) & 1
    return float(planes.mean()) if values.size else 0.0


def from_torch(model: Any, inputs: Any, mapping: Any) -> Activity:
    """Measure per-layer activity from a torch model and a batch of inputs.

    Inputs of each mapped layer (matched by module name) are quantised to the netlist's input
    bits with a per-layer max scale, and their bit-plane density taken; weights are quantised to
    the weight bits and the mean |w|/max|w| taken as the mean conductance level.
    """
    import torch

    chip = mapping.chip
    in_bits, w_bits = chip.spec.precision.input, chip.spec.precision.weight
    modules = dict(model.named_modules())
    names = [p.layer.name for p in mapping.layers]
    missing = [n for n in names if n not in modules]
    if missing:
        raise CimgraphError(f"the model has no modules named {missing}; map the network imported from this model")
    captured: dict[str, torch.Tensor] = {}
    hooks = [modules[n].register_forward_hook(lambda m, a, o, n=n: captured.__setitem__(n, a[0].detach()))
             for n in names]
    try:
        with torch.no_grad():
            model.eval()(inputs)
    finally:
        for h in hooks:
            h.remove()
    act, dens = [], []
    for n in names:
        x = captured[n].abs()
        q = torch.round(x / x.max().clamp_min(1e-12) * (2**in_bits - 1)).numpy()
        act.append(bit_plane_density(q, in_bits))
        wt = modules[n].weight.detach().abs()
        dens.append(float((torch.round(wt / wt.max().clamp_min(1e-12) * (2 ** (w_bits - 1) - 1))).mean()
                          / (2 ** (w_bits - 1) - 1)))
    return Activity(act, dens)
