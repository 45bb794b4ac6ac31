"""Python API and CLI entry of the accuracy plugin: float vs quantized vs CIM accuracy side by side.

``simulate_accuracy`` converts a model, calibrates the activation scales (float run) and the ADC
references (CIM run, ADC bypassed) on training batches, then evaluates the test split three ways
with a progress bar over batches. With a netlist, the layers are configured from the very
``Mapping`` the hardware model costs (``map_network(chip, from_torch(model, ...))``).
"""
from __future__ import annotations

import importlib
from typing import Any, Iterable

import attrs
import torch
from tqdm import tqdm

from ..errors import AccuracyError
from .config import CimConfig, CONFIG_OVERRIDES
from .convert import cim_layers, convert, set_mode
from .data import Dataset, load_dataset, trained_digits_cnn
from .effects import Variation, make_effects, read_memory_states


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
        if self.fast:
            lines.append("fast mode: input cycles folded where the ADC provably cannot clip")
        return "\n".join(lines)


def evaluate(model: torch.nn.Module, batches: Iterable, device: str = "cpu", desc: str = "",
             progress: bool = True) -> float:
    """Top-1 accuracy over ``batches`` of (x, y)."""
    correct = total = 0
    batches = list(batches)
    with torch.no_grad():
        for x, y in tqdm(batches, desc=desc, disable=not progress, leave=False, unit="batch"):
            out = model(x.to(device))
            correct += int((out.argmax(-1).cpu() == y).sum())
            total += len(y)
    if total == 0:
        raise AccuracyError("evaluate: no test samples")
    return correct / total


def _run(model: torch.nn.Module, batches: Iterable, device: str) -> None:
    with torch.no_grad():
        for x, _ in batches:
            model(x.to(device))


def simulate_accuracy(model: torch.nn.Module | None = None, data: str | Dataset = "digits",
                      config: CimConfig | Any = None, *, netlist: Any = None, effects: Any = None,
                      batch_size: int = 100, batches: int | None = None, calibration_batches: int = 2,
                      seed: int = 0, fast: bool = False, device: str = "cpu", progress: bool = True,
                      model_name: str | None = None, **overrides: Any) -> AccuracyResult:
    """Float, quantized and CIM top-1 accuracy of ``model`` on ``data``'s test split.

    ``model`` None trains the bundled digits CNN (seeded). ``config`` is a CimConfig, a
    ``{layer: CimConfig}`` dict or a Mapping; or give ``netlist`` (path or ChipGraph) to map the
    model onto that chip first. ``effects`` is ``{name: value}`` (see ``make_effects``) or a tuple
    of effect instances; ``overrides`` set CimConfig fields (``adc_bits=4``, ``adc="nonlinear"``).
    ``batches`` limits the test batches; ``fast`` folds input cycles where the ADC cannot clip.
    """
    dataset = data if isinstance(data, Dataset) else load_dataset(data, seed)
    if model is None:
        model, _ = trained_digits_cnn(seed, dataset if dataset.name == "digits" else None)
        model_name = model_name or "digits-cnn"
    model = model.eval()
    chip_name = ""
    effect_list = tuple(effects) if isinstance(effects, (tuple, list)) else make_effects(effects)
    if netlist is not None:
        config, chip = _mapping_for(model, netlist, dataset)
        chip_name = str(getattr(chip.spec, "name", ""))
        sigma = float(getattr(chip.cell, "sigma_d2d", 0.0) or 0.0)
        if sigma > 0 and not any(isinstance(e, Variation) for e in effect_list):
            effect_list = tuple(sorted(effect_list + (Variation(sigma),), key=lambda e: e.order))
    converted = convert(model, config, effect_list, **overrides).to(device)
    test = dataset.batches(batch_size, "test", batches)
    calibration = dataset.batches(batch_size, "train", calibration_batches)
    layers = cim_layers(converted)

    set_mode(converted, "float")
    float_acc = evaluate(converted, test, device, "float", progress)
    for layer in layers:
        layer.observe_inputs = True
    _run(converted, calibration, device)
    for layer in layers:
        layer.observe_inputs = False
        layer.fix_input_scale()
    set_mode(converted, "quant")
    quant_acc = evaluate(converted, test, device, "quantized", progress)

    for index, layer in enumerate(layers):
        layer.program(seed * 1_000_003 + index, device)
    set_mode(converted, "cim")
    for layer in layers:
        layer.observe_psums = True
    _run(converted, calibration, device)
    for layer in layers:
        layer.observe_psums = False
        layer.array.calibrate_adc()
    set_mode(converted, "cim", fast=fast)
    for layer in layers:
        layer.reset_noise()
    cim_acc = evaluate(converted, test, device, "CIM", progress)
    return AccuracyResult(
        model=model_name or type(model).__name__, data=dataset.name, samples=sum(len(y) for _, y in test),
        float=float_acc, quantized=quant_acc, cim=cim_acc, chip=chip_name,
        layers=tuple(layer.name for layer in layers), effects=tuple(_describe(e) for e in effect_list),
        adcs=tuple(_adc_line(layer, fast) for layer in layers), fast=fast)


