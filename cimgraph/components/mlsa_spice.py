"""DNN+NeuroSim V1.4's SPICE characterisation of its current-mode multilevel sense amplifier (MLSA), as data.

Source: DNN+NeuroSim V1.4, Inference_pytorch/NeuroSIM/MultilevelSenseAmp.cpp (read at commit 00962bb):
``ColumnLatency_Table`` (current mode) and ``GetColumnPower`` (LP devices, current mode), piecewise fits of
SPICE runs of the MLSA per node. They are calibrations that name their measurement (SPICE), so cimgraph's
``adc.flash`` may use them as ``characterisation: neurosim_spice`` in place of its circuit-level timing and
bias power. The functions below are cimgraph's own; only the coefficients are NeuroSim's.

* Reference ladder (conventional parallel read-out, ``Initialize``): with ``n`` rows read at once and a full-scale
  cell resistance ``R`` (RRAM: R_on), reference ``i`` (0 .. L-2, L = 2^bits) has conductance
  (n / R) (1 - i / L), i.e. R_ref,i = (R / n) L / (L - i).
* Latency of one conversion: the larger fitted latency of the references at index 1 and L-2 (the
  extreme comparators). Each node's fit is ``a ln(R) + b`` or ``a R + b`` by resistance range, plus a
  column-capacitance term above a threshold resistance R_t: dC / (R2 - R_t) (R - R_t) (C_col - C_ref) / C_ref.
* Bias power of one column's comparators: the per-comparator LP fit at R x (0.5 V / V_read) (the SPICE runs
  used 0.5 V), times L - 1, R the column's resistance (``CalculatePower`` takes each column's; cimgraph the
  expected column of the layer's activity).
"""
from __future__ import annotations

import math

from ..errors import CimgraphError

# Per node (cimgraph technology name): latency segments (upper resistance bound in Ohm, form, a, b) with form
# "log" (a ln R + b, s) or "lin" (a R + b, s), then (C_ref F, dC s, R2 Ohm, R_t Ohm) of the capacitance term.
LATENCY_TABLE: dict[str, tuple[tuple[tuple[float, str, float, float], ...], tuple[float, float, float, float]]] = {
    "130nm": (((1832, "log", -1.18573e-10, 2.54175e-09), (math.inf, "lin", 3.78659e-14, 2.60629e-09)),
              (26.62e-15, 2.0e-9, 0.1e6, 1.95e3)),
    "90nm": (((4832, "log", -1.08914e-10, 2.43204e-09), (math.inf, "lin", 2.8688e-14, 2.31147e-09)),
             (18.4e-15, 1.5e-9, 0.1e6, 4.83e3)),
    "65nm": (((4832, "log", -8.11436e-11, 2.2554e-09), (math.inf, "lin", 2.12366e-14, 2.14339e-09)),
             (13.3e-15, 1.2e-9, 0.1e6, 4.83e3)),
    "45nm": (((4832, "log", -1.12976e-10, 2.16762e-09), (math.inf, "lin", 1.54619e-14, 1.60263e-09)),
             (9.21e-15, 0.81e-9, 0.1e6, 4.83e3)),
    "32nm": (((4832, "log", -1.31777e-10, 2.03151e-09), (math.inf, "lin", 1.15509e-14, 1.19475e-09)),
             (6.55e-15, 0.55e-9, 0.1e6, 4.83e3)),
    "22nm": (((4832, "log", -1.32118e-10, 1.7552e-09), (math.inf, "lin", 8.02517e-15, 8.51803e-10)),
             (4.5e-15, 0.31e-9, 0.1e6, 12.7e3)),
    "14nm": (((812, "log", -7.01209e-11, 1.21771e-09), (2962, "log", -2.11644e-11, 8.96216e-10),
              (math.inf, "lin", 6.18337e-15, 8.17633e-10)), (2.86e-15, 0.29e-9, 0.1e6, 12.7e3)),
    "10nm": (((1128, "log", -7.20238e-11, 1.18578e-09), (4832, "log", -1.81368e-11, 8.16065e-10),
              (math.inf, "lin", 4.72185e-15, 7.28474e-10)), (2.04e-15, 0.27e-9, 0.1e6, 12.7e3)),
    "7nm": (((4832, "log", -4.67061e-11, 1.03708e-09), (math.inf, "lin", 3.72084e-15, 7.02172e-10)),
            (1.43e-15, 0.13e-9, 0.1e6, 12.7e3)),
}

