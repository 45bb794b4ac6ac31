"""Readers of the training traces seed 001 names (sec. 3, Step 4): ``Weight_dist.csv`` and ``Delta_dist.csv``.

Format (the shared contract with the on-chip training loop that writes them; one row per epoch and
mapped layer, header row, extra columns allowed):

- Weight_dist.csv: ``epoch,layer,mean,std,mean_abs,conductance_mean`` (weights normalised to [-1, 1];
  conductance_mean = mean programmed level in [0, 1]);
- Delta_dist.csv: ``epoch,layer,mean,std,mean_abs,nonzero_fraction,pulses_ltp,pulses_ltd,updates``
  (applied change per update step normalised to the [-1, 1] range; pulses = mean pulse count per cell
  per update step, zeros included; updates = update steps in that epoch).

A bad value is reported with the file, row and column.
"""
from __future__ import annotations

import csv
import math
import os

import attrs

from ..errors import CimgraphError

WEIGHT_COLUMNS = ("epoch", "layer", "mean", "std", "mean_abs", "conductance_mean")
DELTA_COLUMNS = ("epoch", "layer", "mean", "std", "mean_abs", "nonzero_fraction", "pulses_ltp", "pulses_ltd",
                 "updates")
FRACTIONS = ("conductance_mean", "nonzero_fraction")


@attrs.frozen
class LayerTrace:
    """One layer's update statistics in one epoch (Delta_dist.csv, plus Weight_dist.csv's level)."""

    layer: str
    epoch: int
    mean_abs: float
    nonzero_fraction: float
    pulses_ltp: float
    pulses_ltd: float
    updates: int
    conductance_mean: float = 0.5


def _read(path: str, columns: tuple[str, ...]) -> list[dict[str, object]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise CimgraphError(f"{path}: row 1: missing column(s) {', '.join(missing)}; expected "
                                    f"{','.join(columns)}")
            rows = []
            for number, raw in enumerate(reader, start=2):
                row: dict[str, object] = {"layer": raw["layer"]}
                for name in columns:
                    if name == "layer":
                        continue
                    text = raw[name]
                    try:
                        value = int(text) if name in ("epoch", "updates") else float(text)
                    except (TypeError, ValueError):
                        raise CimgraphError(f"{path}: row {number}, column {name}: expected a number, "
                                            f"got {text!r}") from None
                    bad = (not math.isfinite(value) or (name != "mean" and value < 0)
                           or (name in FRACTIONS and value > 1))
                    if bad:
                        rng = "in [0, 1]" if name in FRACTIONS else "finite and non-negative"
                        raise CimgraphError(f"{path}: row {number}, column {name}: expected a value {rng}, "
                                            f"got {text!r}")
                    row[name] = value
                rows.append(row)
    except OSError as exc:
        raise CimgraphError(f"{path}: cannot read the trace ({exc.strerror or exc})") from None
    return rows


def read_traces(directory: str, epoch: int | None = None) -> dict[str, LayerTrace]:
    """The per-layer update statistics of ``epoch`` (default: the last) from DIRECTORY/Delta_dist.csv,
    with the mean conductance level from Weight_dist.csv when that file is there."""
    delta_path = os.path.join(directory, "Delta_dist.csv")
    rows = _read(delta_path, DELTA_COLUMNS)
    if not rows:
        raise CimgraphError(f"{delta_path}: no data rows")
    chosen = epoch if epoch is not None else max(int(r["epoch"]) for r in rows)
    levels: dict[str, float] = {}
    weight_path = os.path.join(directory, "Weight_dist.csv")
    if os.path.exists(weight_path):
        levels = {str(r["layer"]): float(r["conductance_mean"]) for r in _read(weight_path, WEIGHT_COLUMNS)
                  if int(r["epoch"]) == chosen}
    out = {}
    for r in rows:
        if int(r["epoch"]) != chosen:
            continue
        name = str(r["layer"])
        out[name] = LayerTrace(layer=name, epoch=chosen, mean_abs=float(r["mean_abs"]),
                               nonzero_fraction=float(r["nonzero_fraction"]), pulses_ltp=float(r["pulses_ltp"]),
                               pulses_ltd=float(r["pulses_ltd"]), updates=int(r["updates"]),
                               conductance_mean=levels.get(name, 0.5))
    if not out:
        raise CimgraphError(f"{delta_path}: no rows for epoch {chosen}")
    return out
