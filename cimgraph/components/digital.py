"""Digital logic: static CMOS gates, the ripple-carry adder, the DFF, and the adder-tree,
shift-adder and register-bank models built from them.

Sources: DNN+NeuroSim V2 manual sec. 5.4(7) "Adder and register" and 5.4(8) "Adder and shift
register" (seed 001); NeuroTorch manual sec. 4 (seed 000: standard cells 28F high, Horowitz delay,
CV^2 energy with activity factors); N. Weste, D. Harris, "CMOS VLSI Design", 4th ed.: the
nine-NAND2 full adder (sec. 11.2.1), the transmission-gate master-slave flip-flop (sec. 10.3) and
logical-effort sizing (ch. 4, stage effort 4).

Gate-level helpers here (:class:`Gate`, :class:`Block`, :func:`ripple_adder`, :func:`dff`,
:func:`bank_area`, :func:`clocked`) are shared by the decoder, switch, buffer and function models.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs

from ..errors import CimgraphError
from ..hookspecs import hookimpl
from ..tech.technology import Technology
from ..units import int_range, non_negative, optional_quantity, quantity
from .base import Component, Cost
from .circuit import (balanced_pmos_width, cell_height, drain_cap, gate_area, gate_cap, horowitz, leakage_power,
                      min_width, on_resistance, switching_energy)

# Probability that a data node toggles in one operation on uniformly random data.
DATA_ACTIVITY = 0.5
# Stage effort of an optimally sized inverter chain (logical effort; Weste & Harris ch. 4).
STAGE_EFFORT = 4.0


def transconductance_beta(tech: Technology) -> float:
    """Horowitz beta = 1 / (g_m R) with the square-law g_m = 2 I_on / (Vdd - Vth) and R = r_eff / W.

    Width cancels, so beta is a property of the node: (Vdd - Vth) / (2 I_on r_eff).
    """
    return (tech.vdd - tech.vth) / (2 * tech.i_on_n * tech.r_eff_n)


@attrs.frozen
class Block:
    """Area (m^2), leakage (W), latency (s) and energy (J) of one operation of a sub-circuit."""

    area: float = 0.0
    leakage: float = 0.0
    latency: float = 0.0
    energy: float = 0.0

    def then(self, other: "Block") -> "Block":
        """``other`` after ``self`` on the critical path: everything adds."""
        return Block(self.area + other.area, self.leakage + other.leakage, self.latency + other.latency,
                     self.energy + other.energy)

    def beside(self, other: "Block") -> "Block":
        """``other`` working at the same time as ``self``: the longer latency, the rest adds."""
        return Block(self.area + other.area, self.leakage + other.leakage, max(self.latency, other.latency),
                     self.energy + other.energy)

    def copies(self, n: float) -> "Block":
        """``n`` identical blocks working in parallel."""
        return Block(self.area * n, self.leakage * n, self.latency if n else 0.0, self.energy * n)

    @property
    def cost(self) -> Cost:
        return Cost(self.latency, self.energy)


@attrs.frozen
class Gate:
    """A static CMOS gate (``inv`` | ``nand`` | ``nor``) of ``size`` x the minimum inverter drive.

    Series stacks are widened by the number of inputs and the PMOS is sized for the NMOS's
    drive, so every gate has the pull-down/up resistance of an inverter of the same ``size``.
    """

    tech: Technology
    kind: str = "inv"
    inputs: int = 1
    size: float = 1.0
    height: float | None = None

    @property
    def width_n(self) -> float:
        return self.size * min_width(self.tech) * (self.inputs if self.kind == "nand" else 1)

    @property
    def width_p(self) -> float:
        unit = balanced_pmos_width(self.tech, self.size * min_width(self.tech))
        return unit * (self.inputs if self.kind == "nor" else 1)

    @property
    def c_in(self) -> float:
        """Capacitance one input presents (F)."""
        return gate_cap(self.tech, self.width_n + self.width_p)

    @property
    def c_out(self) -> float:
        """Drain capacitance on the output node (F)."""
        n_drains = self.inputs if self.kind == "nor" else 1
        p_drains = self.inputs if self.kind == "nand" else 1
        return drain_cap(self.tech, n_drains * self.width_n + p_drains * self.width_p)

    @property
    def resistance(self) -> float:
        """Effective pull-down (= pull-up) resistance (Ohm)."""
        return on_resistance(self.tech, self.size * min_width(self.tech))

    @property
    def geometry(self):
        """Standard-cell layout; a gate too skewed for one 28F row (e.g. a wide-PMOS NOR3) takes the
        smallest of a single- to quadruple-height cell, as standard-cell libraries offer."""
        base = self.height or cell_height(self.tech)
        options = []
        for rows in (1, 2, 3, 4):
            try:
                options.append(gate_area(self.tech, self.kind, self.inputs, self.width_n, self.width_p, rows * base))
            except CimgraphError:
                continue
        if options:
            return min(options, key=lambda g: g.area)
        raise CimgraphError(f"{self.kind}{self.inputs} gate of size {self.size:.3g} does not fit a cell "
                            f"up to 4 x {base:.3g} m high")

    @property
    def width(self) -> float:
        """Width (m) the gate takes in a row of standard 28F cells (area / standard height)."""
        return self.geometry.area / (cell_height(self.tech))

    @property
    def leakage(self) -> float:
        return leakage_power(self.tech, self.width_n, self.width_p)

    def delay(self, c_load: float, ramp: float = math.inf, extra_tau: float = 0.0) -> tuple[float, float]:
        """Horowitz delay and output ramp driving ``c_load``; ``extra_tau`` adds a wire's Elmore term."""
        tau = self.resistance * (self.c_out + c_load) + extra_tau
        return horowitz(tau, transconductance_beta(self.tech), ramp)

    def energy(self, c_load: float, activity: float = 1.0) -> float:
        """Energy of ``activity`` output charges of the output node plus ``c_load`` (J)."""
        return switching_energy(self.c_out + c_load, self.tech.vdd, activity)


