"""Technology nodes below 7 nm: 5 and 3 nm FinFET, 2 and 1 nm gate-all-around nanosheet (LSTP only).

Source: DNN+NeuroSim V1.4 (J. Lee, A. Lu, W. Li, S. Yu, "NeuroSim V1.4: Extending Technology Support for
Digital Compute-in-Memory Toward 1nm Node", IEEE TCAS-I 2024), whose device tables (as carried on in
NeuroSim's Technology.cpp, e.g. the NS-Cache release) follow the IRDS More Moore roadmap (IRDS 2021 for
5 nm, IRDS 2022 for 3/2/1 nm) with TCAD-calibrated devices at 300 K:

* Vdd: 0.7 / 0.7 / 0.65 / 0.6 V.
* Device geometry: 5 nm fin 6 nm wide, fin pitch 28 nm, L_g 20 nm, 106 nm effective width per fin;
  3 nm fin 5 nm, pitch 24 nm, L_g 18 nm, 101 nm per fin; 2 nm three stacked sheets 15 x 6 nm
  (2 (w + t) = 42 nm each), L_g 14 nm; 1 nm four sheets 10 x 6 nm (32 nm each), L_g 12 nm.
* Per device (one fin, one nanosheet stack): TCAD gate capacitance, total drain capacitance, NMOS on- and
  off-current per effective width, the CACTI-style effective-resistance multiplier and the
  transconductance g_m. V1.4 uses the same on-current for PMOS (pnSizeRatio 1) and the 7 nm PMOS
  off-current for every node below 7 nm.

How the Technology fields follow (cimgraph's per-width convention, the same as the PTM FinFET nodes of
``nodes.py``: every per-width quantity is per *effective* width):

* ``c_gate`` = device gate capacitance / device effective width (fins: one fin; GAA: all sheets), no
  extra overlap or fringe (the TCAD value includes them); ``c_junction`` = device drain capacitance /
  the same effective width.
* ``r_eff`` = multiplier x Vdd / I_on, as for the other nodes.
* ``vth``: V1.4 leaves Vth as a dummy (it uses g_m directly). We take the square-law-equivalent
  threshold Vth = Vdd - 2 I_on / g_m, so that the Horowitz beta of ``digital.transconductance_beta``,
  (Vdd - Vth) / (2 I_on r_eff) = 1 / (g_m r_eff), is V1.4's own g_m.
* Wires: local width = half the IRDS M0 pitch (IRDS 2020/2022: 28, 24, 20 nm for 5/3/2 nm; the 1 nm
  node is held at 20 nm, the 10 nm width where the ITRS size-effect resistivity table of ``nodes.py``
  ends), barrier 2 nm (as 7 nm); global wires keep CACTI's 8F pitch until 4F reaches that 10 nm floor.
  Wire capacitance uses the CACTI model of ``nodes.py`` with the ILD held at 6.3 / 12 x the 7 nm F
  (ILD thickness does not shrink with the node name below 7 nm).

Device grid (V1.4 Technology.cpp / constant.h after IRDS 2021/2022): a transistor is a whole number of
these devices (``fin_width`` = the device's effective width), at most 2 fins (5, 3 nm) or 1 stack (2, 1 nm)
per transistor of a standard cell; contacted poly pitch 51 / 48 / 45 / 40 nm; cell height 180 / 144 /
114 / 80 nm (``cimgraph.components.circuit`` sizes and lays out gates on this grid); 6T SRAM bit cell
(V1.4 Param.cpp, IRDS) 96 x 219, 90 x 205, 84 x 240, 80 x 144 nm (0.021, 0.018, 0.020, 0.012 um^2).

Device types: IRDS and V1.4 keep FinFET through 3 nm and move to stacked nanosheets (GAA) at 2 nm; V1.4
models 1 nm as a four-sheet nanosheet too, so no forksheet or CFET node is offered (their IRDS device
numbers are not in the source). Validity: 300 K, LSTP-like library, nominal Vdd; HP roadmap not given
below 7 nm (as in V1.4).
"""
from __future__ import annotations

from typing import NamedTuple

from .nodes import (HORIZONTAL_K, ILD_GLOBAL_F, ILD_LOCAL_F, itrs_resistivity, wire_capacitance,
                    wire_resistance)
from .technology import Technology, WireLayer

TEMPERATURE = 300.0
ITRS_FLOOR = 10e-9      # narrowest wire of the ITRS size-effect table (m)
BARRIER = 2e-9          # m, as the 7 nm node
ILD_REFERENCE_F = 7e-9  # ILD thicknesses held at the 7 nm node's


