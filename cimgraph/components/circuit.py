"""Shared circuit toolkit: device parasitics, standard-cell gate area, Horowitz / Elmore / pi-model
delay, repeated wires, CV^2 switching energy and leakage.

Every function takes a :class:`~cimgraph.tech.technology.Technology` (SI, per-width device data)
and returns SI floats. Sources: NeuroTorch manual sec. 4 (seed 000: standard-cell area with a
28F cell height and folded transistors; Horowitz, Elmore and pi-model latency; CV^2 energy with
activity factors), DNN+NeuroSim V2 manual sec. 4.1 (seed 001: repeater eq. 4.1/4.2 and the bus
delay tolerance), M. Horowitz, "Timing models for MOS circuits", Stanford TR SEL83-003 (1983) as
used in CACTI/NVSim/NeuroSim.

FinFET / GAA nodes (``tech.quantised``): widths stay *drawn* widths (multiples of the 2F minimum, as
every model sizes them), and the toolkit turns them into whole devices the way NeuroSim V1.4
(TCAS-I 2024, formula.cpp CalculateGateCap / CalculateGateArea) does: ceil(W / 2F) fins or nanosheet
stacks of ``tech.fin_width`` effective width each; gates are laid out on the node's contacted poly
pitch and cell height with at most ``tech.fins_per_device`` fins per transistor before folding.
Planar nodes are untouched (continuous widths, the 28F cell).
"""
from __future__ import annotations

import functools
import math
from typing import Sequence

import attrs
import numpy as np

from ..errors import CimgraphError
from ..tech.technology import Technology

# Layout rules in units of F (NeuroTorch manual, seed 000 "Design Constraints").
CELL_HEIGHT = 28.0        # standard-cell height (CELLHeight)
PN_GAP = 3.0              # gap between PMOS and NMOS diffusion (PNGAP)
GATE_OVERLAP = 1.0        # poly extension beyond diffusion (GATEOVERLAP)
FIELD_GATE_GAP = 3.0      # gap between field gates (GATEGAP)
GATE_POLY_GAP = 3.0       # gate poly gap along the cell width (GAP_BET_GATE_POLY)
POLY_WIDTH = 1.0          # drawn gate length = F
MIN_WIDTH = 2.0           # minimum transistor width (NeuroSim constant.h MIN_NMOS_SIZE)
SWITCHING_POINT = 0.5     # normalised switching voltage of the Horowitz model (CACTI vs)

GATE_KINDS = ("inv", "nand", "nor")


def _check_width(where: str, width: float) -> None:
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width >= 0):
        raise CimgraphError(f"{where}: expected a transistor width >= 0 in m, got {width!r}")


# -- device parasitics ---------------------------------------------------------------------

def min_width(tech: Technology) -> float:
    """Minimum (drawn) transistor width: 2F (NeuroSim constant.h MIN_NMOS_SIZE); one fin / stack on
    FinFET / GAA nodes."""
    return MIN_WIDTH * tech.feature_size


def fins(tech: Technology, width: float) -> int:
    """Whole fins / nanosheet stacks of a transistor drawn ``width`` wide: ceil(W / 2F), at least one
    (NeuroSim V1.4 formula.cpp). Only meaningful on a quantised (FinFET / GAA) node."""
    return max(1, math.ceil(width / (MIN_WIDTH * tech.feature_size) - 1e-9))


def effective_width(tech: Technology, width: float) -> float:
    """Electrical width (m) of a transistor drawn ``width`` wide: the width itself on planar nodes,
    fins(W) x ``tech.fin_width`` on FinFET / GAA nodes (per-width device data are per effective width)."""
    if not tech.quantised or width <= 0:
        return width
    return fins(tech, width) * tech.fin_width


def width_gain(tech: Technology, width: float) -> float:
    """Effective over drawn width (1.0 exactly on planar nodes), for per-width products written as
    ``tech.x * drawn width``."""
    return effective_width(tech, width) / width if tech.quantised and width > 0 else 1.0


def width_for_current(tech: Technology, current: float) -> float:
    """Drawn NMOS width (m) that carries ``current`` (A) at full on-current: I / I_on on planar nodes;
    enough whole fins / stacks (2F of drawn width each) on FinFET / GAA nodes."""
    if not tech.quantised:
        return current / tech.i_on_n
    return math.ceil(current / (tech.i_on_n * tech.fin_width) - 1e-9) * MIN_WIDTH * tech.feature_size


def cell_height(tech: Technology) -> float:
    """Standard-cell height (m): 28F on planar nodes, the node's cell height on FinFET / GAA nodes."""
    return tech.cell_height if tech.quantised else CELL_HEIGHT * tech.feature_size


