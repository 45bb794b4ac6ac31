"""On-chip training through the mapped CIM layers: ``train_on_chip()`` and ``cimgraph train``.

One update step (seed 001 sec. 4 and 8, seed 000 sec. 3):

1. forward and backward through the :class:`TrainLayer` products (WAGE widths, ADC mode);
2. per weight tensor the gradient g (V2: the batch mean, accumulated in digital; POPU: one sample);
3. optional momentum (seed 002, NeuroSim V2 train.py: v = gamma v + alpha g, gamma 0.9, alpha 0.1);
4. WAGE Q_G when ``wl_grad`` is set (then the step is lr x Q_G(g) of the [-1, 1] range), else the
   float step lr x g;
5. the desired change becomes pulses through the update rule: V2 rounds each cell's change to whole
   pulses of 1/P_max of the range; POPU (parallel outer-product update, NeuroTorch) clips each
   cell's change to +-UpdateMax and rounds it to the UpdateLEVELs grid (pulse widths in clock
   cycles), applied as LTP only, LTD only or both on a G+/G- pair;
6. the weights are read back from the cells. Biases and non-CIM parameters take the plain step.

With the identity device (linear, continuous, no variation), float widths and ``adc="none"``
the loop performs exactly torch's SGD (tests/test_training.py checks the parameters bit for bit).
"""
from __future__ import annotations

import copy
import math
import sys
from typing import Any, Iterable

import attrs
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .device import NonlinearDevice, TrainingError, UpdateRule, make_rule
from .layers import POPU_MODES, TrainLayer, UpdateStats
from .traces import DeltaRow, WeightRow, write_traces
from .wage import check_width, quantize_gradient

from . import BUNDLED_MODELS

SCHEMES = ("v2", "popu")
PAIR_START = {"LTP_only": "low", "LTD_only": "high", "LTPLTD_both": "middle"}  # G+/G- pair's initial conductances
DEFAULT_ALPHA = 0.1  # NeuroSim V2 train.py momentum: alpha = 0.1 with gamma = 0.9 (seed 001 Fig. 2)


@attrs.frozen
class V2Scheme:
    """NeuroSim V2: batch gradients accumulated digitally, then whole pulses per cell."""

    mode: str = "LTPLTD_both"

    def pulses(self, dg: torch.Tensor, rule: UpdateRule) -> torch.Tensor:
        levels = rule.levels
        if levels is None:
            return dg
        return torch.round(dg * torch.where(dg > 0, levels[0], levels[1]))


@attrs.frozen
class PopuScheme:
    """NeuroTorch POPU: per-sample outer-product update, |dg| <= update_max, on the update_levels grid.

    LTP_only / LTD_only move a G+/G- pair's devices one way only, so the pair saturates; every
    ``refresh_every`` steps the pairs whose moving device has passed ``refresh_level`` of the range are
    refreshed (TrainLayer.refresh: the occasional RESET of Burr et al., IEEE TED 62(11), 2015); 0 = never.
    The defaults (every 100 steps, 0.75) are this project's choice: NeuroTorch has no refresh."""

    update_max: float = 0.01
    update_levels: int = 64
    mode: str = "LTP_only"
    refresh_every: int = 100
    refresh_level: float = 0.75

    def __attrs_post_init__(self) -> None:
        if not 0 < self.update_max <= 1:
            raise TrainingError(f"update_max: expected a fraction of the conductance range in (0, 1], "
                                f"got {self.update_max!r}")
        if not isinstance(self.update_levels, int) or self.update_levels < 2:
            raise TrainingError(f"update_levels: expected an integer >= 2 (NeuroTorch: 'Too low Update "
                                f"Resolution' below 2), got {self.update_levels!r}")
        if self.mode not in POPU_MODES:
            raise TrainingError(f"popu mode: expected one of {POPU_MODES}, got {self.mode!r}")
        if not (isinstance(self.refresh_every, int) and self.refresh_every >= 0) or not 0 < self.refresh_level <= 1:
            raise TrainingError(f"refresh: expected refresh_every >= 0 steps and refresh_level in (0, 1], got "
                                f"{self.refresh_every!r}, {self.refresh_level!r}")

    def pulses(self, dg: torch.Tensor, rule: UpdateRule) -> torch.Tensor:
        quantum = 2 * self.update_max / self.update_levels
        dg = torch.round(dg.clamp(-self.update_max, self.update_max) / quantum) * quantum
        levels = rule.levels
        return dg if levels is None else dg * torch.where(dg > 0, levels[0], levels[1])


