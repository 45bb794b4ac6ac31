"""CMOS technology node parameters (data class; tables live in ``nodes.py``)."""
from __future__ import annotations

import attrs

from ..units import positive, quantity


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
