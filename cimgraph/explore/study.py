"""Study files: what to explore, validated like netlists (every problem with its ``$.key.path``).

    name: adc-study
    netlist: netlists/vgg8_rram_22nm.yaml        # or netlists: [a.yaml, b.yaml] (then `netlist` is an axis)
    network: vgg8                                 # or networks: [vgg8, mlp]
    axes:
      chip.tile.pe.subarray.adc.bits: [3, 4, 5, 6, 7]          # a list of values
      chip.tile.pe.subarray.adc.share: {choices: [4, 8, 16]}   # the same, spelt out
      chip.tile.pe.subarray.rows: {range: [64, 256], steps: 3, log: true, integer: true}
      technology: [45nm, 32nm, 22nm]
      method: [conventional, novel]                           # mapping method
      schedule: [pipeline, layer]
      activity.input: {range: [0.1, 0.9], steps: 5}           # or activity (both), activity.weight
    sampler: {kind: sobol, samples: 256}          # grid | random | latin | sobol | optuna
    objectives: {energy: min, latency: min}
    constraints: {area: {max: 100mm^2}}
    seed: 0

Any other axis is a netlist key path (set with the sweep's ``set_path``). A range is sampled
continuously by random / latin / sobol / optuna; the grid takes ``steps`` values from it.
"""
from __future__ import annotations

import math
import os
from typing import Any

import attrs
import numpy as np

from ..errors import NetlistError, Problem, did_you_mean
from ..units import UnitError, parse

SPECIAL_AXES = ("netlist", "network", "method", "schedule", "activity", "activity.input", "activity.weight")
SAMPLERS = ("grid", "random", "latin", "sobol", "optuna")
ALGORITHMS = ("tpe", "nsga2")
SCHEDULES = ("pipeline", "layer")
# Figures of merit a study can optimise or constrain: name -> (unit for constraint values, better direction).
METRICS = {"area": ("m^2", "min"), "energy": ("J", "min"), "latency": ("s", "min"), "period": ("s", "min"),
           "dynamic_energy": ("J", "min"), "leakage_power": ("W", "min"), "tops": ("1", "max"),
           "tops_per_w": ("1", "max"), "tops_per_mm2": ("1", "max"), "fps": ("1", "max"),
           "utilization": ("1", "max"), "accuracy": ("1", "max")}
# `accuracy: {...}` runs cimgraph.accuracy.simulate_accuracy per point (CIM top-1 accuracy, a fraction) with these.
ACCURACY_KEYS = {"batches": 1, "batch_size": 100, "fast": True, "seed": 0, "data": "digits", "model": None}
TOP_KEYS = ("name", "netlist", "netlists", "network", "networks", "axes", "sampler", "objectives", "constraints",
            "seed", "batch", "accuracy")


class StudyError(NetlistError):
    """A study file failed to validate; every problem carries its key path."""


