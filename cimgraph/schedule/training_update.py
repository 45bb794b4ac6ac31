"""Weight-update physics for training PPA: pulse counts on the LTP/LTD curve, NeuroTorch's POPU update
window and the electromigration limit of the array lines.

Sources:

- Pulse count (DNN+NeuroSim V2 manual, seed 001 sec. 8, eq. 8.1-8.3): the conductance after P pulses is
  G(P) = B (1 - exp(-P/A)) + G_min with B = (G_max - G_min) / (1 - exp(-P_max/A)); LTD is the same curve
  mirrored (sec. 8.1). Normalised to P_max = 1 and G in [0, 1], the pulse position of a level g is
  x(g) = -A ln(1 - g (1 - exp(-1/A))), and a change from g to g + dg takes P_max (x(g + dg) - x(g))
  pulses. The normalised A of a nonlinearity label is the one of NeuroSim's baseline table (formula.cpp
  getParamA, labels 0.01..9): every entry satisfies max_x [g(x) - x] = 0.07 sqrt(2) |label| for the
  normalised curve g(x) = (1 - exp(-x/A)) / (1 - exp(-1/A)) (we checked the entries 0.01..0.25 to 1e-6;
  tests/test_training.py checks entries from 0.01 to 9), so we solve that relation for A (bisection), with
  the label's sign. Label 0 is the linear device (dg x P_max pulses); labels beyond 9 are clamped to 9.
- POPU (NeuroTorch manual, seed 000 sec. 2-3): UpdateLEVELs = min(2 floor(UpdateMax min(FullTimeLTP,
  FullTimeLTD) / (2 Cycle)), 2^(InputPrecision + DelPrecision - floor(log2(1 / UpdateMax)))); one update
  window lasts UpdateLEVELs x Cycle; LTPLTD_both takes an LTP and an LTD window.
- Electromigration (seed 000 sec. 2, MIGRATIONLIM = WireWidth^2 x 1.5e-8 A/nm^2): a line may carry at
  most J_max x (its width)^2; during a parallel update one array line carries the write current of every
  selected cell on it plus the inhibition current of the half-selected ones.
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..errors import CimgraphError

LABEL_SCALE = 0.07 * math.sqrt(2.0)  # max excess of the curve over the linear ramp per unit label (getParamA)
LABEL_LIMIT = 9.0                    # the largest label of NeuroSim's table
CURRENT_DENSITY_LIMIT = 1.5e10      # A/m^2 (1.5e-8 A/nm^2, NeuroTorch MIGRATIONLIM)
POPU_MODES = ("LTP_only", "LTD_only", "LTPLTD_both")


def _excess(c: float) -> float:
    """max_x [g(x) - x] of the normalised curve with c = 1/A > 0 (where g'(x) = 1)."""
    one_minus = -math.expm1(-c)
    return 1.0 / one_minus - 1.0 / c - math.log(c / one_minus) / c


def curve_a(label: float) -> float | None:
    """Normalised A (P_max = 1) of eq. 8.1 for a nonlinearity label; None for a linear device."""
    if label == 0:
        return None
    target = min(abs(label), LABEL_LIMIT) * LABEL_SCALE
    low, high = math.log(1e-9), math.log(1e4)     # bisection on log(1/A); the excess grows with 1/A
    for _ in range(80):
        mid = (low + high) / 2
        low, high = (low, mid) if _excess(math.exp(mid)) > target else (mid, high)
    return math.copysign(1.0 / math.exp((low + high) / 2), label)


def pulse_position(level: float, label: float) -> float:
    """Normalised pulse count x in [0, 1] at which the curve reaches normalised conductance ``level``."""
    a = curve_a(label)
    g = min(max(level, 0.0), 1.0)
    if a is None:
        return g
    return -a * math.log(1.0 - g * (1.0 - math.exp(-1.0 / a)))


def pulses_for_change(levels: int, label: float, level: float, change: float) -> float:
    """Pulses (eq. 8.1-8.3) to raise a cell at ``level`` by ``change`` (fractions of the conductance range)
    on a curve of ``levels`` pulses over the range; depression uses the mirrored curve (level -> 1 - level)."""
    top = min(level + change, 1.0)
    return levels * (pulse_position(top, label) - pulse_position(level, label))


@attrs.frozen
class UpdateStats:
    """How the cells of one layer change per update step: mean pulses per cell in each direction (zeros
    included), the fraction of cells that change, and where they sit on the curve."""

    pulses_ltp: float
    pulses_ltd: float
    nonzero_fraction: float
    conductance_mean: float = 0.5
    source: str = "default"

    @property
    def row_pulses(self) -> float:
        """Pulses one row write applies in each phase: the mean of a changing cell (whole pulses)."""
        per_cell = max(self.pulses_ltp, self.pulses_ltd) / max(self.nonzero_fraction, 1e-12)
        return float(math.ceil(per_cell - 1e-9)) if per_cell > 0 else 0.0


def changing_fraction(weights: float, learning_rate: float = 1.0) -> float:
    """Expected fraction of a layer's cells that get a pulse per update without a trace.

    WAGE's Q_G (Wu et al., ICLR 2018, sec. 3.3; seed 001 sec. 6; NeuroSim V2.1's wrapper QG): the
    update is delta = sigma(k) sr(lr g / shift(max |g|)), i.e. with lr g / max|g| <= 1 every weight
    moves by one delta LSB with probability lr |g| / max|g| (stochastic rounding) and otherwise stays.
    With Laplace-distributed gradients (|g| exponential with mean mu), the largest of n is on average
    mu H_n (order statistics of n exponentials; H_n the harmonic number, ln n + 0.5772), so
    E[lr |g| / max|g|] = lr / H_n. Valid for lr <= 1 (larger steps make several LSBs per cell); the
    power-of-two shift of max|g| (a factor 0.7-1.4) is taken at 1. Heavier-tailed gradients than the
    Laplace make the fraction smaller; a trace (Delta_dist.csv) replaces this estimate."""
    n = max(int(round(weights)), 1)
    harmonic = (sum(1.0 / k for k in range(1, n + 1)) if n <= 1000
                else math.log(n) + 0.5772156649 + 1.0 / (2.0 * n) - 1.0 / (12.0 * n * n))
    return min(1.0, learning_rate / harmonic)


def default_stats(cell: Any, delta_bits: int, weights: float = 1.0, learning_rate: float = 1.0) -> UpdateStats:
    """Stated default without a trace: a fraction ``changing_fraction(weights, learning_rate)`` of the
    cells moves by one delta LSB (2^-delta_bits of the range) per update, half up and half down, from the
    middle of the curve (level 0.5, eq. 8.1-8.3); the rest gets no pulse."""
    change = 2.0 ** -delta_bits
    f = changing_fraction(weights, learning_rate)
    up = pulses_for_change(cell.levels_ltp, cell.nonlinearity_ltp, 0.5, change)
    down = pulses_for_change(cell.levels_ltd, cell.nonlinearity_ltd, 0.5, change)
    return UpdateStats(pulses_ltp=f * up / 2, pulses_ltd=f * down / 2, nonzero_fraction=f, conductance_mean=0.5,
                       source=(f"default: a fraction lr / H_n (WAGE Q_G stochastic rounding, Laplace gradients; "
                               f"lr {learning_rate:g}) of the cells moves one {delta_bits}-bit delta LSB per update, "
                               "eq. 8.1-8.3 at level 0.5"))


def trace_stats(trace: Any) -> UpdateStats:
    """Update statistics from one layer's Delta_dist.csv row (and Weight_dist.csv level)."""
    return UpdateStats(pulses_ltp=trace.pulses_ltp, pulses_ltd=trace.pulses_ltd,
                       nonzero_fraction=trace.nonzero_fraction, conductance_mean=trace.conductance_mean,
                       source=f"trace: Delta_dist.csv epoch {trace.epoch}")


@attrs.frozen
class PopuSettings:
    """NeuroTorch POPU parameters (seed 000 sec. 2): UpdateMax, Cycle, Onchip_ParMode, DelPrecision, DelEn,
    DelADCMax (the backprop ADC range; it sets accuracy, not cost), and the electromigration policy."""

    update_max: float = 0.0005
    cycle: float = 1e-9
    mode: str = "LTP_only"
    del_precision: int = 14
    del_en: int = 1
    del_adc_max: float = 0.1
    electromigration: str = "serialise"       # or "error"
    current_density_limit: float = CURRENT_DENSITY_LIMIT
    # LTP_only / LTD_only: G+/G- pair refresh every `refresh_every` updates (0 = never), as cimgraph.training's
    # PopuScheme (the occasional RESET of Burr et al., IEEE TED 62(11), 2015)
    refresh_every: int = 100

    def __attrs_post_init__(self) -> None:
        problems = []
        if self.mode not in POPU_MODES:
            problems.append(f"mode {self.mode!r}: expected one of {', '.join(POPU_MODES)}")
        if not 0 < self.update_max <= 1:
            problems.append(f"update_max {self.update_max!r}: expected a fraction in (0, 1]")
        if self.electromigration not in ("serialise", "error"):
            problems.append(f"electromigration {self.electromigration!r}: expected 'serialise' or 'error'")
        if not (isinstance(self.refresh_every, int) and self.refresh_every >= 0):
            problems.append(f"refresh_every {self.refresh_every!r}: expected a whole number of updates >= 0")
        if not (isinstance(self.del_en, int) and 1 <= self.del_en <= self.del_precision):
            problems.append(f"del_en {self.del_en!r}: expected 1..del_precision bits per delta cycle")
        if problems:
            raise CimgraphError("POPU settings: " + "; ".join(problems))

    @property
    def phases(self) -> int:
        return 2 if self.mode == "LTPLTD_both" else 1

    @property
    def delta_cycles(self) -> int:
        """Bit-cycles of one delta in backpropagation: ceil(DelPrecision / DelEn)."""
        return math.ceil(self.del_precision / self.del_en)


def refresh_stats(cell: Any) -> UpdateStats:
    """Pulses per cell of one G+/G- pair refresh (cimgraph.training.layers.TrainLayer.refresh): one reset
    pulse (RESET / erase to G_min for LTP only) on both devices, then |w| x P_max pulses on one of them
    (mean |w| x P_max / 2 per cell with mean |w| = 0.5, a uniform |w|). Bound: every pair of a checked
    row is refreshed (nonzero fraction 1)."""
    reset = 1.0
    program = 0.5 * cell.levels_ltp / 2
    return UpdateStats(pulses_ltp=program, pulses_ltd=reset, nonzero_fraction=1.0,
                       source="one reset pulse + |w| P_max reprogram pulses per pair")


def update_levels(cell: Any, popu: PopuSettings, input_bits: int) -> int:
    """NeuroTorch's UpdateLEVELs (seed 000 sec. 2) for ``cell``; FullTime = levels x write pulse."""
    full = min(cell.levels_ltp, cell.levels_ltd) * cell.write_pulse
    by_time = 2 * math.floor(popu.update_max * full / (2 * popu.cycle))
    by_bits = 2 ** (input_bits + popu.del_precision - math.floor(math.log2(1 / popu.update_max)))
    return int(min(by_time, by_bits))


@attrs.frozen
class LineCurrent:
    """The worst array line during a parallel update and the limit it must stay under (A)."""

    current: float
    limit: float
    cells: int

    @property
    def serialisation(self) -> int:
        """Update steps needed so that no line exceeds the limit (1 = fully parallel)."""
        return max(1, math.ceil(self.current / self.limit)) if self.limit > 0 else 1


def inhibit_current(cell: Any) -> float:
    """Current (A) of a half-selected cell during a V/2-inhibited parallel update: half the write
    current for a two-terminal (near-ohmic) cell, none for a gate-programmed three-terminal cell (FeFET,
    flash). This reproduces seed 000's InhibCurr of ReRAM (64 -> 32 nA), ReRAM2 (16 -> 8 uA), Flash and FeFET
    (0); for its IDEAL device (100 fA, InhibCurr 0) it gives a negligible 50 fA."""
    return 0.0 if cell.family in ("fefet", "flash") else cell.write_current / 2


def line_current(cell: Any, tech: Any, cells_on_line: int, popu: PopuSettings) -> LineCurrent:
    """Instantaneous current of one array line with every cell on it selected (worst case): cells x
    WriteCurr, against J_max x (local wire pitch)^2 (NeuroTorch MIGRATIONLIM with WireWidth = the pitch)."""
    limit = popu.current_density_limit * tech.wire_local.pitch ** 2
    return LineCurrent(current=cells_on_line * cell.write_current, limit=limit, cells=cells_on_line)