def inverter_chain(tech: Technology, c_first: float, c_load: float, height: float | None = None,
                   even: bool = False) -> list[Gate]:
    """Inverters sized with stage effort ~4 from an input of ``c_first`` to drive ``c_load``.

    At least one stage; ``even`` keeps the polarity (a multiple of two stages).
    """
    unit = Gate(tech)
    first = max(1.0, c_first / unit.c_in)
    effort = max(c_load / (first * unit.c_in), 1.0)
    stages = max(1, round(math.log(effort) / math.log(STAGE_EFFORT)))
    if even and stages % 2:
        stages += 1
    step = effort ** (1.0 / stages)
    return [Gate(tech, "inv", 1, first * step ** i, height) for i in range(stages)]


def chain_block(gates: list[Gate], c_load: float, ramp: float = math.inf, extra_tau: float = 0.0,
                activity: float = 1.0, uncounted: float = 0.0) -> tuple[Block, float]:
    """A chain of gates, each driving the next, the last ``c_load`` (plus a wire's ``extra_tau``).

    Returns the Block (energy = ``activity`` charges of every node; the part ``uncounted`` of the
    final load, e.g. an array line whose charge the array model counts, is left out) and the
    output ramp.
    """
    area = leak = latency = energy = 0.0
    for i, gate in enumerate(gates):
        last = i == len(gates) - 1
        load = c_load if last else gates[i + 1].c_in
        delay, ramp = gate.delay(load, ramp, extra_tau if last else 0.0)
        area += gate.geometry.area
        leak += gate.leakage
        latency += delay
        energy += gate.energy(load - uncounted if last else load, activity)
    return Block(area, leak, latency, energy), ramp


def bank_area(tech: Technology, count: int, unit_width: float, span: float | None) -> float:
    """Area of ``count`` identical standard-cell rows of ``unit_width`` pitch-matched along ``span``.

    Cells 28F high are stacked along the span (NeuroSim's folding of a peripheral bank beside an
    array edge); the bank is ceil(count / per_stack) stacks wide and ``span`` long. Without a span
    the cells are simply tiled.
    """
    height = cell_height(tech)
    if not span:
        return count * unit_width * height
    per_stack = max(1, math.floor(span / height))
    stacks = math.ceil(count / per_stack)
    return stacks * unit_width * max(span, height)


def clocked(delay: float, clock: float | None) -> float:
    """Latency of synchronous logic: whole cycles of ``clock`` (Hz) when set, else the path delay."""
    if not clock:
        return delay
    return math.ceil(delay * clock - 1e-9) / clock


# -- ripple-carry adder and DFF --------------------------------------------------------------

FULL_ADDER_NANDS = 9


def _nand2(tech: Technology) -> Gate:
    return Gate(tech, "nand", 2)


def nand2_delay(tech: Technology, fanout: float = 2.0) -> float:
    """Step-input delay of a minimum NAND2 driving ``fanout`` NAND2 inputs."""
    gate = _nand2(tech)
    return gate.delay(fanout * gate.c_in)[0]


