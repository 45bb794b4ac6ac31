"""Memory-cell parameter sets (data class; the built-in table lives in ``cell_library.py``)."""
from __future__ import annotations

import attrs

from ..errors import FieldError
from ..units import finite, int_range, non_negative, optional_quantity, positive, quantity

# 6T SRAM cell inverter widths in F, the default of every SRAM cell: DNN+NeuroSim V2 manual (seed 001) sec. 3,
# Param.cpp widthSRAMCellNMOS 2.08 / widthSRAMCellPMOS 1.23 (access widthAccessCMOS 1.31, the library cells').
SRAM_PULLDOWN_WIDTH = 2.08
SRAM_PULLUP_WIDTH = 1.23


def _sram_width(default: float, doc: str):
    """An SRAM-only transistor width in F: ``default`` for a cell of family sram, else None."""
    return quantity("1", default=attrs.Factory(lambda cell: default if cell.family == "sram" else None,
                                               takes_self=True),
                    doc=doc, validator=attrs.validators.optional(positive))


@attrs.frozen
class MemoryCell:
    """A synaptic memory cell: geometry in F, electrical and programming parameters, SI units.

    Resistive cells give ``r_on``/``r_off``; capacitive cells (e.g. nvCap) give ``c_on``/``c_off``;
    SRAM cells give neither, but their inverters' ``pulldown_width`` / ``pullup_width`` (default the
    V2 manual's 2.08 F / 1.23 F) and ``access_width``. ``levels_ltp``/``levels_ltd`` are programming
    pulses over the full conductance range; ``nonlinearity_*`` the LTP/LTD non-linearity (seed 001
    eq. 8.1-8.3).
    """

    name: str
    family: str = attrs.field(metadata={"doc": "sram | rram | fefet | flash | ideal | plugin-defined"})
    access: str = attrs.field(metadata={"doc": "6t | 8t | 1t1r | crossbar | fefet | flash | ..."})
    area_f2: float = quantity("1", doc="cell area in F^2", validator=positive)
    width_f: float = quantity("1", doc="cell width in F", validator=positive)
    height_f: float = quantity("1", doc="cell height in F", validator=positive)
    bits_per_cell: int = attrs.field(default=1, validator=int_range(1, 8), metadata={"doc": "bits stored per cell"})
    r_on: float | None = optional_quantity("Ohm", "on-state (low) resistance, > 0")
    r_off: float | None = optional_quantity("Ohm", "off-state (high) resistance, > r_on")
    c_on: float | None = optional_quantity("F", "on-state capacitance (capacitive cells), > c_off")
    c_off: float | None = optional_quantity("F", "off-state capacitance (capacitive cells), > 0")
    read_voltage: float = quantity("V", default=0.5, doc="read voltage", validator=positive)
    read_pulse: float = quantity("s", default=10e-9, doc="read pulse width", validator=positive)
    write_voltage: float = quantity("V", default=2.0, doc="write (program) voltage", validator=positive)
    write_pulse: float = quantity("s", default=10e-9, doc="write pulse width", validator=positive)
    write_current: float = quantity("A", default=0.0, doc="current per cell during a write pulse",
                                    validator=non_negative)
    levels_ltp: int = attrs.field(default=2, validator=int_range(2), metadata={"doc": "LTP pulses over range"})
    levels_ltd: int = attrs.field(default=2, validator=int_range(2), metadata={"doc": "LTD pulses over range"})
    nonlinearity_ltp: float = quantity("1", default=0.0, doc="LTP non-linearity", validator=finite)
    nonlinearity_ltd: float = quantity("1", default=0.0, doc="LTD non-linearity", validator=finite)
    sigma_d2d: float = quantity("1", default=0.0, doc="device-to-device conductance variation (relative sigma, "
                                ">= 0; the inference `variation` effect)", validator=non_negative)
    nonlinearity_d2d: float = quantity("1", default=0.0, doc="device-to-device spread of the LTP/LTD non-linearity "
                                       "(sigma in NL label steps, >= 0; seed 001 sec. 8(3), NeuroSim d2dVari; "
                                       "training)", validator=non_negative)
    sigma_c2c: float = quantity("1", default=0.0, doc="cycle-to-cycle variation (relative sigma, >= 0)",
                                validator=non_negative)
    access_width: float | None = optional_quantity("1", "access transistor width in F")
    pulldown_width: float | None = _sram_width(
        SRAM_PULLDOWN_WIDTH, "SRAM cell pull-down NMOS width in F (NeuroSim widthSRAMCellNMOS; SRAM only)")
    pullup_width: float | None = _sram_width(
        SRAM_PULLUP_WIDTH, "SRAM cell pull-up PMOS width in F (NeuroSim widthSRAMCellPMOS; SRAM only)")
    source: str = ""

    def __attrs_post_init__(self) -> None:
        inverters = [n for n in ("pulldown_width", "pullup_width") if getattr(self, n) is not None]
        if self.family != "sram" and inverters:
            raise FieldError(f"cell {self.name}: {' and '.join(inverters)} size an SRAM cell's inverters "
                             f"(family sram); this cell's family is {self.family!r}")
        if (self.r_on is None) != (self.r_off is None):
            raise FieldError(f"cell {self.name}: give both r_on and r_off (a resistive cell) or neither")
        if self.r_on is not None and not self.r_on < self.r_off:
            raise FieldError(f"cell {self.name}: expected r_on < r_off (on = low resistance), "
                             f"got r_on {self.r_on:g} Ohm, r_off {self.r_off:g} Ohm")
        if (self.c_on is None) != (self.c_off is None):
            raise FieldError(f"cell {self.name}: give both c_on and c_off (a capacitive cell) or neither")
        if self.c_on is not None and not self.c_off < self.c_on:
            raise FieldError(f"cell {self.name}: expected c_off < c_on, got c_on {self.c_on:g} F, "
                             f"c_off {self.c_off:g} F")

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
