"""nvCap memory cells: ferroelectric (HZO) capacitors whose small-signal capacitance at 0 V
stores the weight and is read without disturbing the polarisation.

Sources:

* Device concept and capacitive crossbar: Y.-C. Luo, J. Hur, Z. Wang, W. Shim, A. Khan and S. Yu,
  "Experimental demonstration of non-volatile capacitive crossbar array for in-memory computing",
  IEDM 2021; system framework: Y.-C. Luo, J. Read, A. Lu and S. Yu, "A cross-layer framework for
  design space and variation analysis of non-volatile ferroelectric capacitor-based compute-in-memory
  accelerators", ASP-DAC 2024 (reference 2 of the NeuroSim V1.5 README, seed 003).
* On/off capacitance: seed 003 "Running Examples", example 2 (``--mem_type capacitive
  --off_state 1e-15 --on_state 1e-14``): C_off = 1 fF, C_on = 10 fF (on/off ratio 10).
* Read window: seed 003, nvCap section, ``chargeDelay = 5e-9`` -> read_pulse = 5 ns.
* Geometry: a selector-less cross point (capacitors pass no DC current, so there is no sneak
  path and no access transistor), with the capacitor stacked in the BEOL over the 2 F x 2 F
  crossbar pitch of seed 001 (NeuroSim crossbar cell, sec. 3).
* Programming: HZO polarisation switching at the FeFET programming condition of the built-in
  ``fefet`` cell (3.7 V, 75 ns; Jerry et al., IEDM 2017, as listed in seed 000) -- an assumption
  (the same ferroelectric film), flagged in the cell's source string.
Read voltage: the NeuroSim default 0.5 V, a small signal below the coercive voltage.
"""
from __future__ import annotations

from cimgraph.tech.cells import MemoryCell

SOURCE = ("Luo et al., IEDM 2021 (nvCap capacitive crossbar); Luo, Read, Lu & Yu, ASP-DAC 2024; "
          "C_on/C_off = 10 fF / 1 fF and chargeDelay 5 ns from the NeuroSim V1.5 README (seed 003); "
          "2F x 2F crossbar pitch (seed 001); write 3.7 V / 75 ns assumed from the HZO FeFET (seed 000)")


def nvcap_cells() -> list[MemoryCell]:
    """The plugin's cell (binary; a netlist may set ``bits_per_cell``, c_on, c_off over it)."""
    return [
        MemoryCell(name="nvcap.crossbar", family="nvcap", access="crossbar", area_f2=4, width_f=2,
                   height_f=2, bits_per_cell=1, c_on=10e-15, c_off=1e-15, read_voltage=0.5,
                   read_pulse=5e-9, write_voltage=3.7, write_pulse=75e-9, source=SOURCE),
    ]