def gate_cap(tech: Technology, width: float) -> float:
    """Gate capacitance (F) of a transistor of ``width`` (m): c_gate x W_eff (incl. overlap, fringe)."""
    _check_width("gate_cap", width)
    return tech.c_gate * effective_width(tech, width)


def drain_cap(tech: Technology, width: float) -> float:
    """Drain junction capacitance (F) of a transistor of ``width`` (m): c_junction x W_eff."""
    _check_width("drain_cap", width)
    return tech.c_junction * effective_width(tech, width)


def on_resistance(tech: Technology, width: float, pmos: bool = False) -> float:
    """Effective switching resistance (Ohm) of a transistor: r_eff / W_eff."""
    _check_width("on_resistance", width)
    if width <= 0:
        raise CimgraphError(f"on_resistance: expected a positive transistor width, got {width!r}")
    return (tech.r_eff_p if pmos else tech.r_eff_n) / effective_width(tech, width)


def balanced_pmos_width(tech: Technology, width_n: float) -> float:
    """PMOS width giving the same pull-up resistance as an NMOS of ``width_n``; on FinFET / GAA
    nodes a whole number of NMOS widths, V1.4's integer pnSizeRatio = floor(I_on,n / I_on,p) >= 1."""
    if tech.quantised:
        return width_n * max(1, math.floor(tech.r_eff_p / tech.r_eff_n + 1e-9))
    return width_n * tech.r_eff_p / tech.r_eff_n


# -- standard-cell area --------------------------------------------------------------------

@attrs.frozen
class GateGeometry:
    """Layout of one standard-cell gate: ``area`` (m^2) = ``width`` x ``height`` (m)."""

    area: float
    width: float
    height: float


def _region(width: float, max_width: float, transistors: int, feature: float) -> tuple[float, float]:
    """Width along the cell and height of one diffusion region holding ``transistors`` devices."""
    if width <= 0:
        return 0.0, 0.0
    folds = max(1, math.ceil(width / max_width - 1e-12))
    pitch = (POLY_WIDTH + GATE_POLY_GAP) * feature
    # transistors * folds gates in a row sharing diffusion: one contact column more than gates
    return (transistors * folds + 1) * pitch, min(width, max_width)


@functools.lru_cache(maxsize=65536)
def gate_area(tech: Technology, kind: str, inputs: int, width_n: float, width_p: float,
              height: float | None = None) -> GateGeometry:
    """Standard-cell area of an INV / NAND / NOR gate with transistor folding.

    The cell height is fixed (default 28F, NeuroTorch manual sec. 4 / NeuroSim CalculateGateArea);
    the transistor region minus the P-N gap and the poly end caps is split between PMOS and NMOS in
    proportion to their widths. A transistor wider than its share is folded into
    ceil(W / W_max) fingers. Each row of ``inputs x folds`` gates with shared diffusion is
    (n + 1) x (poly width + gate-poly gap) wide; the cell width is the wider of the two rows.
    Valid for planar CMOS; ``inputs`` counts the series/parallel devices of NAND/NOR.
    Memoised: a pure function of hashable arguments (the same inputs always give the same result).
    """
    if kind not in GATE_KINDS:
        raise CimgraphError(f"gate_area: kind must be one of {', '.join(GATE_KINDS)}, got {kind!r}")
    if not (isinstance(inputs, int) and inputs >= 1) or (kind == "inv" and inputs != 1):
        raise CimgraphError(f"gate_area: expected inputs >= 1 (1 for 'inv'), got {inputs!r}")
    _check_width("gate_area width_n", width_n)
    _check_width("gate_area width_p", width_p)
    if width_n + width_p <= 0:
        raise CimgraphError("gate_area: at least one of width_n, width_p must be positive")
    if tech.quantised:
        return _fin_gate_area(tech, inputs, width_n, width_p, height)
    f = tech.feature_size
    cell_height = CELL_HEIGHT * f if height is None else height
    end_caps = 2 * (GATE_OVERLAP + FIELD_GATE_GAP / 2) * f
    both = width_n > 0 and width_p > 0
    usable = cell_height - (PN_GAP * f if both else 0.0)
    ratio_p = width_p / (width_n + width_p)
    max_p = ratio_p * usable - end_caps
    max_n = (1 - ratio_p) * usable - end_caps
    if (width_p > 0 and max_p <= 0) or (width_n > 0 and max_n <= 0):
        raise CimgraphError(f"gate_area: cell height {cell_height:.3g} m too small for the {kind} transistors")
    wide_p, _ = _region(width_p, max_p, inputs, f)
    wide_n, _ = _region(width_n, max_n, inputs, f)
    width = max(wide_p, wide_n)
    return GateGeometry(area=width * cell_height, width=width, height=cell_height)