@attrs.frozen
class Axis:
    """One dimension of the design space: discrete ``values`` or a continuous ``low..high`` range."""

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    steps: int | None = None
    log: bool = False
    integer: bool = False

    @property
    def discrete(self) -> bool:
        return self.values is not None

    def grid(self) -> tuple[Any, ...]:
        """The values a grid visits: the list, or ``steps`` values spread over the range."""
        if self.values is not None:
            return self.values
        if self.log:
            raw = np.geomspace(self.low, self.high, self.steps)
        else:
            raw = np.linspace(self.low, self.high, self.steps)
        return tuple(dict.fromkeys(self.cast(v) for v in raw))

    def at(self, u: float) -> Any:
        """The value at ``u`` in [0, 1): an index into the list, or a point of the (log) range."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.log:
            return self.cast(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        return self.cast(self.low + u * (self.high - self.low))

    def cast(self, value: float) -> Any:
        return int(round(value)) if self.integer else float(value)


@attrs.frozen
class Constraint:
    metric: str
    low: float | None
    high: float | None

    def holds(self, metrics: dict[str, float]) -> bool:
        value = metrics[self.metric]
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        from ..units import format_si

        unit = METRICS[self.metric][0]
        show = (lambda v: f"{v:g}") if unit == "1" else (lambda v: format_si(v, unit))
        parts = [f"{self.metric} >= {show(self.low)}" if self.low is not None else "",
                 f"{self.metric} <= {show(self.high)}" if self.high is not None else ""]
        return " and ".join(p for p in parts if p)


@attrs.frozen
class Study:
    name: str
    file: str
    netlists: tuple[tuple[str, dict[str, Any]], ...]       # (label/path, raw mapping)
    networks: tuple[str, ...]
    axes: tuple[Axis, ...]
    sampler: str = "grid"
    samples: int | None = None
    algorithm: str = "tpe"
    objectives: tuple[tuple[str, str], ...] = (("energy", "min"), ("latency", "min"))
    constraints: tuple[Constraint, ...] = ()
    seed: int = 0
    batch: int | None = None
    accuracy: dict[str, Any] | None = None     # options of the per-point accuracy simulation, or None

    def axis(self, name: str) -> Axis | None:
        return next((a for a in self.axes if a.name == name), None)

    def describe(self) -> dict[str, Any]:
        """Plain data stored with the results (the report reads it)."""
        return {"name": self.name, "file": self.file, "sampler": self.sampler, "samples": self.samples,
                "algorithm": self.algorithm, "seed": self.seed, "axes": [a.name for a in self.axes],
                "objectives": [list(o) for o in self.objectives], "constraints": [str(c) for c in self.constraints],
                "netlists": [label for label, _ in self.netlists], "networks": list(self.networks),
                "accuracy": self.accuracy}


def load_study(path: str | os.PathLike) -> Study:
    """Read and validate a study file; raises StudyError with every problem at once."""
    from ..netlist.loader import read_netlist_file as read_yaml

    file = os.fspath(path)
    try:
        raw = read_yaml(file)
    except NetlistError as exc:
        raise StudyError(exc.problems, file) from None
    return validate_study(raw, file, base=os.path.dirname(file))


def validate_study(raw: Any, file: str = "<study>", base: str = ".",
                   netlists: list[tuple[str, dict[str, Any]]] | None = None) -> Study:
    """Validate a parsed study mapping (``netlists`` given: already-loaded bases, e.g. from `sweep`)."""
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        raise StudyError([Problem("$", f"expected a mapping of study keys, got {type(raw).__name__}")], file)
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(Problem(f"$.{key}", f"unknown study key{did_you_mean(str(key), TOP_KEYS)}; "
                                                f"keys: {', '.join(TOP_KEYS)}"))
    if netlists is None:
        netlists = _netlists(raw, base, problems)
    networks = [_relative(name, base) for name in _names(raw, "network", "networks", problems)]
    axes = _axes(raw.get("axes"), netlists, networks, problems)
    sampler, samples, algorithm = _sampler(raw.get("sampler", "grid"), axes, problems)
    objectives = _objectives(raw.get("objectives", {"energy": "min", "latency": "min"}), problems)
    constraints = _constraints(raw.get("constraints") or {}, problems)
    seed = _integer(raw.get("seed", 0), "$.seed", problems, low=0)
    batch = raw.get("batch")
    if batch is not None:
        batch = _integer(batch, "$.batch", problems, low=1)
    accuracy = _accuracy(raw.get("accuracy"), objectives, constraints, problems)
    name = raw.get("name", os.path.splitext(os.path.basename(file))[0] or "study")
    if not isinstance(name, str):
        problems.append(Problem("$.name", f"expected a text, got {name!r}"))
    if problems:
        raise StudyError(problems, file)
    return Study(name=name, file=file, netlists=tuple(netlists), networks=tuple(networks), axes=tuple(axes),
                 sampler=sampler, samples=samples, algorithm=algorithm, objectives=tuple(objectives),
                 constraints=tuple(constraints), seed=seed, batch=batch, accuracy=accuracy)


def _names(raw: dict[str, Any], one: str, many: str, problems: list[Problem]) -> list[str]:
    if (one in raw) == (many in raw):
        problems.append(Problem("$", f"give exactly one of {one!r} (one) or {many!r} (a list)"))
        return []
    value = [raw[one]] if one in raw else raw[many]
    where = f"$.{one}" if one in raw else f"$.{many}"
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        problems.append(Problem(where, f"expected a file name or a list of them, got {raw.get(one, raw.get(many))!r}"))
        return []
    return value


def _relative(name: str, base: str) -> str:
    """A file named relative to the study file (bundled network names and existing paths stay as they are)."""
    near = os.path.join(base, name)
    return near if not os.path.isabs(name) and not os.path.exists(name) and os.path.exists(near) else name


def _netlists(raw: dict[str, Any], base: str, problems: list[Problem]) -> list[tuple[str, dict[str, Any]]]:
    from ..netlist.loader import read_netlist_file as read_yaml

    out = []
    where = "$.netlist" if "netlist" in raw else "$.netlists"
    for i, name in enumerate(_names(raw, "netlist", "netlists", problems)):
        path = _relative(name, base)
        try:
            data = read_yaml(path)
        except NetlistError as exc:
            problems.append(Problem(where if where == "$.netlist" else f"{where}[{i}]",
                                    f"cannot read netlist {name!r}: {exc}"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(f"{where}[{i}]", f"netlist {name!r} is not a mapping"))
            continue
        out.append((path, data))
    return out


def _has_parent(raw: dict[str, Any], dotted: str) -> bool:
    node: Any = raw
    for key in dotted.split(".")[:-1]:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return isinstance(node, dict)


def _axes(raw: Any, netlists: list[tuple[str, dict[str, Any]]], networks: list[str],
          problems: list[Problem]) -> list[Axis]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(Problem("$.axes", f"expected a mapping of axis -> values, got {type(raw).__name__}"))
        return []
    out = []
    for name, spec in raw.items():
        where = f"$.axes.{name}"
        if not isinstance(name, str) or not name:
            problems.append(Problem(where, "an axis name is a netlist key path or one of " + ", ".join(SPECIAL_AXES)))
            continue
        if name in ("netlist", "network"):
            problems.append(Problem(where, f"list several {name}s under $.{name}s; they become the {name!r} axis"))
            continue
        if name not in SPECIAL_AXES:
            missing = [label for label, data in netlists if not _has_parent(data, name)]
            if missing:
                problems.append(Problem(where, f"no such key path in netlist {missing[0]} (the parent of the last "
                                               f"key must exist; special axes: {', '.join(SPECIAL_AXES[2:])})"))
                continue
        axis = _axis(name, spec, where, problems)
        if axis is not None:
            out.append(axis)
    if len(netlists) > 1:
        out.insert(0, Axis("netlist", values=tuple(label for label, _ in netlists)))
    if len(networks) > 1:
        out.insert(0, Axis("network", values=tuple(networks)))
    return out


def _axis(name: str, spec: Any, where: str, problems: list[Problem]) -> Axis | None:
    if isinstance(spec, dict) and "choices" in spec:
        extra = set(spec) - {"choices"}
        if extra:
            problems.append(Problem(f"{where}.{sorted(extra)[0]}", "a choices axis takes only `choices`"))
        spec = spec["choices"]
    if isinstance(spec, list):
        if not spec:
            problems.append(Problem(where, "expected at least one value"))
            return None
        if not all(v is None or isinstance(v, (int, float, str, bool)) for v in spec):
            problems.append(Problem(where, "axis values must be scalars (numbers, text, true/false)"))
            return None
        axis = Axis(name, values=tuple(dict.fromkeys(spec)))
        _check_special(axis, where, problems)
        return axis
    if not isinstance(spec, dict) or "range" not in spec:
        problems.append(Problem(where, f"expected a list of values, {{choices: [...]}} or "
                                       f"{{range: [low, high], steps: N, log: false, integer: false}}, got {spec!r}"))
        return None
    for key in set(spec) - {"range", "steps", "log", "integer"}:
        keys = ("range", "steps", "log", "integer")
        problems.append(Problem(f"{where}.{key}", f"unknown range key{did_you_mean(str(key), keys)}"))
    bounds = spec["range"]
    if not (isinstance(bounds, list) and len(bounds) == 2):
        problems.append(Problem(f"{where}.range", f"expected [low, high], got {bounds!r}"))
        return None
    try:
        low, high = (parse(b, "1") if not isinstance(b, str) else _number(b) for b in bounds)
    except (UnitError, ValueError) as exc:
        problems.append(Problem(f"{where}.range", str(exc)))
        return None
    log, integer = spec.get("log", False), spec.get("integer", False)
    for key, flag in (("log", log), ("integer", integer)):
        if not isinstance(flag, bool):
            problems.append(Problem(f"{where}.{key}", f"expected true or false, got {flag!r}"))
    if not low < high:
        problems.append(Problem(f"{where}.range", f"expected low < high, got {bounds!r}"))
    if log and low <= 0:
        problems.append(Problem(f"{where}.range", "a log range needs low > 0"))
    steps = spec.get("steps")
    if steps is not None and not (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 2):
        problems.append(Problem(f"{where}.steps", f"expected an integer >= 2, got {steps!r}"))
        steps = None
    axis = Axis(name, low=float(low), high=float(high), steps=steps, log=bool(log), integer=bool(integer))
    _check_special(axis, where, problems)
    return axis


def _number(text: str) -> float:
    """A range bound written with an SI prefix and unit ("10ns", "1GHz"): its SI value."""
    from ..units import SYMBOLS

    for unit in sorted(SYMBOLS, key=len, reverse=True):
        try:
            return parse(text, unit)
        except UnitError:
            continue
    raise ValueError(f"expected a number, got {text!r}")


def _check_special(axis: Axis, where: str, problems: list[Problem]) -> None:
    values = axis.values if axis.discrete else (axis.low, axis.high)
    if axis.name == "method":
        from ..plugins import default_registry

        known = sorted(default_registry().mapping_strategies)
        bad = [v for v in values if v not in known]
        if bad or not axis.discrete:
            problems.append(Problem(where, f"expected mapping methods from {', '.join(known)}, got {bad or values!r}"))
    elif axis.name == "schedule":
        bad = [v for v in values if v not in SCHEDULES]
        if bad or not axis.discrete:
            problems.append(Problem(where, f"expected schedules from {', '.join(SCHEDULES)}, got {bad or values!r}"))
    elif axis.name.startswith("activity"):
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1]
        if bad:
            problems.append(Problem(where, f"activity values lie in [0, 1], got {bad[0]!r}"))


def _sampler(raw: Any, axes: list[Axis], problems: list[Problem]) -> tuple[str, int | None, str]:
    spec = {"kind": raw} if isinstance(raw, str) else raw
    if not isinstance(spec, dict):
        problems.append(Problem("$.sampler", f"expected a sampler name or mapping, got {raw!r}"))
        return "grid", None, "tpe"
    kind = spec.get("kind", "grid")
    if kind not in SAMPLERS:
        problems.append(Problem("$.sampler.kind", f"unknown sampler {kind!r}{did_you_mean(str(kind), SAMPLERS)}; "
                                                  f"samplers: {', '.join(SAMPLERS)}"))
        return "grid", None, "tpe"
    allowed = {"grid": {"kind"}, "optuna": {"kind", "algorithm", "budget"}}.get(kind, {"kind", "samples"})
    for key in set(spec) - allowed:
        problems.append(Problem(f"$.sampler.{key}", f"the {kind} sampler takes only {', '.join(sorted(allowed))}"))
    samples = None
    if kind == "grid":
        for axis in axes:
            if not axis.discrete and axis.steps is None:
                problems.append(Problem(f"$.axes.{axis.name}.steps", "a grid needs `steps` on every range axis"))
    else:
        key = "budget" if kind == "optuna" else "samples"
        samples = _integer(spec.get(key), f"$.sampler.{key}", problems, low=1)
        if not axes:
            problems.append(Problem("$.axes", f"the {kind} sampler needs at least one axis"))
    algorithm = spec.get("algorithm", "tpe")
    if algorithm not in ALGORITHMS:
        problems.append(Problem("$.sampler.algorithm", f"expected one of {', '.join(ALGORITHMS)}, got {algorithm!r}"))
    return kind, samples, algorithm


def _objectives(raw: Any, problems: list[Problem]) -> list[tuple[str, str]]:
    if isinstance(raw, list) and all(isinstance(name, str) for name in raw):  # [energy, latency]: natural senses
        raw = {name: METRICS[name][1] if name in METRICS else None for name in raw}
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem("$.objectives", f"expected a mapping metric -> min | max, got {raw!r}"))
        return []
    out = []
    for name, sense in raw.items():
        if name not in METRICS:
            problems.append(Problem(f"$.objectives.{name}", f"unknown metric{did_you_mean(str(name), METRICS)}; "
                                                            f"metrics: {', '.join(METRICS)}"))
        elif sense not in ("min", "max"):
            problems.append(Problem(f"$.objectives.{name}", f"expected min or max, got {sense!r}"))
        else:
            out.append((name, sense))
    return out


def _constraints(raw: Any, problems: list[Problem]) -> list[Constraint]:
    if not isinstance(raw, dict):
        problems.append(Problem("$.constraints", f"expected a mapping metric -> {{max: ..., min: ...}}, got {raw!r}"))
        return []
    out = []
    for name, spec in raw.items():
        where = f"$.constraints.{name}"
        if name not in METRICS:
            problems.append(Problem(where, f"unknown metric{did_you_mean(str(name), METRICS)}; "
                                           f"metrics: {', '.join(METRICS)}"))
            continue
        if not isinstance(spec, dict) or not spec or set(spec) - {"min", "max"}:
            problems.append(Problem(where, f"expected {{max: VALUE}} and/or {{min: VALUE}}, got {spec!r}"))
            continue
        unit = METRICS[name][0]
        bounds = {}
        for key, value in spec.items():
            try:
                bounds[key] = parse(value, unit)
            except UnitError as exc:
                problems.append(Problem(f"{where}.{key}", str(exc)))
        out.append(Constraint(name, bounds.get("min"), bounds.get("max")))
    return out


def _accuracy(raw: Any, objectives: list[tuple[str, str]], constraints: list[Constraint],
              problems: list[Problem]) -> dict[str, Any] | None:
    wanted = any(n == "accuracy" for n, _ in objectives) or any(c.metric == "accuracy" for c in constraints)
    if raw is None:
        if wanted:
            problems.append(Problem("$.accuracy", "an accuracy objective or constraint needs an `accuracy:` section "
                                                  "(e.g. {batches: 1, fast: true}; {} for the defaults)"))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem("$.accuracy", f"expected a mapping of {', '.join(ACCURACY_KEYS)}, got {raw!r}"))
        return None
    for key in set(raw) - set(ACCURACY_KEYS):
        problems.append(Problem(f"$.accuracy.{key}", f"unknown accuracy option{did_you_mean(str(key), ACCURACY_KEYS)}"))
    options = {**ACCURACY_KEYS, **raw}
    for key in ("batches", "batch_size"):
        _integer(options[key], f"$.accuracy.{key}", problems, low=1)
    _integer(options["seed"], "$.accuracy.seed", problems, low=0)
    if not isinstance(options["fast"], bool):
        problems.append(Problem("$.accuracy.fast", f"expected true or false, got {options['fast']!r}"))
    for key in ("data", "model"):
        if options[key] is not None and not isinstance(options[key], str):
            problems.append(Problem(f"$.accuracy.{key}", f"expected a name, got {options[key]!r}"))
    return dict(sorted(options.items()))


def _integer(value: Any, where: str, problems: list[Problem], low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        problems.append(Problem(where, f"expected an integer >= {low}, got {value!r}"))
        return low
    return value
