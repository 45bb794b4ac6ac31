"""Flash ADC built from a multilevel current sense amplifier (MLSA), DNN+NeuroSim V2 manual
sec. 5.4(6): 2^bits - 1 current sense amplifiers (Fig. 19) compare a mirrored copy of the column
current with reference currents spaced between the smallest and largest column current, and a
thermometer-to-binary encoder produces the code. One bank serves a subarray, one ADC per ``share``
columns (the column mux selects which).

Circuit-level model (our derivation; NeuroSim instead fits SPICE traces per node):

* Full scale: I_max = rows V_read G_on, I_min = rows V_read G_off (cell conductances in series
  with the access transistor; SRAM: I_max = rows x cell read current); LSB I = (I_max - I_min)/2^b.
* Input mirror sized for the full-scale current, W_in = max(W_min, I_max / I_on,n), g_m,in =
  2 I_mid / (Vdd - Vth). One LSB at the mirror gate is dV_LSB = I_LSB / g_m,in (the reference
  ladder spans (I_max - I_min) / g_m,in).
* Offset sizing (Pelgrom, Duinmaijer & Welbers, JSSC 24(5) 1989): the copy / reference pair of a
  CSA has an input-referred offset sigma = A_vt / sqrt(W L); requiring k sigma <= dV_LSB / 2
  (k = ``offset_sigmas``) gives W L >= (2 k A_vt / dV_LSB)^2. Both W and L of the pair are scaled
  by s = max(1, sqrt(W L / (W_min F))), keeping the copy's W/L (hence its current, ratio
  k_I = W_min / W_in) and growing its gate area; at high bits this gives the 8x-per-bit cost of
  mismatch-limited flash (Uyttenhove & Steyaert, IEEE TCAS-II 49(4) 2002). A_vt per node:
  ``PELGROM_AVT`` (field ``mismatch`` overrides). The default k = 0 models offset-calibrated
  (trimmed) comparators at minimum size, the case NeuroSim's SPICE-fitted MLSA represents; k = 3
  shows what uncalibrated comparators cost (a 5-bit bank at 22 nm grows about 30x in area).
* The input node holds W_in + (2^b - 1) s^2 W_min of gates (gate C scaled with W L).
  Settling to half an LSB: t_s = (C_in / g_m,in) (b + 1) ln 2.
* Each CSA converts one LSB into dV = I_LSB / g_m,in (copy and load scale together) and its latch
  (NVSim widths, see ``sram_periphery.latch_sense``) regenerates in tau ln(Vdd / dV).
* Encoder: b levels of NAND2 (min size, fan-out 2), Horowitz delay; 2^b - 1 NAND2 switch at 1/2.
* Energy per conversion: every CSA carries k_I I_mid (input copy) and k_I I_mid (mean reference) from
  Vdd for t_s + t_latch, plus 2^b - 1 latches' C V^2 and the encoder. The column current itself is
  drawn from the read voltage and counted by the array.
* ``characterisation: neurosim_spice`` replaces the settling + latch time and the bias energy above by
  DNN+NeuroSim V1.4's SPICE fits of its MLSA (``mlsa_spice``): the latency of the extreme references
  (index 1 and L-2 of the ladder from ``reference_resistance`` / rows) on the column capacitance (the
  column wire over ``rows`` cells plus L - 3 comparator input gates as NeuroSim counts them, cimgraph's
  capacitances), and the bias power of the sensed column plus NeuroSim's share of the reference columns
  (references 1 .. L-3, each shared by L comparators), times that latency. The sensed column is the
  layer's expected one: rows x input_activity cells at G = w / reference_resistance + (1 - w) G_off
  (G_off of a resistive cell, else 0), w the weight density, as the scheduler passes them (without them,
  a mid-scale column: 2 x reference_resistance / rows). The latches' and the encoder's switching stay
  cimgraph's own; area is unchanged.
Area: 2^b - 1 x (mirror copy + reference source + latch SA) + input mirror + encoder, standard cells;
the scaled copy and reference take the minimum-length cell area x (L + poly gap) / (F + poly gap).
Validity: 1-10 bits, column currents well above the off-currents of the mirror.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..errors import CimgraphError
from ..hookspecs import hookimpl
from ..tech.cells import MemoryCell
from ..tech.technology import Technology
from ..units import int_range, non_negative, one_of, optional_quantity, quantity
from . import circuit, mlsa_spice
from .arrays import cell_pitch, sram_read_resistance
from .base import Component, Cost
from .sram_periphery import latch_sense

# Pelgrom threshold-mismatch coefficient A_vt (V m, NMOS, sigma of the pair difference) by feature size
# (m). Representative rounded values: planar bulk poly/SiON and HKMG 130-22 nm ~5-3.5 mV um, the PTM
# multi-gate (FinFET) 14-7 nm cards ~1.5-1.2 mV um; Kuhn et al., "Process technology variation",
# IEEE TED 58(8) 2011, Figs. on A_vt scaling, and Pelgrom, Tuinhout & Vertregt, IEDM 1998. Between
# entries log-linear in F, clamped outside. Not a fit of any one foundry process.
PELGROM_AVT: tuple[tuple[float, float], ...] = (
    (7e-9, 1.2e-9), (10e-9, 1.3e-9), (14e-9, 1.5e-9), (22e-9, 3.5e-9), (32e-9, 3.6e-9),
    (45e-9, 3.8e-9), (65e-9, 4.0e-9), (90e-9, 4.5e-9), (130e-9, 5.0e-9))


def pelgrom_avt(feature_size: float) -> float:
    """A_vt (V m) for a node of ``feature_size`` (m) from ``PELGROM_AVT`` (log-linear in F)."""
    nodes = PELGROM_AVT
    if feature_size <= nodes[0][0]:
        return nodes[0][1]
    for (f0, a0), (f1, a1) in zip(nodes, nodes[1:]):
        if feature_size <= f1:
            t = math.log(feature_size / f0) / math.log(f1 / f0)
            return a0 + t * (a1 - a0)
    return nodes[-1][1]


@attrs.frozen(kw_only=True)
class FlashADC(Component):
    """MLSA flash ADC bank (one ADC per ``share`` columns); see the module docstring for the model."""

    kind: ClassVar[str] = "adc.flash"
    group: ClassVar[str] = "adc"
    source: ClassVar[str] = ("DNN+NeuroSim V2 manual sec. 5.4(6) MLSA flash ADC (Fig. 19 CSA); circuit-level "
                             "settling/latch model with NVSim sense-amp sizing")

    tech: Technology = attrs.field(metadata={"doc": "CMOS node (injected)"})
    cell: MemoryCell = attrs.field(metadata={"doc": "memory cell (injected; sets the current range)"})
    rows: int = attrs.field(default=128, validator=int_range(1, 1 << 16), metadata={"doc": "rows (injected)"})
    columns: int = attrs.field(default=128, validator=int_range(1, 1 << 16), metadata={"doc": "columns (injected)"})
    bits: int = attrs.field(default=5, validator=int_range(1, 10), metadata={"doc": "ADC resolution"})
    share: int = attrs.field(default=8, validator=int_range(1, 1 << 16), metadata={"doc": "columns per ADC"})
    full_scale: float | None = optional_quantity("A", "largest column current (default: from the cell)")
    offset_sigmas: float = quantity("", default=0.0, validator=non_negative,
                                    doc="yield factor k: k sigma of comparator offset <= LSB / 2; 0 (default): "
                                        "offset-calibrated minimum-size comparators, as NeuroSim's MLSA fit assumes")
    mismatch: float | None = optional_quantity("V*m", "Pelgrom A_vt of the comparator pair (default: PELGROM_AVT by node)")
    characterisation: str = attrs.field(
        default="circuit", validator=one_of("circuit", "neurosim_spice"),
        metadata={"doc": "circuit: cimgraph's settling / latch model; neurosim_spice: DNN+NeuroSim V1.4's SPICE "
                         "fits of its MLSA latency and bias power (LP nodes 130-7 nm)"})
    reference_resistance: float | None = optional_quantity(
        "Ohm", "neurosim_spice: the full-scale cell resistance the reference ladder is built from (default: the "
               "cell's r_on; required for non-resistive cells)")

    def __attrs_post_init__(self) -> None:
        if self.characterisation == "neurosim_spice":
            self.spice_reference_resistance()   # raises for a cell without one
            mlsa_spice.column_latency(self.tech.name, 1.0, 0.0)   # raises for a node the tables lack
            if self.bits < 2:
                raise CimgraphError("adc.flash characterisation 'neurosim_spice': expected bits >= 2 (the SPICE "
                                    f"latency is taken at references 1 and L-2), got {self.bits}")
        if self.full_scale is None and not (self.cell.is_resistive or self.cell.family == "sram"):
            raise CimgraphError(
                f"adc.flash: cannot derive the current range of cell {self.cell.name!r} (family "
                f"{self.cell.family!r}); give full_scale (the largest column current, e.g. '100uA')")

    # -- current range ---------------------------------------------------------------------
    def current_range(self) -> tuple[float, float]:
        """(I_min, I_max) of one column, A."""
        tech, cell = self.tech, self.cell
        if self.full_scale is not None:
            return 0.0, self.full_scale
        if cell.family == "sram":
            return 0.0, self.rows * tech.vdd / sram_read_resistance(tech, cell)
        access = cell.access_width * tech.feature_size if cell.access_width else None
        r_access = circuit.on_resistance(tech, access) if access else 0.0
        v = cell.read_voltage
        return self.rows * v / (cell.r_off + r_access), self.rows * v / (cell.r_on + r_access)

    @property
    def count(self) -> int:
        """ADCs in the bank."""
        return math.ceil(self.columns / self.share)

    @property
    def levels(self) -> int:
        """Comparators per ADC: 2^bits - 1."""
        return 2 ** self.bits - 1

    def _input_width(self) -> float:
        return max(circuit.min_width(self.tech), circuit.width_for_current(self.tech, self.current_range()[1]))

    def _gm_in(self) -> float:
        i_min, i_max = self.current_range()
        return max((i_min + i_max) / (self.tech.vdd - self.tech.vth), 1e-30)

    def lsb_voltage(self) -> float:
        """One LSB at the input mirror gate, V: I_LSB / g_m,in."""
        i_min, i_max = self.current_range()
        return (i_max - i_min) / 2 ** self.bits / self._gm_in()

    def pair_scale(self) -> float:
        """Factor s >= 1 by which W and L of each comparator's copy / reference pair exceed the
        minimum (W_min x F) so that offset_sigmas x A_vt / sqrt(W L) <= LSB / 2 (Pelgrom)."""
        tech = self.tech
        avt = self.mismatch if self.mismatch is not None else pelgrom_avt(tech.feature_size)
        lsb = self.lsb_voltage()
        if lsb <= 0:
            raise CimgraphError(f"adc.flash: the column current range of cell {self.cell.name!r} is empty "
                                f"(I_min >= I_max); expected I_max > I_min")
        area = (2 * self.offset_sigmas * avt / lsb) ** 2
        return max(1.0, math.sqrt(area / (circuit.min_width(tech) * tech.feature_size)))

    def pair_size(self) -> tuple[float, float]:
        """(W, L) of each comparator's input copy / reference device, m."""
        s = self.pair_scale()
        return s * circuit.min_width(self.tech), s * self.tech.feature_size

    def _encoder(self) -> tuple[float, float, float, float]:
        """Encoder (area, delay, energy, leakage) of 2^b - 1 NAND2 in b levels."""
        tech = self.tech
        wn = 2 * circuit.min_width(tech)   # series pair doubled for inverter-equal drive
        wp = circuit.balanced_pmos_width(tech, circuit.min_width(tech))
        gate = circuit.gate_area(tech, "nand", 2, wn, wp)
        c_in = circuit.gate_cap(tech, wn + wp)
        c_out = circuit.drain_cap(tech, wn + 2 * wp)
        stage, _ = circuit.horowitz(circuit.on_resistance(tech, wn / 2) * (c_out + 2 * c_in), 0.0, math.inf)
        n = self.levels + self.bits
        energy = circuit.switching_energy(n * (c_in + c_out), tech.vdd, 0.5)
        return n * gate.area, self.bits * stage, energy, n * circuit.leakage_power(tech, wn, wp)

    def _conversion(self) -> tuple[float, float]:
        """(latency, energy) of one conversion by one ADC."""
        tech = self.tech
        i_min, i_max = self.current_range()
        i_mid = (i_min + i_max) / 2
        i_lsb = (i_max - i_min) / 2 ** self.bits
        w_in, w_min = self._input_width(), circuit.min_width(tech)
        ratio = w_min / w_in             # copy W/L = W_min/F: each comparator carries ratio x I
        gm_in = self._gm_in()
        gate_area = self.pair_scale() ** 2 * w_min    # copy gate as width at length F (C ~ W L)
        c_in = circuit.gate_cap(tech, w_in + self.levels * gate_area) + circuit.drain_cap(tech, w_in)
        settle = c_in / gm_in * (self.bits + 1) * math.log(2)
        sa = latch_sense(tech)
        dv = min(i_lsb / gm_in, tech.vdd / 2)
        latch = sa.tau * math.log(tech.vdd / dv)
        _, t_enc, e_enc, _ = self._encoder()
        static = self.levels * 2 * ratio * i_mid * tech.vdd * (settle + latch)
        return settle + latch + t_enc, static + self._latch_energy() + e_enc

    def spice_reference_resistance(self) -> float:
        """Full-scale cell resistance (Ohm) of the SPICE characterisation's reference ladder."""
        if self.reference_resistance is not None:
            return self.reference_resistance
        if not self.cell.is_resistive:
            raise CimgraphError(f"adc.flash characterisation 'neurosim_spice': cell {self.cell.name!r} (family "
                                f"{self.cell.family!r}) has no on resistance for the reference ladder; give "
                                f"reference_resistance (NeuroSim V1.4 Param.cpp resistanceOn is '100kOhm')")
        return self.cell.r_on

    def column_resistance(self, input_activity: float | None, weight_density: float | None) -> float:
        """Resistance (Ohm) of the sensed column for the SPICE bias power (module docstring); inf when open."""
        full = self.spice_reference_resistance()
        if input_activity is None or weight_density is None:
            return 2 * full / self.rows
        g_low = self.cell.g_off if self.cell.is_resistive else 0.0
        g = self.rows * input_activity * (weight_density / full + (1 - weight_density) * g_low)
        return 1.0 / g if g > 0 else math.inf

    def _spice_conversion(self, input_activity: float | None = None,
                          weight_density: float | None = None) -> tuple[float, float]:
        """(sensing latency, bias energy) of one conversion from NeuroSim V1.4's SPICE fits (module docstring)."""
        tech, node, levels = self.tech, self.tech.name, 2 ** self.bits
        refs = mlsa_spice.reference_resistances(self.spice_reference_resistance(), self.rows, levels)
        column_cap = (tech.wire_local.c * self.rows * cell_pitch(tech, self.cell)[1]
                      + (levels - 3) * circuit.gate_cap(tech, circuit.min_width(tech)))
        latency = max(mlsa_spice.column_latency(node, refs[1], column_cap),
                      mlsa_spice.column_latency(node, refs[-1], column_cap))
        v = self.cell.read_voltage
        column = self.levels * mlsa_spice.comparator_power(
            node, self.column_resistance(input_activity, weight_density), v)
        references = sum(self.levels * mlsa_spice.comparator_power(node, r, v) for r in refs[1:-1]) / levels
        return latency, (column + references) * latency

    # -- component interface ---------------------------------------------------------------
    def area(self) -> float:
        tech = self.tech
        w_in = self._input_width()
        w_copy, length = self.pair_size()
        pitch = circuit.POLY_WIDTH + circuit.GATE_POLY_GAP
        stretch = (length / tech.feature_size + circuit.GATE_POLY_GAP) / pitch   # longer gates, same gap
        mirror = circuit.gate_area(tech, "inv", 1, w_in, circuit.balanced_pmos_width(tech, w_in)).area
        copy = stretch * circuit.gate_area(tech, "inv", 1, w_copy, circuit.balanced_pmos_width(tech, w_copy)).area
        reference = stretch * circuit.gate_area(tech, "inv", 1, w_copy, 0.0).area
        per_adc = self.levels * (copy + reference + latch_sense(tech).area) + mirror + self._encoder()[0]
        return self.count * per_adc

    def leakage(self) -> float:
        return self.count * (self.levels * latch_sense(self.tech).leakage + self._encoder()[3])

    def convert(self, input_activity: float | None = None, weight_density: float | None = None) -> Cost:
        """Every ADC of the bank converts once. ``input_activity`` / ``weight_density`` (the layer's, passed by
        the scheduler) set the sensed column of the neurosim_spice bias power; the circuit model ignores them."""
        if self.characterisation == "circuit":
            latency, energy = self._conversion()
        else:
            latency, energy = self._spice_step(input_activity, weight_density)
        return Cost(latency, self.count * energy)

    def _spice_step(self, input_activity: float | None, weight_density: float | None) -> tuple[float, float]:
        """(latency, energy) of one conversion with the SPICE-characterised sensing, the latches' and encoder's
        switching from cimgraph's capacitances."""
        sense, bias = self._spice_conversion(input_activity, weight_density)
        _, t_enc, e_enc, _ = self._encoder()
        return sense + t_enc, bias + self._latch_energy() + e_enc

    def _latch_energy(self) -> float:
        """Switching energy (J) of the 2^b - 1 latches in one conversion."""
        sa = latch_sense(self.tech)
        return self.levels * circuit.switching_energy(2 * sa.node_cap + sa.enable_cap, self.tech.vdd)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    """Register adc.flash."""
    registry.add_component(FlashADC)
