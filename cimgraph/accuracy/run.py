"""Python API and CLI entry of the accuracy plugin: float vs quantized vs CIM accuracy side by side.

``simulate_accuracy(model, data, netlist=...)`` converts a model, calibrates the activation scales
(float run) and the ADC references (CIM run, ADC bypassed) on calibration batches, then evaluates
the test batches three ways with a progress bar over batches. ``data`` is a bundled data set name,
a cimgraph ``Dataset``, a torch ``Dataset``, a ``DataLoader`` or any iterable of batches ((x, y) or x
alone). With a netlist, the layers are configured from the very ``Mapping`` the hardware model
costs (``map_network(chip, from_torch(model, ...))``). ``calibrate`` is the one call that takes a
converted model from float to a programmed, calibrated CIM model for a user's own loop.
"""
from __future__ import annotations

import importlib
import itertools
from typing import Any, Iterable

import attrs
import torch
from tqdm import tqdm

from ..errors import AccuracyError
from .config import CimConfig, CONFIG_OVERRIDES
from .convert import cim_layers, convert, set_mode
from .data import Dataset, load_dataset, trained_digits_cnn
from .effects import Variation, make_effects, read_memory_states, read_output_noise


@attrs.frozen
class AccuracyResult:
    """Top-1 accuracies (fractions) of the float, quantized and CIM models on the same test batches."""

    model: str
    data: str
    samples: int
    float: float
    quantized: float
    cim: float
    chip: str = ""
    layers: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    adcs: tuple[str, ...] = ()
    fast: bool = False
    cim_error: float = 0.0
    labelled: bool = True

    def table(self) -> str:
        """The three accuracies side by side, then what was simulated."""
        head = ("model", "data", "samples", "float", "quantized", "CIM")
        row = (self.model, self.data, str(self.samples), f"{100 * self.float:.2f} %",
               f"{100 * self.quantized:.2f} %", f"{100 * self.cim:.2f} %")
        widths = [max(len(a), len(b)) for a, b in zip(head, row)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths)).rstrip(),
                 "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()]
        if self.chip:
            lines.append(f"chip: {self.chip}")
        lines.append("effects: " + (", ".join(self.effects) if self.effects else "none"))
        lines.extend(f"  {line}" for line in self.adcs)
        lines.append(f"CIM logits vs quantized logits: rel L2 {self.cim_error:.3g}")
        if not self.labelled:
            lines.append("unlabelled data: accuracies are top-1 agreement with the float model")
        if self.fast:
            lines.append("fast mode: input cycles folded where the ADC provably cannot clip")
        return "\n".join(lines)


