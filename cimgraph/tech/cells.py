"""Memory-cell parameter sets (data class; the built-in table lives in ``cell_library.py``)."""
from __future__ import annotations

import attrs

from ..units import int_range, positive, quantity


@attrs.frozen
class MemoryCell:
    """A synaptic memory cell: geometry in F, electrical and programming parameters, SI units.

    Resistive cells give ``r_on``/``r_off``; capacitive cells (e.g. nvCap) give ``c_on``/``c_off``;
    SRAM cells give neither. ``levels_ltp``/``levels_ltd`` are programming pulses over the full
    conductance range; ``nonlinearity_*`` the LTP/LTD non-linearity (seed 001 eq. 8.1-8.3).
    """

    name: str
    family: str = attrs.field(metadata={"doc": "sram | rram | fefet | flash | ideal | plugin-defined"})
    access: str = attrs.field(metadata={"doc": "6t | 8t | 1t1r | crossbar | fefet | flash | ..."})
    area_f2: float = quantity("1", doc="cell area in F^2", validator=positive)
    width_f: float = quantity("1", doc="cell width in F", validator=positive)
    height_f: float = quantity("1", doc="cell height in F", validator=positive)
    bits_per_cell: int = attrs.field(default=1, validator=int_range(1, 8), metadata={"doc": "bits stored per cell"})
    r_on: float | None = quantity("Ohm", default=None, doc="on-state (low) resistance")
    r_off: float | None = quantity("Ohm", default=None, doc="off-state (high) resistance")
    c_on: float | None = quantity("F", default=None, doc="on-state capacitance (capacitive cells)")
    c_off: float | None = quantity("F", default=None, doc="off-state capacitance (capacitive cells)")
    read_voltage: float = quantity("V", default=0.5, doc="read voltage")
    read_pulse: float = quantity("s", default=10e-9, doc="read pulse width")
    write_voltage: float = quantity("V", default=2.0, doc="write (program) voltage")
    write_pulse: float = quantity("s", default=10e-9, doc="write pulse width")
    write_current: float = quantity("A", default=0.0, doc="current per cell during a write pulse")
    levels_ltp: int = attrs.field(default=2, validator=int_range(2), metadata={"doc": "LTP pulses over range"})
    levels_ltd: int = attrs.field(default=2, validator=int_range(2), metadata={"doc": "LTD pulses over range"})
    nonlinearity_ltp: float = quantity("1", default=0.0, doc="LTP non-linearity")
    nonlinearity_ltd: float = quantity("1", default=0.0, doc="LTD non-linearity")
    sigma_d2d: float = quantity("1", default=0.0, doc="device-to-device conductance variation (relative sigma; "
                                "the inference `variation` effect)")
    nonlinearity_d2d: float = quantity("1", default=0.0, doc="device-to-device spread of the LTP/LTD non-linearity "
                                       "(sigma in NL label steps, seed 001 sec. 8(3), NeuroSim d2dVari; training)")
    sigma_c2c: float = quantity("1", default=0.0, doc="cycle-to-cycle variation (relative sigma)")
    access_width: float | None = quantity("1", default=None, doc="access transistor width in F")
    source: str = ""

    @property
    def is_resistive(self) -> bool:
        return self.r_on is not None and self.r_off is not None

    @property
    def is_capacitive(self) -> bool:
        return self.c_on is not None and self.c_off is not None

    @property
    def on_off_ratio(self) -> float:
        if self.is_resistive:
            return self.r_off / self.r_on
        if self.is_capacitive:
            return self.c_on / self.c_off
        return float("inf")

    @property
    def g_on(self) -> float | None:
        return 1.0 / self.r_on if self.r_on else None

    @property
    def g_off(self) -> float | None:
        return 1.0 / self.r_off if self.r_off else None