def ripple_adder(tech: Technology, bits: int, activity: float = DATA_ACTIVITY) -> Block:
    """A ``bits``-bit ripple-carry adder of nine-NAND2 full adders (Weste & Harris sec. 11.2.1).

    Critical path: the propagate XOR (3 NAND2), then the carry ripples 2 NAND2 per bit, then the
    last sum (2 NAND2 after the last carry NAND): latency = (2 bits + 4) x t_NAND2, each NAND2
    driving two NAND2 inputs (the full adder's average fan-out). Energy: ``activity`` output
    charges of all 9 x bits NAND2 per addition. Valid for bits >= 1.
    """
    if bits < 1:
        raise CimgraphError(f"ripple_adder: expected bits >= 1, got {bits!r}")
    gate = _nand2(tech)
    n = FULL_ADDER_NANDS * bits
    return Block(area=n * gate.geometry.area, leakage=n * gate.leakage,
                 latency=(2 * bits + 4) * nand2_delay(tech),
                 energy=n * gate.energy(2 * gate.c_in, activity))


def ripple_adder_width(tech: Technology, bits: int) -> float:
    """Layout width of one bit slice row of the adder (9 NAND2 side by side), m."""
    return FULL_ADDER_NANDS * _nand2(tech).width


# A TG master-slave DFF: 4 transmission gates, 4 inverters, 1 local clock inverter.
DFF_TGS, DFF_INVS = 4, 5


def dff(tech: Technology, activity: float = DATA_ACTIVITY) -> Block:
    """One transmission-gate master-slave D flip-flop, one clock edge pair (Weste & Harris sec. 10.3).

    Clock load: the 4 TGs' gates (clk on one device, clk-bar on the other) and the local clock
    inverter, charged once per cycle. Data: the 4 inverter outputs toggle with ``activity``.
    Clock-to-Q: the slave TG (R_TG into an inverter input) plus two inverters. A TG is laid out
    like an inverter (one NMOS, one PMOS).
    """
    inv = Gate(tech)
    c_clk = DFF_TGS * inv.c_in + inv.c_in + inv.c_out
    r_tg = 1.0 / (1.0 / on_resistance(tech, inv.width_n) + 1.0 / on_resistance(tech, inv.width_p, pmos=True))
    tau_tg = r_tg * (inv.c_out + inv.c_in)
    beta = transconductance_beta(tech)
    t_tg, ramp = horowitz(tau_tg, beta, math.inf)
    t1, ramp = inv.delay(inv.c_in, ramp)
    t2, _ = inv.delay(inv.c_in, ramp)
    energy = switching_energy(c_clk, tech.vdd) + 4 * inv.energy(inv.c_in + inv.c_out, activity)
    cells = DFF_TGS + DFF_INVS
    return Block(area=cells * inv.geometry.area, leakage=cells * inv.leakage, latency=t_tg + t1 + t2,
                 energy=energy)


def dff_width(tech: Technology) -> float:
    """Layout width of one DFF in a standard-cell row, m."""
    return (DFF_TGS + DFF_INVS) * Gate(tech).width


# -- component models ----------------------------------------------------------------------

def int_field(low: int, high: int | None = None, default: int = 1, doc: str = "") -> int:
    """An attrs integer field in [low, high] with its doc in the metadata."""
    return attrs.field(default=default, validator=int_range(low, high), metadata={"doc": doc, "unit": ""})


def clock_field():
    """The optional injected ``clock`` (Hz) of synchronous units."""
    return optional_quantity("Hz", "digital clock; latency rounds up to whole cycles (None: path delay)")


def adder_activity_field():
    """Switching activity of an adder's gate outputs per addition (0.5: uniformly random operands)."""
    return quantity("1", default=DATA_ACTIVITY, validator=[non_negative, attrs.validators.le(1.0)], doc=(
        "switching activity of the adders' gate outputs per addition: 0.5 for uniformly random operands; NeuroSim "
        "V1.4 uses 0.15, its silicon-validated value (Param.cpp delta, validated = true)"))


