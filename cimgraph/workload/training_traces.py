"""Readers of the training traces seed 001 names (sec. 3, Step 4): ``Weight_dist.csv`` and ``Delta_dist.csv``.

Format (the shared contract with the on-chip training loop that writes them; one row per epoch and
mapped layer, header row, extra columns allowed):

- Weight_dist.csv: ``epoch,layer,mean,std,mean_abs,conductance_mean`` (weights normalised to [-1, 1];
  conductance_mean = mean programmed level in [0, 1]);
- Delta_dist.csv: ``epoch,layer,mean,std,mean_abs,nonzero_fraction,pulses_ltp,pulses_ltd,updates``
  (applied change per update step normalised to the [-1, 1] range; pulses = mean pulse count per cell
  per update step, zeros included; updates = update steps in that epoch).

The files are parsed by ``cimgraph.training.traces.read_trace`` (which defines the format and reports a
bad value with the file, row and column); this module picks one epoch per layer for the training PPA.
"""
from __future__ import annotations

import os

import attrs

from ..errors import CimgraphError


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


def read_traces(directory: str, epoch: int | None = None) -> dict[str, LayerTrace]:
    """The per-layer update statistics of ``epoch`` (default: the last) from DIRECTORY/Delta_dist.csv,
    with the mean conductance level from Weight_dist.csv when that file is there."""
    from ..training.traces import DELTA_FILE, WEIGHT_FILE, read_trace

    delta_path = os.path.join(directory, DELTA_FILE)
    rows = read_trace(delta_path)
    if not rows:
        raise CimgraphError(f"{delta_path}: no data rows")
    chosen = epoch if epoch is not None else max(r.epoch for r in rows)
    levels: dict[str, float] = {}
    weight_path = os.path.join(directory, WEIGHT_FILE)
    if os.path.exists(weight_path):
        levels = {r.layer: r.conductance_mean for r in read_trace(weight_path) if r.epoch == chosen}
    out = {}
    for r in rows:
        if r.epoch != chosen:
            continue
        out[r.layer] = LayerTrace(layer=r.layer, epoch=chosen, mean_abs=r.mean_abs,
                                  nonzero_fraction=r.nonzero_fraction, pulses_ltp=r.pulses_ltp,
                                  pulses_ltd=r.pulses_ltd, updates=r.updates,
                                  conductance_mean=levels.get(r.layer, 0.5))
    if not out:
        raise CimgraphError(f"{delta_path}: no rows for epoch {chosen}")
    return out