def _split(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(inputs, labels or None) of one batch: (x, y), [x, y], {"x"/"input": .., "y"/"label": ..} or x."""
    if isinstance(batch, torch.Tensor):
        return batch, None
    if isinstance(batch, dict):
        x = next((batch[k] for k in ("x", "input", "inputs", "image", "pixel_values") if k in batch), None)
        y = next((batch[k] for k in ("y", "label", "labels", "target") if k in batch), None)
        if x is None:
            raise AccuracyError(f"batch: a dict batch needs an 'x' or 'input' entry, got keys {sorted(batch)}")
        return x, y
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor):
        return batch[0], (batch[1] if len(batch) > 1 and isinstance(batch[1], torch.Tensor) else None)
    raise AccuracyError(f"batch: expected a tensor, an (inputs, labels) pair or a dict, got {type(batch).__name__}")


def _predict(model: torch.nn.Module, batches: list, device: str, desc: str, progress: bool) -> list[torch.Tensor]:
    with torch.no_grad():
        return [model(x.to(device)).detach().cpu()
                for x, _ in tqdm(batches, desc=desc, disable=not progress, leave=False, unit="batch")]


def _top1(outputs: list[torch.Tensor], labels: list[torch.Tensor]) -> float:
    correct = sum(int((out.argmax(-1) == y.cpu()).sum()) for out, y in zip(outputs, labels))
    total = sum(len(y) for y in labels)
    if total == 0:
        raise AccuracyError("evaluate: no test samples")
    return correct / total


def evaluate(model: torch.nn.Module, batches: Iterable, device: str = "cpu", desc: str = "",
             progress: bool = True) -> float:
    """Top-1 accuracy over ``batches`` of (x, y)."""
    batches = [_split(b) for b in batches]
    return _top1(_predict(model, batches, device, desc, progress), [y for _, y in batches])


def _run(model: torch.nn.Module, batches: Iterable, device: str) -> None:
    with torch.no_grad():
        for batch in batches:
            model(_split(batch)[0].to(device))


def check_device(device: str) -> torch.device:
    """The torch device, or a clear error when it does not exist in this torch build or machine."""
    from .options import check_device as checked

    return torch.device(checked(device))


def calibrate(converted: torch.nn.Module, batches: Iterable, seed: int = 0, device: str = "cpu",
              fast: bool = False) -> torch.nn.Module:
    """Calibrate -> program -> ready: one call from a converted float model to its CIM model.

    Observes each CIM layer's inputs on ``batches`` in the float model and fixes the input scales,
    programs every layer's arrays (device effects drawn from ``seed`` and the layer index), observes
    the partial sums in CIM mode with the ADC bypassed and fixes the ADCs, restarts the noise
    streams, and leaves the model in CIM mode. ``batches`` is iterated twice.
    """
    layers = cim_layers(converted)
    batches = list(batches)
    set_mode(converted, "float")
    for layer in layers:
        layer.observe_inputs = True
    _run(converted, batches, device)
    for index, layer in enumerate(layers):
        layer.observe_inputs = False
        layer.fix_input_scale()
        layer.program(seed * 1_000_003 + index, device)
    set_mode(converted, "cim")
    for layer in layers:
        layer.observe_psums = True
    _run(converted, batches, device)
    for layer in layers:
        layer.observe_psums = False
        layer.array.calibrate_adc()
        layer.reset_noise()
    set_mode(converted, "cim", fast=fast)
    return converted


def _data_batches(data: Any, batch_size: int, batches: int | None, calibration: Any, calibration_batches: int,
                  seed: int) -> tuple[str, list, list, Dataset | None]:
    """(name, test batches, calibration batches, cimgraph Dataset or None) for any accepted ``data``."""
    if isinstance(data, str):
        data = load_dataset(data, seed)
    if isinstance(data, Dataset):
        test = data.batches(batch_size, "test", batches)
        cal = data.batches(batch_size, "train", calibration_batches) if calibration is None else calibration
        return data.name, test, list(cal), data
    from torch.utils.data import DataLoader, Dataset as TorchDataset

    name = type(data).__name__
    if isinstance(data, TorchDataset) and not isinstance(data, torch.utils.data.IterableDataset):
        data = DataLoader(data, batch_size=batch_size, shuffle=False)
    try:
        iterator = iter(data)
    except TypeError:
        raise AccuracyError(f"data: expected a data set name, a Dataset, a DataLoader or an iterable of batches, "
                            f"got {type(data).__name__}") from None
    test = [_split(b) for b in itertools.islice(iterator, batches)]
    if not test:
        raise AccuracyError(f"data: {name} gave no batches")
    cal = test[:calibration_batches] if calibration is None else [_split(b) for b in calibration]
    return name, test, cal, None


def simulate_accuracy(model: torch.nn.Module | None = None, data: Any = "digits",
                      config: CimConfig | Any = None, *, netlist: Any = None, effects: Any = None,
                      batch_size: int = 100, batches: int | None = None, calibration_batches: int = 2,
                      calibration: Iterable | None = None, seed: int = 0, fast: bool = False, device: str = "cpu",
                      progress: bool = True, model_name: str | None = None, **overrides: Any) -> AccuracyResult:
    """Float, quantized and CIM top-1 accuracy of ``model`` on ``data``'s test batches.

    ``data``: a bundled name ("digits"), a cimgraph ``Dataset`` (test split evaluated, train split
    calibrates), a torch ``Dataset`` (batched by ``batch_size``), a ``DataLoader`` or any iterable of
    batches; then the first ``batches`` batches are evaluated and the first ``calibration_batches``
    of them calibrate, unless ``calibration`` (an iterable of batches) is given. Batches without
    labels score top-1 agreement with the float model. ``model`` None trains the bundled digits CNN
    (seeded). ``config`` is a CimConfig, a ``{layer: CimConfig}`` dict or a Mapping; or give
    ``netlist`` (path or ChipGraph) to map the model onto that chip first. ``effects`` is
    ``{name: value}`` (see ``make_effects``) or a tuple of effect instances; ``overrides`` set
    CimConfig fields (``adc_bits=4``, ``adc="nonlinear"``, ``profile="neurosim"``). ``fast`` folds
    input cycles where the ADC cannot clip. ``device`` "cpu" or "cuda" (a clear error without CUDA).
    """
    check_device(device)
    name, test, calibration_set, dataset = _data_batches(data, batch_size, batches, calibration,
                                                         calibration_batches, seed)
    if model is None:
        if dataset is None or dataset.name != "digits":
            raise AccuracyError("simulate_accuracy: give a model, or use the bundled 'digits' data for digits-cnn")
        model, _ = trained_digits_cnn(seed, dataset)
        model_name = model_name or "digits-cnn"
    model = model.eval()
    chip_name = ""
    effect_list = tuple(effects) if isinstance(effects, (tuple, list)) else make_effects(effects)
    if netlist is not None:
        config, chip = _mapping_for(model, netlist, tuple(_split(test[0])[0].shape[1:]))
        chip_name = str(getattr(chip.spec, "name", ""))
        sigma = float(getattr(chip.cell, "sigma_d2d", 0.0) or 0.0)
        if sigma > 0 and not any(isinstance(e, Variation) for e in effect_list):
            effect_list = tuple(sorted(effect_list + (Variation(sigma),), key=lambda e: e.order))
    converted = convert(model, config, effect_list, **overrides).to(device)
    test = [_split(b) for b in test]
    layers = cim_layers(converted)

    set_mode(converted, "float")
    float_out = _predict(converted, test, device, "float", progress)
    labelled = all(y is not None for _, y in test)
    labels = [y for _, y in test] if labelled else [out.argmax(-1) for out in float_out]
    calibrate(converted, calibration_set, seed, device, fast)
    set_mode(converted, "quant")
    quant_out = _predict(converted, test, device, "quantized", progress)
    set_mode(converted, "cim", fast=fast)
    cim_out = _predict(converted, test, device, "CIM", progress)
    quant_all, cim_all = torch.cat(quant_out).double(), torch.cat(cim_out).double()
    cim_error = float((cim_all - quant_all).norm() / quant_all.norm().clamp_min(1e-300))
    return AccuracyResult(
        model=model_name or type(model).__name__, data=name, samples=sum(len(out) for out in float_out),
        float=_top1(float_out, labels), quantized=_top1(quant_out, labels), cim=_top1(cim_out, labels),
        chip=chip_name, layers=tuple(layer.name for layer in layers),
        effects=tuple(_describe(e) for e in effect_list), adcs=tuple(_adc_line(layer, fast) for layer in layers),
        fast=fast, cim_error=cim_error, labelled=labelled)


def _describe(effect: Any) -> str:
    fields = ", ".join(f"{a.name}={getattr(effect, a.name)!r}" for a in attrs.fields(type(effect))
                       if a.name not in ("means", "sigmas"))
    return f"{effect.name}({fields})"


def _adc_line(layer: Any, fast: bool) -> str:
    array, c = layer.array, layer.array.config
    adc = array.adc
    if c.profile == "neurosim":
        profile = "neurosim profile" + ("" if c.arithmetic == "exact" else f", {c.arithmetic}")
        kind = (f"{c.adc_bits}-bit min/max floor ADC per conversion ({profile})" if c.adc_bits
                else f"ideal ADC ({profile})")
    elif adc is None:
        kind = "ideal ADC"
    elif hasattr(adc, "step"):
        per = " per slice" if hasattr(adc, "parts") and len(adc.parts) > 1 else ""
        kind = f"{adc.bits}-bit linear ADC, step{per} up to {adc.step:.3g} levels"
    else:
        kind = f"{adc.bits}-bit non-linear ADC, {len(adc.levels)} levels"
    folded = " (folded)" if fast and array.can_fold() else ""
    reference = ("mid-range dummy (digital)" if c.profile == "neurosim"
                 else f"{c.reference} reference ({c.subtraction})")
    return (f"{layer.name}: {array.group_count} subarrays x {array.group_rows} rows, {c.cells_per_weight} x "
            f"{c.bits_per_cell}-bit cells, {reference}, on/off {c.on_off_ratio:.3g}, {kind}{folded}")


def _mapping_for(model: torch.nn.Module, netlist: Any, input_shape: tuple[int, ...]) -> tuple[Any, Any]:
    try:
        from ..mapping import map_network
        from ..workload import from_torch
    except ImportError as exc:
        raise AccuracyError(f"accuracy with a netlist needs cimgraph.mapping and cimgraph.workload: {exc}") from exc
    if isinstance(netlist, str) or hasattr(netlist, "__fspath__"):
        from ..netlist import load_netlist

        chip = load_netlist(str(netlist))
    else:
        chip = netlist
    network = from_torch(model, (1, *input_shape))
    mapping = map_network(chip, network)
    return mapping, mapping.chip


BUNDLED_MODELS = ("digits-cnn",)


def _import_object(spec: str, what: str) -> Any:
    """``package.module:name`` -> the object; called when callable (a factory)."""
    module_name, _, attr = spec.partition(":")
    if not attr or not module_name:
        raise AccuracyError(f"--{what} {spec!r}: expected 'package.module:function'")
    try:
        found = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise AccuracyError(f"--{what} {spec!r}: cannot import: {exc}") from exc
    if callable(found) and not isinstance(found, torch.nn.Module):
        try:
            return found()
        except Exception as exc:  # the user's factory failed: say whose
            raise AccuracyError(f"--{what} {spec!r}: the factory raised {type(exc).__name__}: {exc}") from exc
    return found


def load_data(spec: str, seed: int = 0) -> Any:
    """A bundled data set name, or ``package.module:function`` returning a Dataset, DataLoader or batches."""
    if ":" not in spec:
        return load_dataset(spec, seed)
    return _import_object(spec, "data")


def load_model(spec: str | None, dataset: Any, seed: int = 0) -> tuple[torch.nn.Module, str]:
    """``digits-cnn`` (trained here, seeded) or ``package.module:factory`` returning a trained nn.Module."""
    if spec in (None, "digits-cnn"):
        if not isinstance(dataset, Dataset) or dataset.name != "digits":
            raise AccuracyError(f"model 'digits-cnn' is trained on digits, not {getattr(dataset, 'name', dataset)!r}")
        return trained_digits_cnn(seed, dataset)[0], "digits-cnn"
    if ":" not in spec:
        raise AccuracyError(f"--model: expected one of {BUNDLED_MODELS} or 'package.module:factory', got {spec!r}")
    model = _import_object(spec, "model")
    if not isinstance(model, torch.nn.Module):
        raise AccuracyError(f"--model {spec!r}: expected an nn.Module, got {type(model).__name__}")
    return model, spec


def effect_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split CLI-style keyword options into ({effect name: value}, {CimConfig field: value}).

    Accepted: any registered effect name (``variation=0.1``, ``read_noise``, ``output_noise``),
    ``drift="t,v[,scenario[,target]]"``, ``stuck_at="r0,r1"``, ``memory_states=path.csv``,
    ``output_noise_file=path.csv`` (per-level output statistics, NeuroSim V1.5),
    ``capacitive="c_on,c_off"`` and the CimConfig fields in ``CONFIG_OVERRIDES``. None is skipped.
    """
    from ..plugins import default_registry

    registered = default_registry().accuracy_effects
    effects: dict[str, Any] = {}
    overrides: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key in ("dither", "error_calibration") and isinstance(value, str) and value.lower() in ("true", "false", "on", "off"):
            overrides[key] = value.lower() in ("true", "on")
        elif key in CONFIG_OVERRIDES:
            overrides[key] = value
        elif key == "memory_states":
            effects[key] = read_memory_states(str(value))
        elif key == "output_noise_file":
            effects["output_noise_table"] = read_output_noise(str(value))
        elif key in ("drift", "stuck_at", "capacitive") and isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            effects[key] = tuple(p if not _is_number(p) else float(p) for p in parts)
        elif key in registered:
            effects[key] = value
        else:
            from ..errors import did_you_mean

            known = sorted(set(registered) | set(CONFIG_OVERRIDES) | {"output_noise_file"})
            raise AccuracyError(f"accuracy option {key!r} is unknown{did_you_mean(key, known)}; known: {known}")
    return effects, overrides


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def accuracy_command(netlist_path: str | None, model: str | None = None, data: str = "digits",
                     batches: int | None = None, seed: int = 0, fast: bool = False, device: str = "cpu",
                     batch_size: int = 100, progress: bool = True, **options: Any) -> str:
    """What ``cimgraph accuracy NETLIST --model ... --data ...`` runs; returns the table to print.

    ``options`` are effects and config overrides as accepted by :func:`effect_options`.
    """
    check_device(device)
    dataset = load_data(data, seed)
    net, name = load_model(model, dataset, seed)
    effects, overrides = effect_options(options)
    result = simulate_accuracy(net, dataset, netlist=netlist_path, effects=effects, batch_size=batch_size,
                               batches=batches, seed=seed, fast=fast, device=device, progress=progress,
                               model_name=name, **overrides)
    return result.table()