@attrs.frozen
class AdderTree(Component):
    """Adder tree(s) accumulating partial sums from the child units (DNN+NeuroSim V2 sec. 4, Fig. 3).

    Each of ``copies`` trees reduces ``children`` operands of ``psum_bits`` bits in
    ceil(log2 children) stages of ripple-carry adders; stage k (from the leaves) has
    ceil(n_k / 2) adders of psum_bits + k bits. add() = every tree reduces its operands once:
    latency = the sum of the stage adder delays, energy = all adders once. A tree over one
    child is a wire (zero cost). Valid for any children >= 1 (the tree sizes itself from the
    mapping), psum_bits <= 64.
    """

    kind: ClassVar[str] = "adder.tree"
    group: ClassVar[str] = "accumulation"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 4 and 5.4(7) (seed 001); Weste & Harris sec. 11.2.1"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    children: int = int_field(1, None, 4, "operands per tree (injected: child units under the parent)")
    psum_bits: int = int_field(1, 64, 8, "bits of each input partial sum (injected)")
    copies: int = int_field(1, 1 << 20, 1, "independent trees (e.g. one per output column)")
    clock: float | None = clock_field()
    activity: float = adder_activity_field()

    def _tree(self) -> Block:
        total = Block()
        operands, bits = self.children, self.psum_bits
        while operands > 1:
            adders = operands // 2
            stage = ripple_adder(self.tech, bits, self.activity).copies(adders)
            total = total.then(stage)
            operands = adders + operands % 2
            bits += 1
        return total

    def stages(self) -> int:
        return math.ceil(math.log2(self.children)) if self.children > 1 else 0

    def area(self) -> float:
        return self._tree().area * self.copies

    def leakage(self) -> float:
        return self._tree().leakage * self.copies

    def add(self) -> Cost:
        tree = self._tree()
        return Cost(clocked(tree.latency, self.clock), tree.energy * self.copies)


@attrs.frozen
class ShiftAddBank(Component):
    """Shift-and-add bank: one adder + register pair per ADC output (DNN+NeuroSim V2 sec. 5.4(8)).

    At each input bit cycle the unit shifts its accumulator and adds the new ``adc_bits`` partial
    sum; the accumulator holds adc_bits + input_bits bits (the weighted sum over all input bits).
    Units = ceil(columns / share). accumulate() = every unit adds and clocks its register once.
    With input_bits = 1 no shift-add is needed, but the bank still registers the result.
    Valid for adc_bits + input_bits <= 64.
    """

    kind: ClassVar[str] = "shiftadd.bank"
    group: ClassVar[str] = "accumulation"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.4(8) (seed 001); Weste & Harris sec. 10.3, 11.2.1"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    columns: int = int_field(1, 1 << 16, 128, "subarray columns (injected)")
    share: int = int_field(1, 1 << 16, 8, "columns sharing one ADC, hence one shift-adder")
    adc_bits: int = int_field(1, 32, 5, "bits of the partial sum from the ADC")
    input_bits: int = int_field(1, 32, 8, "input precision = bit cycles shifted in (injected)")
    clock: float | None = clock_field()
    activity: float = adder_activity_field()

    @property
    def units(self) -> int:
        return math.ceil(self.columns / self.share)

    @property
    def bits(self) -> int:
        return self.adc_bits + self.input_bits

    def _unit(self) -> Block:
        return ripple_adder(self.tech, self.bits, self.activity).then(dff(self.tech).copies(self.bits))

    def area(self) -> float:
        return self._unit().area * self.units

    def leakage(self) -> float:
        return self._unit().leakage * self.units

    def accumulate(self) -> Cost:
        unit = self._unit()
        return Cost(clocked(unit.latency, self.clock), unit.energy * self.units)


@attrs.frozen
class RegisterBank(Component):
    """A bank of ``bits`` TG master-slave DFFs (DNN+NeuroSim V2 sec. 5.4(7), DFF.cpp).

    clock() = one clock cycle of every flip-flop (clock load charged once, data nodes toggling
    with probability 0.5); latency = clock-to-Q. (No ``clock`` frequency field: the action is
    named ``clock``; the scheduler accounts one cycle per action.) Valid for any bits.
    """

    kind: ClassVar[str] = "register.dff"
    group: ClassVar[str] = "accumulation"
    source: ClassVar[str] = "DNN+NeuroSim V2 manual sec. 5.4(7) (seed 001); Weste & Harris sec. 10.3"

    tech: Technology = attrs.field(metadata={"doc": "CMOS technology (injected)"})
    bits: int = int_field(1, 1 << 24, 64, "flip-flops in the bank")

    def area(self) -> float:
        return dff(self.tech).area * self.bits

    def leakage(self) -> float:
        return dff(self.tech).leakage * self.bits

    def clock(self) -> Cost:
        one = dff(self.tech)
        return Cost(one.latency, one.energy * self.bits)


@hookimpl(trylast=True)
def cimgraph_register_components(registry) -> None:
    for cls in (AdderTree, ShiftAddBank, RegisterBank):
        registry.add_component(cls)