def popu_update_levels(update_max: float, full_time: float, cycle: float, input_bits: int,
                       delta_bits: int = 14) -> int:
    """NeuroTorch's UpdateLEVELs (seed 000, Parameter.py): the update resolution of one clock cycle,
    min(2 floor(UpdateMax x FullTime / (2 Cycle)), 2^(InputPrecision + DelPrecision - floor(log2(1/UpdateMax))))."""
    by_time = 2 * math.floor(update_max * full_time / (2 * cycle))
    by_bits = 2 ** (input_bits + delta_bits - math.floor(math.log2(1 / update_max)))
    return int(min(by_time, by_bits))


@attrs.frozen
class EpochRecord:
    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float


@attrs.frozen
class TrainingResult:
    """Per-epoch loss and accuracies of an on-chip training run, and what was simulated."""

    model: str
    data: str
    scheme: str
    adc: str
    device: str
    epochs: tuple[EpochRecord, ...]
    layers: tuple[str, ...]
    rule: str
    settings: str = ""
    traces: tuple[str, ...] = ()
    trained: Any = attrs.field(default=None, eq=False, repr=False)  # the trained module (TrainLayers inside)

    @property
    def final_accuracy(self) -> float:
        return self.epochs[-1].test_accuracy if self.epochs else 0.0

    def epochs_to(self, fraction: float) -> int | None:
        """First epoch whose test accuracy reaches ``fraction`` of the best one (convergence)."""
        best = max(r.test_accuracy for r in self.epochs)
        return next((r.epoch for r in self.epochs if r.test_accuracy >= fraction * best), None)

    def table(self) -> str:
        lines = [f"on-chip training: {self.model} on {self.data}, scheme {self.scheme}, ADC {self.adc}, "
                 f"device {self.device}", f"update rule: {self.rule}", f"settings: {self.settings}",
                 f"layers on the chip: {', '.join(self.layers)}", "epoch  loss     train    test"]
        lines += [f"{r.epoch:5d}  {r.loss:.4f}  {100 * r.train_accuracy:6.2f} %  {100 * r.test_accuracy:6.2f} %"
                  for r in self.epochs]
        lines += [f"traces: {p}" for p in self.traces]
        return "\n".join(lines)


def resolve_device(name: str) -> torch.device:
    """``cuda`` when available, else CPU with a message on stderr; anything else as torch parses it."""
    if str(name).startswith("cuda") and not torch.cuda.is_available():
        print(f"cimgraph train: CUDA device {name!r} requested but torch.cuda.is_available() is False; "
              f"running on CPU", file=sys.stderr)
        return torch.device("cpu")
    try:
        return torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise TrainingError(f"device: expected cpu or cuda[:N], got {name!r} ({exc})") from exc


def bundled_model(name: str) -> nn.Module:
    """The bundled digits models: ``digits-cnn`` (cimgraph.accuracy.data) or ``digits-mlp`` (64-64-10)."""
    if name == "digits-cnn":
        from ..accuracy.data import digits_cnn

        return digits_cnn()
    if name == "digits-mlp":
        from ..workload.torch_models import MLP

        return MLP()
    from ..errors import did_you_mean

    raise TrainingError(f"model {name!r}: unknown{did_you_mean(name, BUNDLED_MODELS)}; bundled: {BUNDLED_MODELS} "
                        f"or 'package.module:factory'")


def model_network(name: str, data: str = "digits", seed: int = 0) -> Any:
    """The Network that ``cimgraph train --model NAME`` maps (its layer names are those of the trace files),
    for ``cimgraph train-ppa --network NAME --traces DIR``."""
    from ..workload import from_torch

    if name in BUNDLED_MODELS:
        model = bundled_model(name)
    else:
        from ..accuracy.data import load_dataset
        from ..accuracy.run import load_model

        model, name = load_model(name, load_dataset(data, seed), seed)
    _, train, _ = _data(data, seed)
    network = from_torch(model, (1, *_sample_shape(train)))
    return attrs.evolve(network, name=name)