def _fin_gate_area(tech: Technology, inputs: int, width_n: float, width_p: float,
                   height: float | None) -> GateGeometry:
    """FinFET / GAA gate on the node's grid (NeuroSim V1.4 CalculateGateArea): each polarity's row holds
    ``inputs x folds`` gates at the contacted poly pitch, (n + 1) pitches wide; a transistor of more fins
    than a cell row offers (``fins_per_device``, scaled with a non-standard height) is folded."""
    cell = tech.cell_height if height is None else height
    row_fins = max(1, math.floor(tech.fins_per_device * cell / tech.cell_height + 1e-9))

    def row(width: float) -> float:
        if width <= 0:
            return 0.0
        folds = math.ceil(fins(tech, width) / row_fins)
        return (inputs * folds + 1) * tech.gate_pitch

    width = max(row(width_n), row(width_p))
    return GateGeometry(area=width * cell, width=width, height=cell)


# -- delay ---------------------------------------------------------------------------------

def horowitz(tr: float, beta: float, ramp_input: float) -> tuple[float, float]:
    """Horowitz (1983) gate delay with a finite input ramp, as in CACTI / NeuroSim formula.cpp.

    ``tr``: RC time constant of the stage (s); ``beta``: 1 / (g_m R) of the driving transistor;
    ``ramp_input``: input slope (1/s; ``math.inf`` for a step). With alpha = 1/(ramp_input tr)
    and switching point vs = 0.5: delay = tr sqrt(ln(vs)^2 + 2 alpha beta (1 - vs)),
    ramp_output = (1 - vs) / delay. A step input gives delay = ln(2) tr.
    """
    if not (tr >= 0 and math.isfinite(tr)) or not beta >= 0 or not ramp_input > 0:
        raise CimgraphError(f"horowitz: expected tr >= 0, beta >= 0, ramp_input > 0; got {tr!r}, {beta!r}, "
                            f"{ramp_input!r}")
    if tr == 0:
        return 0.0, math.inf
    alpha = 1.0 / (ramp_input * tr)
    vs = SWITCHING_POINT
    delay = tr * math.sqrt(math.log(vs) ** 2 + 2 * alpha * beta * (1 - vs))
    return delay, (1 - vs) / delay


def elmore(resistances: Sequence[float], capacitances: Sequence[float]) -> float:
    """Elmore delay (s) of an RC ladder: node i sits after R_0..R_i and carries C_i.

    tau = sum_i C_i sum_{j<=i} R_j (first moment of the impulse response; the 50 % delay of a
    single lumped RC is ln 2 times this, of a distributed line about 0.38 r c l^2).
    """
    r = np.asarray(resistances, dtype=float)
    c = np.asarray(capacitances, dtype=float)
    if r.shape != c.shape or r.ndim != 1:
        raise CimgraphError(f"elmore: expected equal-length 1-D sequences, got shapes {r.shape} and {c.shape}")
    if np.any(r < 0) or np.any(c < 0) or not (np.all(np.isfinite(r)) and np.all(np.isfinite(c))):
        raise CimgraphError("elmore: resistances and capacitances must be finite and >= 0")
    return float(np.dot(np.cumsum(r), c))


def pi_wire_delay(r_driver: float, r_wire: float, c_wire: float, c_load: float) -> float:
    """Elmore delay (s) of a driver into a wire modelled as a pi section, then a load.

    The pi model puts c_wire/2 at each end of r_wire:
    tau = r_driver (c_wire + c_load) + r_wire (c_wire / 2 + c_load).
    """
    return elmore([r_driver, r_wire], [c_wire / 2, c_wire / 2 + c_load])


# -- energy and leakage --------------------------------------------------------------------

def switching_energy(capacitance: float, voltage: float, activity: float = 1.0) -> float:
    """Dynamic energy (J): activity x C x V^2 (NeuroTorch manual sec. 4; NeuroSim convention of
    one C V^2 drawn from the supply per switching event)."""
    if capacitance < 0 or activity < 0:
        raise CimgraphError(f"switching_energy: expected capacitance and activity >= 0, got "
                            f"{capacitance!r}, {activity!r}")
    return activity * capacitance * voltage ** 2


def leakage_power(tech: Technology, width_n: float, width_p: float) -> float:
    """Static power (W) of a gate whose output is high or low with equal probability:
    Vdd x (I_off,n W_n + I_off,p W_p) / 2 (NeuroSim CalculateGateLeakage for an inverter), W_eff."""
    _check_width("leakage_power width_n", width_n)
    _check_width("leakage_power width_p", width_p)
    return tech.vdd * (tech.i_off_n * effective_width(tech, width_n)
                       + tech.i_off_p * effective_width(tech, width_p)) / 2


# -- repeated wires ------------------------------------------------------------------------