def _describe(effect: Any) -> str:
    fields = ", ".join(f"{a.name}={getattr(effect, a.name)!r}" for a in attrs.fields(type(effect))
                       if a.name not in ("means", "sigmas"))
    return f"{effect.name}({fields})"


def _adc_line(layer: Any, fast: bool) -> str:
    array, c = layer.array, layer.array.config
    adc = array.adc
    if adc is None:
        kind = "ideal ADC"
    elif hasattr(adc, "step"):
        kind = f"{adc.bits}-bit linear ADC, step {adc.step:.3g} levels"
    else:
        kind = f"{adc.bits}-bit non-linear ADC, {len(adc.levels)} levels"
    folded = " (folded)" if fast and array.can_fold() else ""
    return (f"{layer.name}: {array.group_count} subarrays x {array.group_rows} rows, {c.cells_per_weight} x "
            f"{c.bits_per_cell}-bit cells, {c.reference} reference, on/off {c.on_off_ratio:.3g}, {kind}{folded}")


def _mapping_for(model: torch.nn.Module, netlist: Any, dataset: Dataset) -> tuple[Any, Any]:
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
    network = from_torch(model, (1, *dataset.input_shape))
    mapping = map_network(chip, network)
    return mapping, mapping.chip


BUNDLED_MODELS = ("digits-cnn",)


def load_model(spec: str | None, dataset: Dataset, seed: int = 0) -> tuple[torch.nn.Module, str]:
    """``digits-cnn`` (trained here, seeded) or ``package.module:factory`` returning a trained nn.Module."""
    if spec in (None, "digits-cnn"):
        if dataset.name != "digits":
            raise AccuracyError(f"model 'digits-cnn' is trained on digits, not {dataset.name!r}")
        return trained_digits_cnn(seed, dataset)[0], "digits-cnn"
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise AccuracyError(f"--model: expected one of {BUNDLED_MODELS} or 'package.module:factory', got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise AccuracyError(f"--model {spec!r}: cannot import: {exc}") from exc
    model = factory() if callable(factory) and not isinstance(factory, torch.nn.Module) else factory
    if not isinstance(model, torch.nn.Module):
        raise AccuracyError(f"--model {spec!r}: expected an nn.Module, got {type(model).__name__}")
    return model, spec


def effect_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split CLI-style keyword options into ({effect name: value}, {CimConfig field: value}).

    Accepted: any registered effect name (``variation=0.1``, ``read_noise``, ``output_noise``),
    ``drift="t,v[,scenario[,target]]"``, ``stuck_at="r0,r1"``, ``memory_states=path.csv``,
    ``capacitive="c_on,c_off"`` and the CimConfig fields in ``CONFIG_OVERRIDES``. None is skipped.
    """
    from ..plugins import default_registry

    registered = default_registry().accuracy_effects
    effects: dict[str, Any] = {}
    overrides: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key in CONFIG_OVERRIDES:
            overrides[key] = value
        elif key == "memory_states":
            effects[key] = read_memory_states(str(value))
        elif key in ("drift", "stuck_at", "capacitive") and isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            effects[key] = tuple(p if not _is_number(p) else float(p) for p in parts)
        elif key in registered:
            effects[key] = value
        else:
            from ..errors import did_you_mean

            known = sorted(set(registered) | set(CONFIG_OVERRIDES))
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
    dataset = load_dataset(data, seed)
    net, name = load_model(model, dataset, seed)
    effects, overrides = effect_options(options)
    result = simulate_accuracy(net, dataset, netlist=netlist_path, effects=effects, batch_size=batch_size,
                               batches=batches, seed=seed, fast=fast, device=device, progress=progress,
                               model_name=name, **overrides)
    return result.table()
