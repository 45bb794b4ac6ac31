"""CMOS technology node parameters (data class; tables live in ``nodes.py``)."""
from __future__ import annotations

import attrs

from ..units import optional_quantity, positive, quantity


@attrs.frozen
class WireLayer:
    """One metal layer's wire: pitch, resistance and capacitance per unit length."""

    pitch: float = quantity("m", doc="wire pitch (width + space)", validator=positive)
    r: float = quantity("Ohm/m", doc="resistance per unit length", validator=positive)
    c: float = quantity("F/m", doc="capacitance per unit length", validator=positive)


@attrs.frozen
class Technology:
    """A CMOS node: device currents, capacitances and wires per unit width/length, all SI.

    ``r_eff_*`` is the effective switching resistance of a transistor times its width (Ohm*m),
    so a transistor of width W has R = r_eff / W.

    FinFET / GAA nodes also give their device grid (NeuroSim V1.4, TCAS-I 2024, Technology.cpp and
    constant.h): ``fin_width`` (effective width of one fin, 2 H_fin + W_fin, or of one nanosheet stack,
    sheets x 2 (w + t)), ``fins_per_device`` (most fins / stacks one transistor of a standard cell has
    before it is folded), ``gate_pitch`` (contacted poly pitch), ``cell_height`` (standard-cell
    height) and ``sram_cell_width`` / ``sram_cell_height``, the node's high-density 6T bit cell (V1.4
    Param.cpp: Samsung 14 nm, TSMC 10 / 7 nm, IRDS 5-1 nm). Planar nodes leave them None: their widths are
    continuous (circuit.effective_width).
    """

    name: str
    feature_size: float = quantity("m", doc="feature size F", validator=positive)
    vdd: float = quantity("V", doc="supply voltage", validator=positive)
    vth: float = quantity("V", doc="threshold voltage (NMOS)", validator=positive)
    temperature: float = quantity("K", doc="temperature the currents hold at", validator=positive)
    i_on_n: float = quantity("A/m", doc="NMOS on-current per width", validator=positive)
    i_on_p: float = quantity("A/m", doc="PMOS on-current per width", validator=positive)
    i_off_n: float = quantity("A/m", doc="NMOS off-current per width", validator=positive)
    i_off_p: float = quantity("A/m", doc="PMOS off-current per width", validator=positive)
    c_gate: float = quantity("F/m", doc="gate capacitance per width (incl. overlap, fringe)", validator=positive)
    c_junction: float = quantity("F/m", doc="drain junction capacitance per width", validator=positive)
    r_eff_n: float = quantity("Ohm*m", doc="NMOS effective resistance x width", validator=positive)
    r_eff_p: float = quantity("Ohm*m", doc="PMOS effective resistance x width", validator=positive)
    wire_local: WireLayer = attrs.field(metadata={"doc": "local (M1/M2) wires"})
    wire_global: WireLayer = attrs.field(metadata={"doc": "global (top-level) wires"})
    source: str = ""
    device: str = attrs.field(default="planar", metadata={
        "doc": "transistor architecture: planar | finfet | gaa-nanosheet | forksheet | cfet"})
    fin_width: float | None = optional_quantity("m", doc="effective width of one fin / nanosheet stack "
                                                "(None: planar, continuous width)")
    fins_per_device: int | None = attrs.field(default=None, metadata={
        "doc": "most fins / stacks per transistor in a standard cell before folding"})
    gate_pitch: float | None = optional_quantity("m", doc="contacted poly pitch (FinFET / GAA)")
    cell_height: float | None = optional_quantity("m", doc="standard-cell height (FinFET / GAA)")
    sram_cell_width: float | None = optional_quantity("m", doc="6T SRAM bit-cell width on the node's grid "
                                                      "(None: the cell's own F-based size)")
    sram_cell_height: float | None = optional_quantity("m", doc="6T SRAM bit-cell height on the node's grid")

    @property
    def quantised(self) -> bool:
        """True when transistor widths come in whole fins / nanosheet stacks."""
        return self.fin_width is not None
