"""`clock: auto`: the chip's digital clock derived from its read-out circuits.

Rule: the clock period is the slowest conversion step of the chip's forward read-out, i.e. the column mux,
its decoder and the ADC / sense amplifier (and an SRAM precharger) in series
(:func:`cimgraph.schedule.counts.conversion_step`), taken over the main tile design and every extra design
(``designs:``) that has a read-out. One value for the whole chip, as one clock tree: each conversion step of
the slowest design then takes one cycle, a faster design's steps round up to whole cycles
(``synchronous: true``), and every clocked block (adders, shift-adders, register-file buffers, pooling,
activation, function units) runs on it.

Source: DNN+NeuroSim V1.4 main.cpp / ProcessingUnit.cpp / SubArray.cpp (synchronous = true, read at commit
0e3bff1): a first pass over every layer computes each subarray's sensing cycle (max(WL switch matrix, mux +
mux decoder) + MLSA + its encoder (+ SAR ADC; + precharger for SRAM), times the calibration factor beta =
1.4 when validated); the chip's clkPeriod is the largest over all layers, both tile designs included, and
clkFreq = min(Param.cpp clkFreq, 1 / clkPeriod). cimgraph differs on purpose in three ways: no beta (no
calibration factor on latency; a netlist may state NeuroSim's as ``clock: {auto: true, margin: 1.4}``, a
post-layout calibration against a TSMC 40 nm RRAM macro, A. Lu et al., AICAS 2021), no WL switch in the
cycle (cimgraph books the row drive once per input bit, not in every conversion step) and no upper bound (NeuroSim's 1 GHz default would pin every node to 1 ns).
The transposed read-out of training (``transposed: true`` peripherals) is timed by its path delays and does
not set the clock. The derived period is that of the models' path delays; register sequencing overhead
(clock-to-Q, setup) is not added, as in NeuroSim.
"""
from __future__ import annotations

from typing import Any

import attrs

from ..errors import NetlistError, Problem
from ..units import format_si
from .build import build_levels
from .schema import MAX_CLOCK, NetlistSpec


def readout_period(spec: NetlistSpec, registry: Any, resolve: Any) -> float | None:
    """Slowest-conversion-step period (s) of one tile design's subarray read-out (0 without one): the
    subarray level built alone with no clock (path delays). None if the design does not build: the full
    build then reports every problem at once, with its key path."""
    from ..schedule.counts import readout_step

    problems: list[Problem] = []
    try:
        tech, cell = resolve(spec)
    except NetlistError:
        return None
    levels = build_levels(attrs.evolve(spec, clock=None), registry, tech, cell, problems, until="subarray")
    return None if problems else readout_step(levels["subarray"].components)


def chip_clock(spec: NetlistSpec, registry: Any, resolve: Any) -> float | None:
    """The derived clock (Hz) of a ``clock: auto`` chip: 1 / (margin x the slowest conversion step over its tile
    designs), margin 1 unless the netlist states one (None while a design does not build). ``resolve(spec)``
    gives a design's (technology, cell)."""
    from .designs import design_netlist

    specs = [spec, *(design_netlist(spec, design) for design in spec.designs.values())]
    periods = [readout_period(s, registry, resolve) for s in specs]
    if None in periods:
        return None
    period = spec.clock_margin * max(periods)
    if period <= 0:
        raise NetlistError([Problem("$.clock", "'auto' derives the clock from the subarray read-out's conversion "
                                               "step (column mux, its decoder, ADC or sense amplifier), but no tile "
                                               "design of this chip has one; give a frequency such as '1GHz'")],
                           spec.file or None)
    if 1.0 / period > MAX_CLOCK:
        raise NetlistError([Problem("$.clock", f"'auto' derives {format_si(1.0 / period, 'Hz')} from a conversion "
                                               f"step of {format_si(period, 's')}; expected at most 100 GHz: give "
                                               "a frequency")], spec.file or None)
    return 1.0 / period
