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


def parse_activity(text: str) -> dict[str, float]:
    """``"input=0.2,weight=0.5"`` -> {"input": 0.2, "weight": 0.5} (either key may be left out)."""
    out: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in ("input", "weight"):
            raise CimgraphError(f"--activity {text!r}: expected input=FRACTION,weight=FRACTION "
                                f"(e.g. input=0.2,weight=0.5), got {item.strip()!r}")
        if key in out:
            raise CimgraphError(f"--activity {text!r}: {key} is given twice")
        try:
            number = float(value)
        except ValueError:
            raise CimgraphError(f"--activity {key}={value!r}: expected a number in [0, 1]") from None
        if not 0.0 <= number <= 1.0:
            raise CimgraphError(f"--activity {key}={value}: expected a fraction in [0, 1]")
        out[key] = number
    return out


def measured_activity(mapping: Any, model: str, data: str, seed: int = 0) -> Activity:
    """Activity measured with `from_torch` on a model (bundled name or ``module:factory``) and one batch of data
    (``digits``, ``random`` or ``module:function`` returning a tensor, a Dataset or an iterable of batches)."""
    import importlib

    import torch

    from ..workload import torch_models


    def load(spec: str, what: str) -> Any:
        module_name, _, attr = spec.partition(":")
        if not attr:
            raise CimgraphError(f"--activity-{what} {spec!r}: expected 'package.module:function'")
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise CimgraphError(f"--activity-{what} {spec!r}: cannot import: {exc}") from exc

    torch.manual_seed(seed)
    factory = torch_models.MODELS[model][0] if model in torch_models.MODELS else load(model, "model")
    module = factory() if not isinstance(factory, torch.nn.Module) else factory
    if not isinstance(module, torch.nn.Module):
        raise CimgraphError(f"--activity-model {model!r}: expected a torch nn.Module, got {type(module).__name__}")
    first = mapping.network.layers[0]
    shape = ((first.in_channels, *first.input_size) if first.kind == "conv" else (first.in_channels,))
    if data == "random":
        batch = torch.rand(16, *shape, generator=torch.Generator().manual_seed(seed))
    elif data == "digits":
        from ..accuracy.data import digits

        batch = next(iter(digits(seed).batches(64)))[0]
    else:
        batch = _first_batch(load(data, "data"), data)
    return from_torch(module, batch, mapping)


def _first_batch(source: Any, spec: str) -> Any:
    import torch

    value = source() if callable(source) and not isinstance(source, torch.Tensor) else source
    if isinstance(value, torch.utils.data.Dataset) and hasattr(value, "__len__") and not hasattr(value, "__next__"):
        value = torch.utils.data.DataLoader(value, batch_size=64)
    if not isinstance(value, torch.Tensor):
        try:
            value = next(iter(value))
        except (TypeError, StopIteration):
            raise CimgraphError(f"--activity-data {spec!r}: expected a tensor, a Dataset or batches") from None
    if isinstance(value, (tuple, list)):
        value = value[0]
    if not isinstance(value, torch.Tensor):
        raise CimgraphError(f"--activity-data {spec!r}: a batch must be a tensor or (inputs, targets)")
    return value.float()


def activity_for(mapping: Any, activity: str | None = None, traces: str | None = None, model: str | None = None,
                 data: str | None = None) -> Activity | None:
    """The activity the CLI options ask for (None: the evaluator's default).

    ``traces`` (a DNN+NeuroSim trace folder) or ``model`` + ``data`` give per-layer values; ``activity``
    (``input=..,weight=..``) sets every layer, or overrides one of the two measured ones.
    """
    if traces and model:
        raise CimgraphError("give either --traces or --activity-model, not both")
    if data and not model:
        raise CimgraphError("--activity-data needs --activity-model")
    n_layers = len(mapping.layers)
    measured = None
    if traces:
        from .traces import read_neurosim_traces

        measured = read_neurosim_traces(traces, [p.layer for p in mapping.layers],
                                        mapping.chip.spec.precision.weight,
                                        mapping.chip.cell.bits_per_cell)
    elif model:
        measured = measured_activity(mapping, model, data or "random")
    if activity is None:
        return measured
    values = parse_activity(activity)
    base = measured or Activity.uniform(n_layers)
    return Activity(np.full(n_layers, values["input"]) if "input" in values else base.input,
                    np.full(n_layers, values["weight"]) if "weight" in values else base.weight)
