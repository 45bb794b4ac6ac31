"""Charge-redistribution SAR ADC bank (``adc.sar``): binary-weighted capacitive DAC, StrongARM
comparator and SAR logic, costed from the technology with the circuit toolkit.

Sources:

* DAC switching energy -- C.-C. Liu et al., "A 10-bit 50-MS/s SAR ADC with a monotonic capacitor
  switching procedure", IEEE JSSC 45(4), 2010, eq. (1)/Table I: monotonic
  E = sum_{i=1}^{n-1} 2^(n-2-i) C_u V_ref^2 = (2^(n-2) - 1/2) C_u V_ref^2 with 2^(n-1) C_u per side;
  conventional (B. P. Ginsburg and A. P. Chandrakasan, "500-MS/s 5-bit ADC in 65-nm CMOS with split
  capacitor array DAC", IEEE JSSC 42(4), 2007) E = sum_{i=1}^{n} 2^(n+1-2i) (2^i - 1) C_u V_ref^2
  with 2^n C_u per side (10 bit: 255.5 vs 1363.3 C_u V_ref^2).
* Unit capacitor -- the larger of the design value (default 0.5 fF, the sub-fF metal-fringe unit
  capacitors characterised by V. Tripathi and B. Murmann, "Mismatch characterization of small metal
  fringe capacitors", IEEE TCAS-I 61(8), 2014) and the kT/C bound that keeps the differential
  sampling noise 2kT/C_s below the quantisation noise LSB^2/12 (LSB = 2 V_ref / 2^n).
* MOM capacitor density from the local wire layer: interdigitated minimum-pitch fingers, all of the
  wire capacitance taken as lateral coupling to the two neighbours: c_wire / (2 pitch) per layer.
* Comparator -- StrongARM latch (B. Razavi, "The StrongARM latch", IEEE SSC Magazine, 2015):
  regeneration time tau ln(V_dd / (LSB/2)) with tau = R_on(W) C_node; sized at minimum width
  unless a requested ``sampling_rate`` needs a faster latch (the speed/energy corner of the
  Murmann ADC survey: energy per conversion rises as fs approaches the circuit's limit).
* SAR logic -- n-bit result register + n-bit one-hot sequencer of master-slave transmission-gate
  DFFs (4 inverters + 4 transmission gates each), clocked n + 1 times per conversion; DAC switch
  drivers as fan-out-4 inverter chains (4/3 of the final load switched per transition).
* Validation -- the Walden figure of merit E / 2^n of the result lies inside the SAR population
  of B. Murmann, "ADC Performance Survey 1997-2024" (roughly 0.1 fJ to 1 pJ per conversion step);
  see the plugin tests.

Validity: 1-12 bits, planar and FinFET nodes of the built-in table (V_ref = V_dd), asynchronous
(self-timed) conversion; no redundancy, calibration or split/bridge DAC.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from cimgraph.components import circuit
from cimgraph.components.base import Component, Cost
from cimgraph.errors import CimgraphError
from cimgraph.tech.technology import Technology
from cimgraph.units import int_range, one_of, optional_quantity, positive, quantity

BOLTZMANN = 1.380649e-23  # J/K
FO4 = 4.0                 # fan-out per stage of the switch-driver chains
DFF_INVERTERS = 4         # master-slave TG flip-flop: 4 inverters ...
DFF_GATES = 4             # ... and 4 transmission gates (clocked gates)
COMPARATOR_DEVICES = 12   # StrongARM: 2 input, 1 tail, 4 cross-coupled, 4 reset (+1 layout dummy)
COMPARATOR_CLOCKED = 5    # tail + 4 reset devices driven by the comparator clock


class SarDesignError(CimgraphError, ValueError):
    """The requested SAR ADC cannot be built (e.g. a sampling rate beyond the circuit's limit)."""


@attrs.frozen
class SarADC(Component):
    """A bank of ceil(columns / share) charge-redistribution SAR ADCs (see the module docstring)."""

    kind: ClassVar[str] = "adc.sar"
    group: ClassVar[str] = "adc"
    source: ClassVar[str] = ("Liu et al., IEEE JSSC 2010 (monotonic switching, eq. 1); Ginsburg & "
                             "Chandrakasan, IEEE JSSC 2007 (conventional switching); kT/C-limited "
                             "binary-weighted DAC; StrongARM comparator (Razavi 2015); checked against "
                             "the Murmann ADC survey (Walden FoM)")

    tech: Technology = attrs.field(metadata={"doc": "technology node (injected)"})
    bits: int = attrs.field(default=6, validator=int_range(1, 12), metadata={"doc": "resolution"})
    share: int = attrs.field(default=8, validator=int_range(1), metadata={"doc": "columns per ADC"})
    columns: int = attrs.field(default=128, validator=int_range(1),
                               metadata={"doc": "columns of the subarray (injected)"})
    scheme: str = attrs.field(default="monotonic", validator=one_of("monotonic", "conventional"),
                              metadata={"doc": "DAC switching scheme"})
    unit_cap: float = quantity("F", default=0.5e-15, validator=positive,
                               doc="design unit capacitor (raised to the kT/C bound if smaller)")
    sampling_rate: float | None = optional_quantity("Hz", "conversions per second; none = as fast as the circuit allows")

    def __attrs_post_init__(self) -> None:
        if self.sampling_rate is not None:
            self._comparator_width()  # raises SarDesignError when the rate is out of reach

    # -- sizing ----------------------------------------------------------------------------
    @property
    def adcs(self) -> int:
        """ADCs in the bank."""
        return math.ceil(self.columns / self.share)

    @property
    def units_per_side(self) -> int:
        """Unit capacitors in each half of the differential DAC."""
        return 2 ** (self.bits - 1) if self.scheme == "monotonic" else 2 ** self.bits

    def unit_capacitance(self) -> float:
        """C_u (F): the design value or the kT/C bound C_s >= 6 kT 4^n / V_ref^2 per side."""
        v = self.tech.vdd
        noise_bound = 6 * BOLTZMANN * self.tech.temperature * 4.0 ** self.bits / v ** 2
        return max(self.unit_cap, noise_bound / self.units_per_side)

    def dac_capacitance(self) -> float:
        """Total DAC capacitance of one ADC, both sides (F)."""
        return 2 * self.units_per_side * self.unit_capacitance()

    def _w_min(self) -> float:
        return circuit.min_width(self.tech)

    def _inverter_cap(self, width_n: float) -> float:
        """Input capacitance of an inverter with a balanced PMOS (F)."""
        return circuit.gate_cap(self.tech, width_n + circuit.balanced_pmos_width(self.tech, width_n))

    def _fo4_delay(self) -> float:
        w = self._w_min()
        w_p = circuit.balanced_pmos_width(self.tech, w)
        load = circuit.drain_cap(self.tech, w + w_p) + FO4 * self._inverter_cap(w)
        return circuit.horowitz(circuit.on_resistance(self.tech, w) * load, 0.0, math.inf)[0]

    def _dac_tau(self) -> float:
        """RC of a unit capacitor through its unit switch; every bit's switch is scaled with its
        capacitor, so all bits share it."""
        w = self._w_min()
        c = self.unit_capacitance() + circuit.drain_cap(self.tech, w + circuit.balanced_pmos_width(self.tech, w))
        return circuit.on_resistance(self.tech, w) * c

    def _settle_time(self) -> float:
        """Settling of the DAC (and of sampling) to 1/2 LSB: tau ln(2^(n+1))."""
        return self._dac_tau() * (self.bits + 1) * math.log(2)

    def _driver_stages(self) -> int:
        largest = self.units_per_side // 2  # MSB capacitor, in unit switches
        return max(1, math.ceil(math.log(max(largest, 1), FO4) - 1e-12))

    def _latch_node(self, width: float) -> float:
        """Output node of the latch: 3 drains and 2 gates of ``width`` plus one DFF data input."""
        width = circuit.effective_width(self.tech, width)
        return width * (3 * self.tech.c_junction + 2 * self.tech.c_gate) + self._inverter_cap(self._w_min())

    def _latch_tau(self, width: float) -> float:
        return circuit.on_resistance(self.tech, width) * self._latch_node(width)

    def _fixed_cycle(self) -> float:
        """Per-bit time outside the comparator: DFF clock-to-q (2 FO4), switch driver, DAC settling."""
        return (2 + self._driver_stages()) * self._fo4_delay() + self._settle_time()

    def _regeneration(self, width: float) -> float:
        return self._latch_tau(width) * self.bits * math.log(2)  # ln(V_dd / (LSB / 2)), LSB = 2 V / 2^n

    def _comparator_width(self) -> float:
        """Minimum width, or the width whose regeneration fits the requested sampling rate."""
        w = self._w_min()
        if self.sampling_rate is None:
            return w
        cycle = (1.0 / self.sampling_rate - self._settle_time()) / self.bits
        available = cycle - self._fixed_cycle()
        if available >= self._regeneration(w):
            return w
        tau_needed = available / (self.bits * math.log(2))
        r = self.tech.r_eff_n
        intrinsic = r * (3 * self.tech.c_junction + 2 * self.tech.c_gate)
        if tau_needed <= intrinsic * 1.0001:
            limit = self._settle_time() + self.bits * (self._fixed_cycle() + intrinsic * self.bits * math.log(2))
            raise SarDesignError(
                f"adc.sar: sampling_rate {self.sampling_rate:.3g} Hz is out of reach for a {self.bits}-bit SAR "
                f"at {self.tech.name}: below {1 / limit:.3g} Hz even with an unboundedly wide comparator; "
                f"lower sampling_rate or bits")
        return r * self._inverter_cap(self._w_min()) / (tau_needed - intrinsic)

    def min_conversion_time(self) -> float:
        """Self-timed conversion with a minimum-width comparator (s)."""
        w = self._w_min()
        return self._settle_time() + self.bits * (self._fixed_cycle() + self._regeneration(w))

    def conversion_time(self) -> float:
        """Sampling + bits x cycle (s); 1 / sampling_rate when a rate is given."""
        if self.sampling_rate is not None:
            return 1.0 / self.sampling_rate
        return self.min_conversion_time()

    # -- energy ------------------------------------------------------------------------------
    def dac_energy(self) -> float:
        """Average DAC switching (+ monotonic bottom-plate reset) energy per conversion (J)."""
        n, cu, v2 = self.bits, self.unit_capacitance(), self.tech.vdd ** 2
        if self.scheme == "monotonic":
            switching = (2.0 ** (n - 2) - 0.5) * cu * v2
            reset = (2.0 ** (n - 1) - 1) * cu * v2
            return switching + reset
        return sum(2.0 ** (n + 1 - 2 * i) * (2 ** i - 1) for i in range(1, n + 1)) * cu * v2

    def comparator_energy(self) -> float:
        """n decisions: both latch outputs, two internal nodes and the clocked gates switch."""
        w = self._comparator_width()
        w_eff = circuit.effective_width(self.tech, w)
        c = (2 * self._latch_node(w) + 2 * w_eff * 2 * self.tech.c_junction
             + COMPARATOR_CLOCKED * w_eff * self.tech.c_gate)
        return self.bits * circuit.switching_energy(c, self.tech.vdd)

    def logic_energy(self) -> float:
        """2n DFFs clocked n + 1 times (data activity 1/2) plus the DAC switch drivers."""
        w = self._w_min()
        w_p = circuit.balanced_pmos_width(self.tech, w)
        clocked = DFF_GATES * circuit.gate_cap(self.tech, w + w_p)
        internal = DFF_INVERTERS * (self._inverter_cap(w) + circuit.drain_cap(self.tech, w + w_p))
        per_dff = circuit.switching_energy(clocked, self.tech.vdd) + circuit.switching_energy(internal, self.tech.vdd, 0.5)
        dffs = 2 * self.bits * (self.bits + 1) * per_dff
        switched_units = self.units_per_side - 1          # capacitors switched once and reset once
        drivers = circuit.switching_energy(2 * switched_units * self._inverter_cap(w) * FO4 / (FO4 - 1), self.tech.vdd)
        return dffs + drivers

    def conversion_energy(self) -> float:
        """Energy of one conversion of one ADC (J)."""
        return self.dac_energy() + self.comparator_energy() + self.logic_energy()

    def walden_fom(self) -> float:
        """Energy per conversion step E / 2^bits (J), the survey's Walden figure of merit."""
        return self.conversion_energy() / 2 ** self.bits

    # -- area, leakage ---------------------------------------------------------------------
    def _switch_widths(self) -> list[float]:
        """NMOS width of each bottom-plate switch of one side (unit-scaled with its capacitor)."""
        w = self._w_min()
        sizes = [2 ** k for k in range(self.bits - (1 if self.scheme == "monotonic" else 0))]
        return [s * w for s in sizes]

    def adc_area(self) -> float:
        """Area of one ADC (m^2): MOM DAC + switches + comparator + SAR logic."""
        tech = self.tech
        density = tech.wire_local.c / (2 * tech.wire_local.pitch)
        dac = self.dac_capacitance() / density
        bal = lambda w: circuit.balanced_pmos_width(tech, w)  # noqa: E731
        switches = 2 * sum(circuit.gate_area(tech, "inv", 1, w, bal(w)).area for w in self._switch_widths())
        wc = self._comparator_width()
        comparator = COMPARATOR_DEVICES / 4 * circuit.gate_area(tech, "nand", 2, wc, wc).area
        w = self._w_min()
        dff = (DFF_INVERTERS + DFF_GATES) * circuit.gate_area(tech, "inv", 1, w, bal(w)).area
        return dac + switches + comparator + 2 * self.bits * dff

    def area(self) -> float:
        return self.adcs * self.adc_area()

    def leakage(self) -> float:
        tech, w = self.tech, self._w_min()
        bal = circuit.balanced_pmos_width(tech, w)
        switches = 2 * sum(circuit.leakage_power(tech, s, s * bal / w) for s in self._switch_widths())
        comparator = circuit.leakage_power(tech, COMPARATOR_DEVICES / 2 * self._comparator_width(),
                                           COMPARATOR_DEVICES / 2 * self._comparator_width())
        logic = 2 * self.bits * (DFF_INVERTERS + DFF_GATES) * circuit.leakage_power(tech, w, bal)
        return self.adcs * (switches + comparator + logic)

    # -- the adc role's action ---------------------------------------------------------------
    def sense_time(self) -> float:
        """How long the column signal must be present per conversion (s): the sampling phase only;
        the bit cycles then work on the held charge (track-and-hold on the DAC array)."""
        return self._settle_time()

    def convert(self) -> Cost:
        """Every ADC of the bank converts once."""
        return Cost(self.conversion_time(), self.adcs * self.conversion_energy())
