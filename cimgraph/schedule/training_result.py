"""TrainingResult: per-epoch training PPA (plain attrs data, JSON round trip, CSV, text summary).

Values SI. ``phases`` in the order the scheduler runs them; a phase's ``peak_*`` counts only its
compute groups, as the "PEAK" lines of DNN+NeuroSim V2's summary (seed 001 Fig. 34) do.
"""
from __future__ import annotations

import json
import os

import attrs
import cattrs

from ..errors import CimgraphError
from ..units import format_si
from .result import Result

PHASE_TITLES = {"forward": "Forward", "activation_gradient": "Activation gradient",
                "weight_gradient": "Weight gradient", "weight_update": "Weight update", "dram": "DRAM transfers"}


@attrs.frozen
class PhaseResult:
    """One training phase over one epoch."""

    name: str
    latency: float
    energy: float
    peak_latency: float
    peak_energy: float
    latency_by_group: dict[str, float]
    energy_by_group: dict[str, float]
    energy_by_component: dict[str, float]
    energy_by_layer: dict[str, float]


@attrs.frozen
class TrainingResult:
    """Training PPA of one network on one chip under one scheme, per epoch."""

    kind: str                     # always "training" (tells a training JSON from an inference one)
    scheme: str
    chip: str
    network: str
    technology: str
    cell: str
    batch: int
    iterations: int
    epochs: int
    images: int                   # per epoch
    precision: dict[str, int]
    phases: tuple[PhaseResult, ...]
    area: float
    area_by_group: dict[str, float]
    wg_area: float
    leakage_power: float
    leakage_energy: float         # per epoch
    latency: float                # per epoch
    dynamic_energy: float         # per epoch
    energy: float                 # dynamic + leakage, per epoch
    ops: float                    # per epoch: 3 x MACs x images (seed 001 Fig. 34)
    tops: float
    tops_per_w: float
    peak_latency: float
    peak_energy: float
    peak_tops: float
    peak_tops_per_w: float
    latency_by_group: dict[str, float]
    energy_by_group: dict[str, float]
    global_buffer: float          # bits, after the bufferOverHeadConstraint sizing
    parallel_writes: int          # subarrays written at once in the weight update
    notes: tuple[str, ...] = ()

    def phase(self, name: str) -> PhaseResult:
        for p in self.phases:
            if p.name == name:
                return p
        raise CimgraphError(f"no phase {name!r}; phases: {', '.join(p.name for p in self.phases)}")

    # the generic attrs <-> JSON round trip of the inference Result
    to_dict = Result.to_dict
    from_dict = classmethod(Result.from_dict.__func__)
    to_json = Result.to_json

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "TrainingResult":
        from .result import read_result_json  # bounded, strict JSON (no NaN, no duplicate keys)

        try:
            return cls.from_dict(read_result_json(os.fspath(path), figures=False))
        except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
            raise CimgraphError(f"{os.fspath(path)}: not a cimgraph training result JSON "
                                f"({type(exc).__name__}: {exc})") from None


def is_training_json(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a TrainingResult (its ``kind`` is "training")."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("kind") == "training"


def format_training(r: TrainingResult) -> str:
    """The text summary `cimgraph train-ppa` prints (NeuroSim V2 Fig. 34 style, per epoch)."""
    lines = [f"----- {r.chip}: {r.network} training, scheme {r.scheme}, {r.technology} {r.cell} -----",
             f"batch {r.batch} x {r.iterations} iterations = {r.images} images per epoch, {r.epochs} epoch(s); "
             f"precision " + ", ".join(f"{k} {v}" for k, v in r.precision.items()),
             f"Chip area: {format_si(r.area, 'm^2')}   weight-gradient unit: {format_si(r.wg_area, 'm^2')}   "
             f"global buffer {format_si(r.global_buffer, 'bit')}   parallel subarray writes {r.parallel_writes}"]
    for g, a in r.area_by_group.items():
        lines.append(f"  area {g:20} {format_si(a, 'm^2'):>12}")
    lines.append("")
    lines.append(f"{'phase (per epoch)':24} {'latency':>11} {'energy':>11} {'PEAK latency':>13} {'PEAK energy':>12}")
    for p in r.phases:
        lines.append(f"{PHASE_TITLES.get(p.name, p.name):24} {format_si(p.latency, 's'):>11} "
                     f"{format_si(p.energy, 'J'):>11} {format_si(p.peak_latency, 's'):>13} "
                     f"{format_si(p.peak_energy, 'J'):>12}")
    lines.append(f"{'total':24} {format_si(r.latency, 's'):>11} {format_si(r.dynamic_energy, 'J'):>11} "
                 f"{format_si(r.peak_latency, 's'):>13} {format_si(r.peak_energy, 'J'):>12}")
    lines.append("")
    lines.append("Breakdown by component group (per epoch):")
    for g in r.energy_by_group:
        lines.append(f"  {g:20} {format_si(r.latency_by_group.get(g, 0.0), 's'):>11} "
                     f"{format_si(r.energy_by_group[g], 'J'):>11}")
    lines += ["",
              f"Leakage power: {format_si(r.leakage_power, 'W')}   leakage energy per epoch: "
              f"{format_si(r.leakage_energy, 'J')}",
              f"Energy per epoch: {format_si(r.energy, 'J')}   latency per epoch: {format_si(r.latency, 's')}",
              f"Energy efficiency: {r.tops_per_w:.4g} TOPS/W   throughput {r.tops:.4g} TOPS",
              f"Peak: {r.peak_tops_per_w:.4g} TOPS/W   {r.peak_tops:.4g} TOPS"]
    if r.epochs > 1:
        lines.append(f"{r.epochs} epochs: latency {format_si(r.latency * r.epochs, 's')}, energy "
                     f"{format_si(r.energy * r.epochs, 'J')} (every figure above is per epoch)")
    lines += [f"note: {n}" for n in r.notes]
    return "\n".join(lines)


TRAINING_CSV_FILES = ("phases.csv", "phase_layers.csv")


def write_training_csv(r: TrainingResult, directory: str) -> list[str]:
    """phases.csv (latency, energy, peak and groups per phase) and phase_layers.csv (energy per layer)."""
    from ..output import write_tables

    groups = list(r.energy_by_group)
    phases = [["phase", "latency_s", "energy_J", "peak_latency_s", "peak_energy_J"]
              + [f"latency_{g}_s" for g in groups] + [f"energy_{g}_J" for g in groups]]
    phases += [[p.name, p.latency, p.energy, p.peak_latency, p.peak_energy]
               + [p.latency_by_group.get(g, 0.0) for g in groups]
               + [p.energy_by_group.get(g, 0.0) for g in groups] for p in r.phases]
    names = list(dict.fromkeys(name for p in r.phases for name in p.energy_by_layer))
    layers = [["layer"] + [f"energy_{p.name}_J" for p in r.phases]]
    layers += [[name] + [p.energy_by_layer.get(name, 0.0) for p in r.phases] for name in names]
    return write_tables(directory, dict(zip(TRAINING_CSV_FILES, (phases, layers))))