@attrs.frozen
class RepeatedWire:
    """A repeater-inserted wire, per metre of length (one bit).

    ``delay_per_m`` (s/m, Elmore), ``energy_per_m`` (J/m per full-swing transition, wire + repeater
    capacitance x Vdd^2), ``leakage_per_m`` (W/m), ``area_per_m`` (m^2/m, repeaters only; the wire
    itself runs on metal above), ``segment_length`` (m), ``repeater_width`` (NMOS width, m).
    """

    delay_per_m: float
    energy_per_m: float
    leakage_per_m: float
    area_per_m: float
    segment_length: float
    repeater_width: float


def _repeater_costs(tech: Technology, r_w: float, c_w: float, size: np.ndarray, length: np.ndarray):
    """Elmore delay per m and switched capacitance per m of inverters ``size`` x minimum every ``length``."""
    w_n = min_width(tech)
    w_p = balanced_pmos_width(tech, w_n)
    r = on_resistance(tech, w_n)
    c = gate_cap(tech, w_n + w_p)
    p_inv = tech.c_junction / tech.c_gate
    # one segment: driver R/s into its own drain (s C p), the wire (pi model) and the next gate (s C)
    segment = (r / size) * (size * c * p_inv + c_w * length + size * c) + r_w * length * (c_w * length / 2 + size * c)
    cap = c_w + size * c * (1 + p_inv) / length
    return segment / length, cap


@functools.lru_cache(maxsize=4096)
def repeated_wire(tech: Technology, layer: str = "global", delay_tolerance: float = 0.0) -> RepeatedWire:
    """Optimally repeated wire on ``layer`` ("global" | "local"), DNN+NeuroSim V2 manual sec. 4.1.

    Minimum delay: segment length L = sqrt(2 R C (1 + p_inv) / (R_w C_w)) (eq. 4.1) and repeater
    size W = sqrt(R C_w / (R_w C)) times the minimum inverter (eq. 4.2), with R, C the resistance and
    input capacitance of a minimum inverter (PMOS sized for equal drive) and p_inv = C_junction/C_gate.
    With ``delay_tolerance`` t > 0 (NeuroSim globalBusDelayTolerance) the repeaters are shrunk and
    segments lengthened to the design of least energy per metre whose delay is at most (1 + t) x the
    minimum (searched on a log grid). Valid for RC-dominated wires (no inductance).
    Memoised: a pure function of hashable arguments.
    """
    if layer not in ("global", "local"):
        raise CimgraphError(f"repeated_wire: layer must be 'global' or 'local', got {layer!r}")
    if not (isinstance(delay_tolerance, (int, float)) and 0 <= delay_tolerance < 10):
        raise CimgraphError(f"repeated_wire: delay_tolerance must be a number in [0, 10), got {delay_tolerance!r}")
    wire = tech.wire_global if layer == "global" else tech.wire_local
    w_n = min_width(tech)
    w_p = balanced_pmos_width(tech, w_n)
    r = on_resistance(tech, w_n)
    c = gate_cap(tech, w_n + w_p)
    p_inv = tech.c_junction / tech.c_gate
    length_opt = math.sqrt(2 * r * c * (1 + p_inv) / (wire.r * wire.c))   # eq. 4.1
    size_opt = max(1.0, math.sqrt(r * wire.c / (wire.r * c)))             # eq. 4.2
    size, length = np.array([size_opt]), np.array([length_opt])
    delay, cap = _repeater_costs(tech, wire.r, wire.c, size, length)
    if delay_tolerance > 0:
        shrink = np.geomspace(1.0, max(1.0, size_opt) ** -1, 80)         # repeater size down to minimum
        stretch = np.geomspace(1.0, 20.0, 120)                            # segments up to 20x longer
        size_grid = (size_opt * shrink)[:, None] * np.ones_like(stretch)[None, :]
        length_grid = length_opt * np.ones_like(shrink)[:, None] * stretch[None, :]
        d, e = _repeater_costs(tech, wire.r, wire.c, size_grid, length_grid)
        ok = d <= delay[0] * (1 + delay_tolerance)
        best = np.unravel_index(np.argmin(np.where(ok, e, np.inf)), e.shape)
        size, length = size_grid[best][None], length_grid[best][None]
        delay, cap = d[best][None], e[best][None]
    s, seg = float(size[0]), float(length[0])
    geometry = gate_area(tech, "inv", 1, s * w_n, s * w_p)
    return RepeatedWire(
        delay_per_m=float(delay[0]),
        energy_per_m=switching_energy(float(cap[0]), tech.vdd),
        leakage_per_m=leakage_power(tech, s * w_n, s * w_p) / seg,
        area_per_m=geometry.area / seg,
        segment_length=seg,
        repeater_width=s * w_n,
    )