# Per node: per-comparator bias power segments (upper resistance bound in Ohm, form, a, b), W, LP devices.
POWER_TABLE: dict[str, tuple[tuple[float, str, float, float], ...]] = {
    "130nm": ((4832, "lin", -4.12599e-11, 1.48536e-06), (379269, "log", -2.6617e-07, 3.56576e-06),
              (math.inf, "log", -1.25872e-07, 1.81453e-06)),
    "90nm": ((4832, "lin", -1.67004e-11, 8.54958e-07), (379269, "log", -1.50719e-07, 2.0858e-06),
             (math.inf, "log", -8.89685e-08, 1.3007e-06)),
    "65nm": ((4832, "lin", -6.08647e-12, 4.82814e-07), (379269, "log", -8.03449e-08, 1.16437e-06),
             (math.inf, "log", -6.01171e-08, 8.9355e-07)),
    "45nm": ((4832, "lin", -3.96471e-12, 3.44344e-07), (379269, "log", -5.66235e-08, 8.27849e-07),
             (math.inf, "log", -4.32673e-08, 6.46111e-07)),
    "32nm": ((4832, "lin", -6.72783e-12, 4.19847e-07), (379269, "log", -7.28881e-08, 1.02677e-06),
             (math.inf, "log", -4.35333e-08, 6.4697e-07)),
    "22nm": ((4832, "lin", -2.85373e-11, 9.16744e-07), (379269, "log", -1.63133e-07, 2.1687e-06),
             (math.inf, "log", -5.8712e-08, 8.64648e-07)),
    "14nm": ((7847, "lin", -3.11213e-13, 5.34821e-08), (math.inf, "log", -9.64978e-09, 1.44527e-07)),
    "10nm": ((20691, "lin", -3.27225e-13, 5.54082e-08), (math.inf, "log", -9.99199e-09, 1.49539e-07)),
    "7nm": ((20691, "lin", -2.62089e-13, 4.7357e-08), (math.inf, "log", -8.49198e-09, 1.27848e-07)),
}

SPICE_READ_VOLTAGE = 0.5  # V: the read voltage of NeuroSim's SPICE runs (GetColumnPower rescales R by 0.5 / V_read)


def _check_node(node: str) -> None:
    if node not in LATENCY_TABLE:
        raise CimgraphError(f"adc.flash characterisation 'neurosim_spice': NeuroSim V1.4's MLSA SPICE tables "
                            f"(LP devices) cover the nodes {', '.join(LATENCY_TABLE)}, not {node!r}; use "
                            f"characterisation 'circuit' on this node")


def _piecewise(segments: tuple[tuple[float, str, float, float], ...], r: float) -> float:
    """The fit of the first segment whose upper bound exceeds ``r`` (the last one is unbounded)."""
    _, form, a, b = next(segment for segment in segments if r < segment[0])
    return a * math.log(r) + b if form == "log" else a * r + b


def reference_resistances(full_scale_resistance: float, rows: int, levels: int) -> list[float]:
    """The L - 1 reference resistances (Ohm) of an L-level MLSA reading ``rows`` cells of resistance
    ``full_scale_resistance`` at once: (R / rows) L / (L - i), i = 0 .. L-2."""
    start = full_scale_resistance / rows
    return [start * levels / (levels - i) for i in range(levels - 1)]


def column_latency(node: str, resistance: float, column_cap: float) -> float:
    """SPICE-fitted sensing latency (s) of a column / reference of ``resistance`` (Ohm) whose sense node holds
    ``column_cap`` (F: the column and the comparators' input gates)."""
    _check_node(node)
    segments, (ref_cap, d_c, r2, r_t) = LATENCY_TABLE[node]
    latency = _piecewise(segments, resistance)
    if resistance > r_t:
        latency += d_c / (r2 - r_t) * (resistance - r_t) * (column_cap - ref_cap) / ref_cap
    return latency


def comparator_power(node: str, resistance: float, read_voltage: float) -> float:
    """SPICE-fitted bias power (W) of one comparator's current mirror while sensing a column of ``resistance``
    (Ohm) at ``read_voltage`` (V); an open column (infinite R) draws none, and the fit, which falls below zero
    beyond a few MOhm, is clamped at zero."""
    _check_node(node)
    if math.isinf(resistance):
        return 0.0
    return max(_piecewise(POWER_TABLE[node], resistance * SPICE_READ_VOLTAGE / read_voltage), 0.0)