def _seeded_init(model: nn.Module, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model


def batch_order(count: int, epochs: int, batch_size: int, seed: int) -> list[list[torch.Tensor]]:
    """Seeded shuffled index batches per epoch (the plain-torch reference uses the same)."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(epochs):
        order = torch.randperm(count, generator=generator)
        out.append([order[i: i + batch_size] for i in range(0, count, batch_size)])
    return out


def _data(data: Any, seed: int) -> tuple[str, Any, Any]:
    """(name, train, test): a Dataset's tensors, or two iterables of (x, y) batches (DataLoaders)."""
    from ..accuracy.data import Dataset, load_dataset

    if isinstance(data, str):
        data = load_dataset(data, seed)
    if isinstance(data, Dataset):
        return data.name, (data.train_x, data.train_y), (data.test_x, data.test_y)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return "loader", data[0], data[1]
    raise TrainingError("data: expected 'digits', a cimgraph Dataset or a (train_loader, test_loader) pair")


def _sample_shape(train: Any) -> tuple[int, ...]:
    if isinstance(train, tuple) and isinstance(train[0], torch.Tensor):
        return tuple(train[0].shape[1:])
    x, _ = next(iter(train))
    return tuple(x.shape[1:])


def _chip_settings(model: nn.Module, netlist: Any, input_shape: tuple[int, ...]) -> tuple[Any, dict[str, Any]]:
    """(chip or None, {layer name: CimConfig}) from a netlist: the same Mapping the hardware model costs."""
    from ..accuracy.config import CimConfig

    names = [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if netlist is None:
        return None, {n: CimConfig() for n in names}
    from ..mapping import map_network
    from ..netlist import load_netlist
    from ..workload import from_torch

    chip = load_netlist(str(netlist)) if isinstance(netlist, str) or hasattr(netlist, "__fspath__") else netlist
    mapping = map_network(chip, from_torch(model, (1, *input_shape)))
    mapped = {p.layer.name for p in mapping.layers}
    configs = {n: CimConfig.from_mapping(mapping, n) for n in names if n in mapped}
    if not configs:
        raise TrainingError(f"netlist: none of the model's layers {names} is in the mapping")
    return mapping.chip, configs


def train_on_chip(model: nn.Module | str | None = None, data: Any = "digits", *, netlist: Any = None,
                  epochs: int = 5, lr: float = 0.1, batch_size: int = 32, scheme: str = "v2",
                  momentum: float | None = None, alpha: float | None = None, wl_weight: int | None = None,
                  wl_activate: int | None = None, wl_error: int = -1, wl_grad: int = -1, adc: str = "none",
                  adc_bits: int | None = None, rule: Any = None, cells: str | None = None,
                  popu_mode: str = "LTP_only", update_max: float = 0.01, update_levels: int | None = None,
                  refresh_every: int = 100, refresh_level: float = 0.75,
                  headroom: float = 2.0, seed: int = 0, device: str = "cpu", traces: str | None = None,
                  progress: bool = True, model_name: str | None = None, **device_fields: Any) -> TrainingResult:
    """Train ``model`` on ``data`` with its Conv2d/Linear weights in the chip's cells.

    ``model``: an nn.Module (trained from its current weights), a bundled name (``digits-cnn``,
    ``digits-mlp``; seeded fresh initialisation) or None (digits-cnn). ``data``: ``"digits"``, a
    Dataset, or ``(train_loader, test_loader)``. ``netlist`` (path or ChipGraph) maps the model and
    gives the defaults: cell device (levels, NL, nonlinearity_d2d in NL steps, sigma_c2c), precisions
    (wl_weight, wl_activate), subarray rows / row groups / ADC bits, on/off ratio. Without a netlist
    the device is ideal and the widths float. ``rule`` is an UpdateRule or a registered name;
    ``device_fields`` override its fields (``levels_ltp=64``, ``nonlinearity_ltp=3``, ...).
    ``scheme`` ``v2`` (batch ``batch_size``) or ``popu`` (batch 1, ``update_max``, ``update_levels``,
    ``popu_mode`` LTP_only | LTD_only | LTPLTD_both on a G+/G- pair). ``adc``: none | approx | exact.
    ``traces``: directory for Weight_dist.csv / Delta_dist.csv.
    """
    if scheme not in SCHEMES:
        raise TrainingError(f"scheme: expected one of {SCHEMES}, got {scheme!r}")
    if not isinstance(epochs, int) or epochs < 1:
        raise TrainingError(f"epochs: expected a whole number >= 1, got {epochs!r}")
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise TrainingError(f"lr: expected a positive number, got {lr!r}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise TrainingError(f"batch_size: expected a whole number >= 1, got {batch_size!r}")
    if not (isinstance(headroom, (int, float)) and headroom >= 1 and math.isfinite(headroom)):
        raise TrainingError(f"headroom: expected a number >= 1 (weight range / largest initial |w|), got {headroom!r}")
    if momentum is not None and not 0 <= momentum < 1:
        raise TrainingError(f"momentum: expected gamma in [0, 1), got {momentum!r}")
    target = resolve_device(device)
    name_data, train, test = _data(data, seed)
    if model is None or isinstance(model, str):
        model_name = model_name or (model or "digits-cnn")
        model = _seeded_init(bundled_model(model or "digits-cnn"), seed)
    model_name = model_name or type(model).__name__
    chip, configs = _chip_settings(model, netlist, _sample_shape(train))
    cell = chip.cell if chip is not None else None
    if cell is None and rule is None:
        rule = NonlinearDevice()
    the_rule = make_rule(rule, cell, **device_fields)
    precision = chip.spec.precision if chip is not None else None
    wl_weight = check_width("wl_weight", wl_weight if wl_weight is not None else
                            (int(precision.weight) if precision else -1))
    wl_activate = check_width("wl_activate", wl_activate if wl_activate is not None else
                              (int(precision.input) if precision else -1))
    wl_error, wl_grad = check_width("wl_error", wl_error), check_width("wl_grad", wl_grad)
    if scheme == "popu":
        batch_size = 1
        if update_levels is None:
            update_levels = _default_update_levels(chip, update_max, wl_activate)
        the_scheme: Any = PopuScheme(update_max, update_levels, popu_mode, refresh_every, refresh_level)
    else:
        the_scheme = V2Scheme()
    cells = cells or ("pair" if scheme == "popu" else "single")
    if cells == "single" and scheme == "popu" and popu_mode != "LTPLTD_both":
        raise TrainingError(f"popu mode {popu_mode!r} needs a G+/G- pair per weight (cells='pair')")
    on_off = float(cell.on_off_ratio) if cell is not None and getattr(cell, "r_on", None) else math.inf
    columns = int(chip.subarray.columns) if chip is not None else 128
    trainee = copy.deepcopy(model)
    layers: list[TrainLayer] = []
    for index, (name, module) in enumerate([(n, m) for n, m in trainee.named_modules()
                                            if isinstance(m, (nn.Conv2d, nn.Linear))]):
        if name not in configs:
            continue
        config = configs[name]
        bits = adc_bits if adc_bits is not None else config.adc_bits
        layer = TrainLayer(module, name, the_rule, config=config, cells=cells, headroom=headroom,
                           wl_weight=wl_weight, wl_activate=wl_activate, wl_error=wl_error, adc=adc, adc_bits=bits,
                           on_off_ratio=on_off, columns=columns, pair_start=PAIR_START[the_scheme.mode],
                           generator=torch.Generator().manual_seed(seed * 1_000_003 + index))
        parent_name, _, attr = name.rpartition(".")
        setattr(trainee.get_submodule(parent_name) if parent_name else trainee, attr, layer)
        layers.append(layer)
    if not layers:
        raise TrainingError("train_on_chip: the model has no nn.Conv2d or nn.Linear layer to put on the chip")
    trainee.to(target)
    for layer in layers:
        layer.state = {k: {kk: vv.to(target) if isinstance(vv, torch.Tensor) else vv for kk, vv in s.items()}
                       for k, s in layer.state.items()}
    gamma = momentum or 0.0
    alpha = DEFAULT_ALPHA if alpha is None and gamma else (alpha or 1.0)
    step = _Stepper(trainee, layers, the_scheme, lr, gamma, alpha, wl_grad, seed)
    records, weight_rows, delta_rows = [], [], []
    count = len(train[1]) if isinstance(train, tuple) else None
    orders = batch_order(count, epochs, batch_size, seed) if count is not None else None
    bar = tqdm(total=epochs * (len(orders[0]) if orders else len(train)), desc=f"train {scheme}",
               disable=not progress, unit="step", leave=False)
    for epoch in range(1, epochs + 1):
        for layer in layers:
            layer.new_epoch()
        step.begin_epoch()
        batches = ((train[0][i], train[1][i]) for i in orders[epoch - 1]) if orders else iter(train)
        total_loss = correct = seen = 0
        trainee.train()
        for x, y in batches:
            x, y = x.to(target), y.to(target)
            out = trainee(x)
            loss = F.cross_entropy(out, y)
            for p in trainee.parameters():
                p.grad = None
            loss.backward()
            step()
            total_loss += float(loss.detach()) * len(y)
            correct += int((out.detach().argmax(-1) == y).sum())
            seen += len(y)
            bar.update(1)
        test_accuracy = evaluate(trainee, test, target)
        records.append(EpochRecord(epoch, total_loss / max(seen, 1), correct / max(seen, 1), test_accuracy))
        bar.set_postfix(test=f"{100 * test_accuracy:.1f}%")
        weight_rows += [_weight_row(epoch, layer) for layer in layers]
        delta_rows += [step.delta_row(epoch, layer) for layer in layers]
    bar.close()
    paths = write_traces(traces, weight_rows, delta_rows) if traces else ()
    batching = f"batch {batch_size}" if orders else "loader batches"
    settings = (f"lr {lr:g}, {batching}, momentum {gamma:g}"
                f"{f' (alpha {alpha:g})' if gamma else ''}, wl_weight {wl_weight}, wl_activate {wl_activate}, "
                f"wl_error {wl_error}, wl_grad {wl_grad}, cells {cells}, adc bits {layers[0].adc_bits}"
                + (f", UpdateMax {the_scheme.update_max:g}, UpdateLEVELs {the_scheme.update_levels}, "
                   f"{the_scheme.mode}" if scheme == "popu" else ""))
    return TrainingResult(model=model_name, data=name_data, scheme=scheme, adc=adc, device=str(target),
                          epochs=tuple(records), layers=tuple(layer.name for layer in layers),
                          rule=_describe(the_rule), settings=settings, traces=tuple(paths),
                          trained=trainee)


def _default_update_levels(chip: Any, update_max: float, input_bits: int) -> int:
    """UpdateLEVELs from the netlist's cell pulse timing and clock (NeuroTorch's formula); 64 without one."""
    if chip is None:
        return 64
    cell = chip.cell
    full_time = min(cell.levels_ltp, cell.levels_ltd) * cell.write_pulse
    levels = popu_update_levels(update_max, full_time, 1.0 / chip.spec.clock, max(input_bits, 1))
    return max(levels, 2)


def _describe(rule: UpdateRule) -> str:
    fields = ", ".join(f"{a.name}={getattr(rule, a.name)!r}" for a in attrs.fields(type(rule)))
    return f"{rule.name}({fields})"


def evaluate(model: nn.Module, test: Any, device: torch.device, batch_size: int = 250) -> float:
    """Top-1 accuracy on the test tensors (or an iterable of batches), model in eval mode."""
    model.eval()
    correct = total = 0
    batches: Iterable = ([(test[0][i: i + batch_size], test[1][i: i + batch_size])
                          for i in range(0, len(test[1]), batch_size)] if isinstance(test, tuple) else test)
    with torch.no_grad():
        for x, y in batches:
            out = model(x.to(device))
            correct += int((out.argmax(-1).cpu() == y.cpu()).sum())
            total += len(y)
    if total == 0:
        raise TrainingError("evaluate: no test samples")
    return correct / total


def _weight_row(epoch: int, layer: TrainLayer) -> WeightRow:
    w = layer.normalised_weight().double()
    return WeightRow(epoch, layer.name, float(w.mean()), float(w.std(unbiased=False)), float(w.abs().mean()),
                     float(layer.conductances().double().mean()))


class _Stepper:
    """The optimiser step: momentum, WAGE Q_G, then the update rule per CIM layer; SGD for the rest."""

    def __init__(self, model, layers, scheme, lr, gamma, alpha, wl_grad, seed):
        self.layers, self.scheme, self.lr, self.gamma, self.alpha, self.wl_grad = layers, scheme, lr, gamma, alpha, wl_grad
        cim = {id(layer.module.weight) for layer in layers}
        self.digital = [p for p in model.parameters() if id(p) not in cim]
        self.velocity: dict[int, torch.Tensor] = {}
        self.generator = torch.Generator().manual_seed(seed + 104_729)
        self.stats: dict[str, list[UpdateStats]] = {}

    def begin_epoch(self) -> None:
        self.stats = {layer.name: [] for layer in self.layers}

    def _momentum(self, p: torch.Tensor) -> torch.Tensor:
        if not self.gamma:
            return p.grad
        v = self.velocity.get(id(p))
        v = self.alpha * p.grad if v is None else self.gamma * v + self.alpha * p.grad
        self.velocity[id(p)] = v
        return v

    @torch.no_grad()
    def __call__(self) -> None:
        for p in self.digital:
            if p.grad is not None:
                p.add_(self._momentum(p), alpha=-self.lr)
        for layer in self.layers:
            weight = layer.module.weight
            if weight.grad is None:
                continue
            g = self._momentum(weight)
            if self.wl_grad != -1:  # unitless: lr is the largest step as a fraction of the range
                g = quantize_gradient(g, self.wl_grad, self.generator) * layer.range
            self.stats[layer.name].append(layer.update(g, -self.lr, self.scheme, self.generator))

    def delta_row(self, epoch: int, layer: TrainLayer) -> DeltaRow:
        steps = self.stats.get(layer.name, [])
        n = sum(s.weights for s in steps) or 1
        cells = sum(s.cells for s in steps) or 1
        mean = sum(s.delta_sum for s in steps) / n
        var = max(sum(s.delta_square for s in steps) / n - mean * mean, 0.0)
        # normalised to the [-1, 1] range (half-width 1): clamp rounding noise into the contract's bounds
        return DeltaRow(epoch, layer.name, max(-1.0, min(1.0, mean)), min(2.0, math.sqrt(var)),
                        min(1.0, sum(s.delta_abs for s in steps) / n), sum(s.pulsed for s in steps) / cells,
                        sum(s.pulses_ltp for s in steps) / cells, sum(s.pulses_ltd for s in steps) / cells,
                        len(steps))


def device_options(items: Iterable[str]) -> dict[str, Any]:
    """CLI ``--option NAME=VALUE`` strings (YAML values) -> update-rule fields. ``nonlinearity=N`` gives
    LTP +N and LTD -N (NeuroSim's symmetric +-N device), ``levels=P`` both P_max."""
    import yaml

    fields: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise TrainingError(f"--option {item!r}: expected NAME=VALUE, e.g. nonlinearity=3 or sigma_c2c=0.01")
        value = yaml.safe_load(text)
        if key in ("nonlinearity", "levels") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TrainingError(f"--option {item!r}: expected a number")
        if key == "nonlinearity":
            fields.update(nonlinearity_ltp=float(value), nonlinearity_ltd=-float(value))
        elif key == "levels":
            fields.update(levels_ltp=float(value), levels_ltd=float(value))
        else:
            fields[key] = value
    return fields


def train_command(netlist: str | None, *, model: str | None = None, data: str = "digits", epochs: int = 5,
                  options: Iterable[str] = (), **settings: Any) -> str:
    """What ``cimgraph train NETLIST --model ... --epochs N`` runs; returns the table to print."""
    spec = model or "digits-cnn"
    if spec in BUNDLED_MODELS:
        net: Any = spec
    else:
        from ..accuracy.data import load_dataset
        from ..accuracy.run import load_model

        net, spec = load_model(spec, load_dataset(data, settings.get("seed", 0)), settings.get("seed", 0))
    rule_fields = device_options(options)
    try:
        result = train_on_chip(net, data, netlist=netlist, epochs=epochs, model_name=spec, **settings, **rule_fields)
    except TypeError as exc:
        raise TrainingError(f"train: {exc}") from exc
    return result.table()