class _Device(NamedTuple):
    device: str
    stack: str            # what one device is
    vdd: float            # V
    gate_cap: float       # F per device (one fin / one nanosheet stack)
    drain_cap: float      # F per device
    effective_width: float  # m, the device's whole effective width
    i_on: float           # A/m of effective width (N and P)
    i_off_n: float        # A/m
    multiplier: float     # effective-resistance multiplier
    gm: float             # S/m of effective width
    m0_pitch: float       # m, IRDS M0 pitch
    fins: int             # most fins / stacks per transistor of a standard cell (V1.4 max_fin_num)
    gate_pitch_f: float   # contacted poly pitch in F (V1.4 constant.h CPP_<n>nm, IRDS)
    cell_height_f: float  # standard-cell height in F (V1.4 constant.h MAX_TRANSISTOR_HEIGHT_<n>nm, IRDS)
    sram_f: tuple         # 6T SRAM bit cell height x width in F (V1.4 Param.cpp, IRDS)


I_OFF_P = 100.9536e-6  # A/m: V1.4 uses the 7 nm PMOS off-current below 7 nm

DEVICES = {
    5: _Device("finfet", "one fin", 0.7, 81.859e-18, 2.076e-17, 106e-9, 578.494, 1.38e-4, 2.10, 1820.90, 28e-9,
                 2, 10.2, 36.0, (19.2, 43.75)),
    3: _Device("finfet", "one fin", 0.7, 72.572e-18, 1.791e-17, 101e-9, 641.463, 1.58e-4, 2.14, 2018.04, 24e-9,
                 2, 16.0, 48.0, (30.0, 68.26)),
    2: _Device("gaa-nanosheet", "3 sheets", 0.65, 79.74e-18, 1.543e-17, 3 * 42e-9, 526.868, 7.33e-5, 1.98, 1968.85, 20e-9,
                 1, 22.5, 57.0, (42.0, 120.0)),
    1: _Device("gaa-nanosheet", "4 sheets", 0.6, 66.94e-18, 1.409e-17, 4 * 32e-9, 460.979, 1.69e-4, 2.05, 2401.75, 20e-9,
                 1, 40.0, 80.0, (80.0, 144.0)),
}
ADVANCED_NODES = tuple(DEVICES)

SOURCE = ("NeuroSim V1.4 (TCAS-I 2024) device tables after IRDS 2021/2022 More Moore ({device}, "
          "{sheets}); Vth = Vdd - 2 I_on / g_m; wires: IRDS M0 pitch with ITRS size-effect resistivity and "
          "the CACTI C model; see cimgraph.tech.advanced_nodes")


def _wires(node: int, m0_pitch: float) -> tuple[WireLayer, WireLayer]:
    k_h = HORIZONTAL_K[7]
    width = m0_pitch / 2
    ar, rho = itrs_resistivity(width)
    local = WireLayer(pitch=m0_pitch, r=wire_resistance(width, ar, rho, BARRIER),
                      c=wire_capacitance(width, ar * width, width, ILD_LOCAL_F * ILD_REFERENCE_F, k_h))
    g_width = max(4 * node * 1e-9, ITRS_FLOOR)
    g_ar = 2.2
    _, g_rho = itrs_resistivity(g_width)
    glob = WireLayer(pitch=2 * g_width, r=wire_resistance(g_width, g_ar, g_rho, BARRIER),
                     c=wire_capacitance(g_width, g_ar * g_width, g_width, ILD_GLOBAL_F * ILD_REFERENCE_F, k_h))
    return local, glob


def make_advanced(node: int) -> Technology:
    """The Technology of an advanced node (5, 3, 2 or 1 nm; LSTP)."""
    if node not in DEVICES:
        raise ValueError(f"no advanced-node data for {node!r} nm; nodes {ADVANCED_NODES}")
    d = DEVICES[node]
    local, glob = _wires(node, d.m0_pitch)
    r_eff = d.multiplier * d.vdd / d.i_on
    return Technology(
        name=f"{node}nm", feature_size=node * 1e-9, vdd=d.vdd, vth=d.vdd - 2 * d.i_on / d.gm,
        temperature=TEMPERATURE, i_on_n=d.i_on, i_on_p=d.i_on, i_off_n=d.i_off_n, i_off_p=I_OFF_P,
        c_gate=d.gate_cap / d.effective_width, c_junction=d.drain_cap / d.effective_width,
        r_eff_n=r_eff, r_eff_p=r_eff, wire_local=local, wire_global=glob,
        source=SOURCE.format(device=d.device, sheets=d.stack), device=d.device,
        fin_width=d.effective_width, fins_per_device=d.fins, gate_pitch=d.gate_pitch_f * node * 1e-9,
        cell_height=d.cell_height_f * node * 1e-9, sram_cell_height=d.sram_f[0] * node * 1e-9,
        sram_cell_width=d.sram_f[1] * node * 1e-9)


ADVANCED_TECHNOLOGIES = {t.name: t for t in (make_advanced(n) for n in ADVANCED_NODES)}
