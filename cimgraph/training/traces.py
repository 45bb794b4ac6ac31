"""Training trace files: per epoch and mapped layer, the weight and the applied-update distributions.

File names as seed 001 (DNN+NeuroSim V2 manual sec. 9, Fig. 32) names them; the columns are the
project's contract between on-chip training (which writes them) and the training PPA (which reads
them, ``cimgraph train-ppa --traces``):

- ``Weight_dist.csv``: ``epoch,layer,mean,std,mean_abs,conductance_mean`` -- weights normalised to
  [-1, 1]; conductance_mean = mean programmed level in [0, 1] (0 = G_min, 1 = G_max).
- ``Delta_dist.csv``: ``epoch,layer,mean,std,mean_abs,nonzero_fraction,pulses_ltp,pulses_ltd,updates``
  -- the applied weight change per update step normalised to the [-1, 1] range; nonzero_fraction =
  fraction of cells that got at least one pulse per update step; pulses_ltp / pulses_ltd = mean
  integer pulse count per cell per update step in each direction (all cells, zeros included);
  updates = update steps in that epoch.

``layer`` is the Layer.name of the mapped network. Readers accept extra columns and name the file,
row and column of any bad value.
"""
from __future__ import annotations

import csv
import math
import os
from typing import Any, Iterable

import attrs

from ..errors import CimgraphError

WEIGHT_FILE = "Weight_dist.csv"
DELTA_FILE = "Delta_dist.csv"
WEIGHT_COLUMNS = ("epoch", "layer", "mean", "std", "mean_abs", "conductance_mean")
DELTA_COLUMNS = ("epoch", "layer", "mean", "std", "mean_abs", "nonzero_fraction", "pulses_ltp", "pulses_ltd",
                 "updates")


class TraceError(CimgraphError):
    """A trace file that is missing, malformed or holds an impossible value."""


@attrs.frozen
class WeightRow:
    epoch: int
    layer: str
    mean: float
    std: float
    mean_abs: float
    conductance_mean: float


@attrs.frozen
class DeltaRow:
    epoch: int
    layer: str
    mean: float
    std: float
    mean_abs: float
    nonzero_fraction: float
    pulses_ltp: float
    pulses_ltd: float
    updates: int


ROW_TYPES = {WEIGHT_FILE: (WeightRow, WEIGHT_COLUMNS), DELTA_FILE: (DeltaRow, DELTA_COLUMNS)}
# value checks per column: (low, high) for floats, None for the free-text layer
BOUNDS = {"mean": (-1.0, 1.0), "std": (0.0, 2.0), "mean_abs": (0.0, 1.0), "conductance_mean": (0.0, 1.0),
          "nonzero_fraction": (0.0, 1.0), "pulses_ltp": (0.0, math.inf), "pulses_ltd": (0.0, math.inf)}


def write_traces(directory: str, weights: Iterable[WeightRow], deltas: Iterable[DeltaRow]) -> tuple[str, str]:
    """Write both files into ``directory`` (created if needed); returns their paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, rows in ((WEIGHT_FILE, weights), (DELTA_FILE, deltas)):
        columns = ROW_TYPES[name][1]
        path = os.path.join(directory, name)
        tmp = path + ".tmp"
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(getattr(row, c)) for c in columns])
        os.replace(tmp, path)
        paths.append(path)
    return paths[0], paths[1]


def _cell(value: Any) -> str:
    return f"{value:.9g}" if isinstance(value, float) else str(value)


def read_trace(path: str) -> list[Any]:
    """Rows of a Weight_dist.csv or Delta_dist.csv (chosen by the file name, or by the header)."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise TraceError(f"{path}: cannot read trace file: {exc.strerror}") from exc
    if not rows:
        raise TraceError(f"{path}: empty trace file (expected a header row)")
    header = [h.strip() for h in rows[0]]
    kind = os.path.basename(path)
    if kind not in ROW_TYPES:
        kind = DELTA_FILE if "pulses_ltp" in header else WEIGHT_FILE
    cls, columns = ROW_TYPES[kind]
    missing = [c for c in columns if c not in header]
    if missing:
        raise TraceError(f"{path}: row 1: missing column(s) {missing}; expected {list(columns)}")
    index = {c: header.index(c) for c in columns}
    out, problems = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values: dict[str, Any] = {}
        for column in columns:
            text = row[index[column]].strip() if index[column] < len(row) else ""
            try:
                values[column] = _parse(column, text)
            except ValueError as exc:
                problems.append(f"{path}: row {number}, column {column}: {exc}")
        if len(values) == len(columns):
            out.append(cls(**values))
    if problems:
        raise TraceError("\n".join(problems))
    return out


def _parse(column: str, text: str) -> Any:
    if column == "layer":
        if not text:
            raise ValueError("expected a layer name, got an empty cell")
        return text
    if column in ("epoch", "updates"):
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected a whole number >= 0, got {text!r}") from None
        if value < 0:
            raise ValueError(f"expected a whole number >= 0, got {text!r}")
        return value
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    low, high = BOUNDS[column]
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"expected a number from {low:g} to {high:g}, got {text!r}")
    return value


def read_traces(directory: str) -> tuple[list[WeightRow], list[DeltaRow]]:
    """Both trace files of a training run's output directory."""
    return read_trace(os.path.join(directory, WEIGHT_FILE)), read_trace(os.path.join(directory, DELTA_FILE))
