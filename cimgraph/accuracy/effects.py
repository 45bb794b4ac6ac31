"""Accuracy effects: the device and circuit non-idealities, each a registered class.

An effect may act at four points of a layer's life (every method is optional):

- ``configure(config)``: change the :class:`CimConfig` (e.g. capacitive cells set states in F);
- ``program(states, levels, config, generator)``: once, when the weights are written: returns the
  programmed cell states (S, F or normalised) from the nominal ones;
- ``read_variance(states, config)``: per-read variance of each cell's state (state units^2);
- ``output_sigma(config)``: standard deviation of additive noise at the ADC input, in cell-level
  units (one level = (state_on - state_off) / (2^bits_per_cell - 1) of input-weighted state);
- ``perturb_output(psum, generator)`` (with ``perturbs_output = True``): any change of the ADC
  input, every conversion (e.g. per-level measured output statistics).

Effects run in ``order`` (lower first). All randomness comes from the generator the layer passes
in, seeded from the run's seed, so the same seed gives the same numbers. Torch is imported only
inside methods so that registering effects never imports it.
"""
from __future__ import annotations

import csv
import io
import math
from typing import Any, ClassVar

import attrs

from ..errors import AccuracyError


def _non_negative(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise AccuracyError(f"{type(instance).__name__}.{attribute.name}: expected a number >= 0, got {value!r}")


def _fraction(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    _non_negative(instance, attribute, value)
    if value > 1:
        raise AccuracyError(f"{type(instance).__name__}.{attribute.name}: expected a rate from 0 to 1, got {value!r}")


@attrs.frozen
class AccuracyEffect:
    """Base of every accuracy effect; subclasses set ``name``, ``source`` and override hooks."""

    name: ClassVar[str] = ""
    source: ClassVar[str] = ""
    order: ClassVar[int] = 50
    perturbs_output: ClassVar[bool] = False

    def configure(self, config: Any) -> Any:
        return config

    def program(self, states: Any, levels: Any, config: Any, generator: Any) -> Any:
        return states

    def read_variance(self, states: Any, config: Any) -> Any:
        return None

    def output_sigma(self, config: Any) -> float:
        return 0.0

    def perturb_output(self, psum: Any, generator: Any) -> Any:
        return psum


@attrs.frozen
class CapacitiveCells(AccuracyEffect):
    """nvCap cells: states are capacitances in farads; the column output is charge, Q = sum C_i V_i.

    Charge sharing sums C*V exactly as a resistive column sums G*V, so the array arithmetic is the
    same with C in place of G (seed 003 sec. 3, ``--mem_type capacitive --off_state --on_state``).
    Valid for linear capacitors, i.e. read voltages well below the ferroelectric coercive voltage.
    """

    name: ClassVar[str] = "capacitive"
    source: ClassVar[str] = "NeuroSim V1.5 README (seed 003): nvCap-CIM, --on_state/--off_state in F"
    order: ClassVar[int] = 0
    c_on: float = attrs.field(default=1e-14, validator=_non_negative)
    c_off: float = attrs.field(default=1e-15, validator=_non_negative)

    def configure(self, config: Any) -> Any:
        if not 0 <= self.c_off < self.c_on:
            raise AccuracyError(f"capacitive: expected 0 <= c_off < c_on, got {self.c_off!r}, {self.c_on!r}")
        return attrs.evolve(config, state_off=self.c_off, state_on=self.c_on, state_unit="F")


@attrs.frozen
class MemoryStates(AccuracyEffect):
    """Per-level programmed states from measurement or SPICE: level i ~ Normal(mean_i, sigma_i).

    The NeuroSim V1.5 memory-state file (seed 003, ``--mem_states_file``); means and sigmas are
    in S (resistive) or F (capacitive). The nominal level spacing becomes (mean_last - mean_0) /
    (levels - 1), so unevenly spaced means show up as weight non-linearity.
    """

    name: ClassVar[str] = "memory_states"
    source: ClassVar[str] = "NeuroSim V1.5 README (seed 003): --mem_states_file, per-level mean and sigma"
    order: ClassVar[int] = 10
    means: tuple[float, ...] = attrs.field(converter=lambda v: tuple(float(x) for x in v))
    sigmas: tuple[float, ...] = attrs.field(converter=lambda v: tuple(float(x) for x in v))
    unit: str = "S"

    def __attrs_post_init__(self) -> None:
        if len(self.means) < 2 or len(self.means) != len(self.sigmas):
            raise AccuracyError("memory_states: expected at least two levels, each with a mean and a sigma")
        if any(b <= a for a, b in zip(self.means, self.means[1:])) or self.means[0] < 0:
            raise AccuracyError(f"memory_states: level means must rise from >= 0, got {self.means}")
        if any(s < 0 for s in self.sigmas):
            raise AccuracyError(f"memory_states: sigmas must be >= 0, got {self.sigmas}")

    def configure(self, config: Any) -> Any:
        if len(self.means) != config.levels:
            raise AccuracyError(
                f"memory_states: the file has {len(self.means)} levels but a {config.bits_per_cell}-bit cell "
                f"has {config.levels}")
        return attrs.evolve(config, state_off=self.means[0], state_on=self.means[-1], state_unit=self.unit)

    def program(self, states: Any, levels: Any, config: Any, generator: Any) -> Any:
        import torch

        index = levels.long()
        mean = torch.tensor(self.means, dtype=states.dtype)[index]
        sigma = torch.tensor(self.sigmas, dtype=states.dtype)[index]
        noise = torch.randn(states.shape, generator=generator, dtype=states.dtype)
        return (mean + sigma * noise).clamp_min(0.0)


def read_memory_states(path: str, unit: str = "S") -> MemoryStates:
    """Read a memory-state CSV with columns ``level,mean,sigma`` (a header row, one row per level, SI
    units; extra columns ignored). Levels must be the integers 0..n-1, each once, in any order; means
    and sigmas finite, sigma >= 0. Errors name the file, row and column."""
    from .. import safe_yaml
    from ..errors import InputError, brief

    try:
        text = safe_yaml.read_text(path)
    except InputError as exc:
        raise AccuracyError(f"memory-state file {path}: {exc.where}: {exc.message}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        table = list(reader)
    except csv.Error as exc:
        raise AccuracyError(f"memory-state file {path}: row {reader.line_num}: not a CSV row "
                            f"({str(exc)[:80]})") from None
    reader = iter(table)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in ("level", "mean", "sigma") if c not in header]
    if missing:
        raise AccuracyError(f"memory-state file {path}: row 1: expected the columns level,mean,sigma, "
                            f"missing {', '.join(missing)}")
    index = {c: header.index(c) for c in ("level", "mean", "sigma")}
    states: dict[int, tuple[float, float]] = {}
    rows: dict[int, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        values = []
        for column in ("level", "mean", "sigma"):
            where = f"memory-state file {path}: row {number}, column {index[column] + 1} ({column})"
            text_value = cells[index[column]].strip() if index[column] < len(cells) else ""
            try:
                value = float(text_value) if len(text_value) <= 40 else math.nan
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or (column == "sigma" and value < 0):
                wanted = "a finite number >= 0" if column == "sigma" else "a finite number"
                raise AccuracyError(f"{where}: expected {wanted}, got {brief(text_value)}")
            if column == "level" and (value != int(value) or value < 0):
                raise AccuracyError(f"{where}: expected a level number 0, 1, 2, ..., got {brief(text_value)}")
            values.append(value)
        level = int(values[0])
        if level in states:
            raise AccuracyError(f"memory-state file {path}: row {number}: level {level} is given again "
                                f"(first on row {rows[level]})")
        states[level], rows[level] = (values[1], values[2]), number
    if len(states) < 2:
        raise AccuracyError(f"memory-state file {path}: expected at least two level rows after the header row, "
                            f"found {len(states)}")
    absent = [level for level in range(len(states)) if level not in states]
    if absent:
        raise AccuracyError(f"memory-state file {path}: rows 2-{max(rows.values())}, column {index['level'] + 1} "
                            f"(level): levels must be 0..{len(states) - 1}, each once; missing level {absent[0]}")
    ordered = [states[level] for level in range(len(states))]
    try:
        return MemoryStates([m for m, _ in ordered], [s for _, s in ordered], unit)
    except AccuracyError as exc:
        raise AccuracyError(f"memory-state file {path}: rows 2-{max(rows.values())}: {exc}") from None


@attrs.frozen
class Variation(AccuracyEffect):
    """Device-to-device programming variation: G = G_target (1 + sigma N(0,1)), G >= 0.

    Relative to the desired state, as in seed 001 sec. 7(2) (``args.vari``). Valid for sigma well
    below 1 (larger values are clipped at zero conductance).
    """

    name: ClassVar[str] = "variation"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual (seed 001) sec. 7(2), conductance variation"
    order: ClassVar[int] = 20
    sigma: float = attrs.field(default=0.0, validator=_non_negative)

    def program(self, states: Any, levels: Any, config: Any, generator: Any) -> Any:
        import torch

        noise = torch.randn(states.shape, generator=generator, dtype=states.dtype)
        return (states * (1.0 + self.sigma * noise)).clamp_min(0.0)


@attrs.frozen
class StuckAt(AccuracyEffect):
    """Stuck-at faults: a fraction of cells reads as the off state (SA0) or the on state (SA1).

    NeuroSim V1.5 ``--rate_stuck_0`` / ``--rate_stuck_1`` (seed 003); faults are independent per cell.
    """

    name: ClassVar[str] = "stuck_at"
    source: ClassVar[str] = "NeuroSim V1.5 README (seed 003): --rate_stuck_0, --rate_stuck_1"
    order: ClassVar[int] = 30
    rate_0: float = attrs.field(default=0.0, validator=_fraction)
    rate_1: float = attrs.field(default=0.0, validator=_fraction)

    def program(self, states: Any, levels: Any, config: Any, generator: Any) -> Any:
        import torch

        if self.rate_0 + self.rate_1 > 1:
            raise AccuracyError("stuck_at: rate_0 + rate_1 must not exceed 1")
        draw = torch.rand(states.shape, generator=generator, dtype=states.dtype)
        states = torch.where(draw < self.rate_0, torch.full_like(states, config.state_off), states)
        stuck_on = (draw >= self.rate_0) & (draw < self.rate_0 + self.rate_1)
        return torch.where(stuck_on, torch.full_like(states, config.state_on), states)


DRIFT_SCENARIOS = ("max", "min", "intermediate", "random")


@attrs.frozen
class Drift(AccuracyEffect):
    """Retention drift G = G0 (t/t0)^(v*s), clamped to [state_off, state_on] (seed 001 sec. 7(3)).

    The sign s moves each cell towards a target: the maximum state (``max``), the minimum
    (``min``), an ``intermediate`` normalised target in (0, 1), or a random direction per cell
    (s in {-1, 0, +1}, ``random``), the four scenarios of seed 001 Fig. 24. t0 = 1 s as there;
    the power law is the phase-change-memory fit the manual assumes.
    """

    name: ClassVar[str] = "drift"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual (seed 001) sec. 7(3), eq. G = G0 (t/t0)^v, Fig. 24"
    order: ClassVar[int] = 40
    time: float = attrs.field(default=1.0, validator=_non_negative)
    coefficient: float = attrs.field(default=0.0, validator=_non_negative)
    scenario: str = "random"
    target: float = attrs.field(default=0.5, validator=_fraction)
    t0: float = 1.0

    def __attrs_post_init__(self) -> None:
        if self.scenario not in DRIFT_SCENARIOS:
            raise AccuracyError(f"drift.scenario: expected one of {DRIFT_SCENARIOS}, got {self.scenario!r}")
        if self.t0 <= 0:
            raise AccuracyError(f"drift.t0: expected a positive time, got {self.t0!r}")

    def program(self, states: Any, levels: Any, config: Any, generator: Any) -> Any:
        import torch

        if self.time <= self.t0 or self.coefficient == 0:
            return states
        span = config.state_on - config.state_off
        if self.scenario == "random":
            sign = torch.randint(-1, 2, states.shape, generator=generator).to(states.dtype)
        else:
            target = {"max": 1.0, "min": 0.0}.get(self.scenario, self.target)
            sign = torch.sign(target - (states - config.state_off) / span)
        ratio = (self.time / self.t0) ** (self.coefficient * sign)
        return (states * ratio).clamp(config.state_off, config.state_on)


@attrs.frozen
class ReadNoise(AccuracyEffect):
    """Cycle-to-cycle read noise: every read sees G (1 + sigma N(0,1)), fresh per read.

    NeuroSim V1.5 ``--read_noise`` (seed 003), relative sigma. Column sums of independent
    per-cell noise are drawn in one go per column and read cycle with their exact variance
    sigma^2 sum_i x_i^2 G_i^2.
    """

    name: ClassVar[str] = "read_noise"
    source: ClassVar[str] = "NeuroSim V1.5 README (seed 003): --read_noise"
    sigma: float = attrs.field(default=0.0, validator=_non_negative)

    def read_variance(self, states: Any, config: Any) -> Any:
        return (self.sigma * states) ** 2 if self.sigma > 0 else None


@attrs.frozen
class OutputNoise(AccuracyEffect):
    """Additive Gaussian noise at the ADC input, sigma in cell-level units, fresh per conversion.

    NeuroSim V1.5 ``--output_noise`` (seed 003): noise of the column output voltage; expressed
    here relative to one cell level so it is independent of the read voltage and sense resistor.
    """

    name: ClassVar[str] = "output_noise"
    source: ClassVar[str] = "NeuroSim V1.5 README (seed 003): --output_noise"
    sigma: float = attrs.field(default=0.0, validator=_non_negative)

    def output_sigma(self, config: Any) -> float:
        return self.sigma


@attrs.frozen
class OutputNoiseTable(AccuracyEffect):
    """Output noise from measured per-level statistics: a column output at level l reads Normal(mean(l), sigma(l)).

    NeuroSim V1.5 ``--output_noise -1 --output_noise_file`` (seed 003): the statistics of the column
    output for each ideal output level, from silicon or SPICE. Here ``levels`` are ideal ADC-input
    values in cell-level units (the partial sum of one conversion; signed where the reference is
    subtracted in the analog domain), ``means`` and ``sigmas`` in the same units; between two levels
    mean and sigma are interpolated linearly, beyond the table the edge level's offset (mean - level)
    and sigma hold. Fresh draws every conversion.
    """

    name: ClassVar[str] = "output_noise_table"
    source: ClassVar[str] = "NeuroSim V1.5 README (seed 003): --output_noise -1, --output_noise_file"
    perturbs_output: ClassVar[bool] = True
    levels: tuple[float, ...] = attrs.field(converter=lambda v: tuple(float(x) for x in v))
    means: tuple[float, ...] = attrs.field(converter=lambda v: tuple(float(x) for x in v))
    sigmas: tuple[float, ...] = attrs.field(converter=lambda v: tuple(float(x) for x in v))

    def __attrs_post_init__(self) -> None:
        if not self.levels or not len(self.levels) == len(self.means) == len(self.sigmas):
            raise AccuracyError("output_noise_table: expected at least one level, each with a mean and a sigma")
        if any(b <= a for a, b in zip(self.levels, self.levels[1:])):
            raise AccuracyError(f"output_noise_table: levels must rise, got {self.levels}")
        if any(s < 0 or not math.isfinite(s) for s in self.sigmas) or not all(map(math.isfinite, self.means)):
            raise AccuracyError("output_noise_table: means must be finite and sigmas finite and >= 0")

    def perturb_output(self, psum: Any, generator: Any) -> Any:
        import torch

        table = torch.tensor([self.levels, self.means, self.sigmas], dtype=psum.dtype, device=psum.device)
        levels, offsets, sigmas = table[0], table[1] - table[0], table[2]
        if levels.numel() == 1:
            offset, sigma = offsets[0].expand_as(psum), sigmas[0].expand_as(psum)
        else:
            right = torch.bucketize(psum, levels).clamp_(1, levels.numel() - 1)
            left = right - 1
            t = ((psum - levels[left]) / (levels[right] - levels[left])).clamp_(0, 1)
            offset = offsets[left] + t * (offsets[right] - offsets[left])
            sigma = sigmas[left] + t * (sigmas[right] - sigmas[left])
        noise = torch.randn(psum.shape, generator=generator, dtype=psum.dtype, device=psum.device)
        return psum + offset + sigma * noise


def read_output_noise(path: str) -> OutputNoiseTable:
    """Read an output-noise CSV with columns ``level,mean,sigma`` (cell-level units; extra columns ignored)."""
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in ("level", "mean", "sigma") if c not in header]
            if missing:
                raise AccuracyError(f"output-noise file {path}: row 1: missing column(s) {missing}; "
                                    f"expected level,mean,sigma")
            rows = []
            for number, row in enumerate(reader, start=2):
                values = []
                for column in ("level", "mean", "sigma"):
                    try:
                        values.append(float(row[column]))
                    except (TypeError, ValueError):
                        raise AccuracyError(f"output-noise file {path}: row {number}, column {column!r}: "
                                            f"expected a number, got {row[column]!r}") from None
                rows.append(values)
    except OSError as exc:
        raise AccuracyError(f"output-noise file {path}: {exc.strerror}") from exc
    rows.sort()
    try:
        return OutputNoiseTable(*zip(*rows)) if rows else OutputNoiseTable((), (), ())
    except AccuracyError as exc:
        raise AccuracyError(f"output-noise file {path}: {exc}") from None


BUILTIN_EFFECTS = (CapacitiveCells, MemoryStates, Variation, StuckAt, Drift, ReadNoise, OutputNoise, OutputNoiseTable)


def make_effects(specs: dict[str, Any] | None, registry: Any = None) -> tuple[AccuracyEffect, ...]:
    """Effect instances from ``{name: value}``: a dict of fields, a tuple of positional fields,
    a single number for the first field, or an effect instance; sorted by ``order``."""
    if not specs:
        return ()
    if registry is None:
        from ..plugins import default_registry

        registry = default_registry()
    effects = []
    for name, value in specs.items():
        if value is None or value is False:
            continue
        if isinstance(value, AccuracyEffect):
            effects.append(value)
            continue
        cls = registry.accuracy_effect(name)
        try:
            if isinstance(value, dict):
                effects.append(cls(**value))
            elif isinstance(value, (tuple, list)):
                effects.append(cls(*value))
            else:
                effects.append(cls(value))
        except TypeError as exc:
            raise AccuracyError(f"accuracy effect {name!r}: {exc}") from exc
    return tuple(sorted(effects, key=lambda e: e.order))
