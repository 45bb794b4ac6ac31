"""Built-in CMOS technology nodes 130 nm ... 7 nm (registered as "130nm", ..., "7nm").

Sources (every number below comes from one of these; derivations are spelled out):

* Transistors -- PTM (Predictive Technology Model, ASU, http://ptm.asu.edu/) model cards as
  tabulated at 300 K in NeuroSim's ``Technology.cpp`` (DNN+NeuroSim V2.1 / V1.4): Vdd, Vth,
  ideal-gate and fringe capacitance per width, NMOS/PMOS on- and off-current per width, and the
  CACTI effective-resistance multiplier. 130-22 nm are planar bulk PTM cards, 14/10/7 nm the PTM
  multi-gate (FinFET) cards. ``"<n>nm"`` is the LSTP (low standby power) roadmap -- NeuroSim's
  default (``deviceroadmap = 2`` in Param.cpp); ``"<n>nm.hp"`` is the high-performance roadmap.
* Derived device quantities, as NeuroSim/CACTI compute them:
  ``c_gate = C_ideal * (1 + 0.2) + C_fringe`` (overlap = 0.2 C_ideal for planar nodes; FinFET
  cards include overlap and fringe in C_ideal); ``r_eff = k_R * Vdd / I_on`` with k_R the CACTI
  multiplier; ``c_junction = C_j * L_d + C_jsw + C_jswg`` per width with the BSIM4 parameters of
  Technology.cpp (C_j0 = 1e-3 F/m^2, C_jsw0 = 2.5e-10 F/m, C_jswg0 = 0.5e-10 F/m, grading 0.5 /
  0.33 / 0.33, built-in potential 0.9 V, all reduced at a reverse bias of Vdd) and drain length
  L_d = 2.8 F (NeuroSim constant.h MIN_GAP_BET_GATE_POLY).
* FinFET width convention: for 14/10/7 nm every per-width quantity is per *effective* width
  W_eff = n_fin * (2 H_fin + W_fin), as in NeuroSim (fin geometry in ``FIN_GEOMETRY``). The drain
  junction terms are scaled by P_fin / (2 H_fin + W_fin) to express them per effective width.
* Local wires (M0/M1) -- width per node from NeuroSim V1.4 Param.cpp (130 nm: 175 nm ... 7 nm:
  20 nm), pitch = 2 x width; aspect ratio and size-effect copper resistivity from the ITRS
  interconnect tables as tabulated in NeuroSim V1.4 Param.cpp, barrier-corrected
  ``rho_eff = rho / (1 - (2 AR w + w) t_b / (AR w^2))``; ``r = rho_eff / (w * AR w)``.
* Global wires -- CACTI 6.5 technology.cc "conservative" global layer: pitch 8 F, width 4 F,
  aspect ratio 2.2; resistivity from the same ITRS size-effect table at that width.
* Wire capacitance -- CACTI 6.5 parallel-plate + sidewall + fringe model:
  ``c = 2 e0 k_v w / h_ild + 2 e0 M k_h t / s + c_fringe`` with k_v = 3.9, Miller factor M = 1.5,
  c_fringe = 0.115 fF/um, and the CACTI "conservative" horizontal dielectric constants
  (90: 3.038, 65: 2.734, 45: 2.46, 32: 2.214). 130 nm uses 3.3 (midpoint of the ITRS 2001 k_eff
  range 3.0-3.6); below 32 nm k_h is held at 2.214 (ITRS 2013: bulk low-k scaling stalled). ILD
  thickness is 6.3 F (local) and 12 F (global), the mean ratios of CACTI's 90-32 nm tables.

Correction: NeuroSim lists the 90 nm LSTP ideal gate capacitance as 1.5413e-10 F/m, a tenth of
its neighbours (130 nm: 1.86e-9, 65 nm: 1.19e-9); we use 1.5413e-9 F/m (exponent typo). The 10 nm
HP PMOS off-current is likewise corrected (see ``HP_10NM_I_OFF_P``).

Validity: 300 K, nominal Vdd; currents are saturation currents of minimum-length devices.
"""
from __future__ import annotations

from typing import NamedTuple

from ..hookspecs import hookimpl
from .technology import Technology, WireLayer

EPSILON_0 = 8.854187817e-12  # F/m, vacuum permittivity
TEMPERATURE = 300.0  # K, the PTM tables' temperature

# NeuroSim lists the 10 nm HP PMOS off-current at 300 K as 1.6268e-3 uA/um, against 157.85e-3 at
# 310 K and 245.27e-3 at 320 K (and ~98e-3 for the 14/7 nm cards): a typo. We extrapolate the
# table's own geometric temperature progression back to 300 K: I(310)^2 / I(320).
HP_10NM_I_OFF_P = 157.8505e-3 ** 2 / 245.2725e-3  # A/m (~0.1016)


# PTM device table (NeuroSim Technology.cpp, index 0 = 300 K). Currents in uA/um == A/m.
class _Device(NamedTuple):
    vdd: float  # V
    vth: float  # V
    cap_ideal: float  # F/m
    cap_fringe: float  # F/m
    r_multiplier: float  # CACTI effective-resistance multiplier
    i_on_n: float  # A/m
    i_on_p: float  # A/m
    i_off_n: float  # A/m
    i_off_p: float  # A/m


LSTP = {
    130: _Device(1.3, 0.4660949, 1.8574e-9, 9.530642e-10, 1.54, 300.70, 150.70, 100.20e-6, 100.20e-6),
    90: _Device(1.2, 0.5013229, 1.5413e-9, 9.601334e-10, 1.77, 346.30, 200.30, 100.00e-6, 100.30e-6),
    65: _Device(1.1, 0.5016636, 1.1926e-9, 9.62148e-10, 1.77, 400.00, 238.70, 100.20e-6, 100.20e-6),
    45: _Device(1.0, 0.4643718, 8.930709e-10, 8.849901e-10, 1.77, 500.20, 300.00, 100.00e-6, 100.20e-6),
    32: _Device(0.9, 0.442034, 8.375279e-10, 6.856677e-10, 1.77, 600.20, 400.00, 100.10e-6, 100.10e-6),
    22: _Device(0.85, 0.419915, 5.245e-10, 8.004e-10, 1.77, 791.90, 600.20, 100.00e-6, 100.00e-6),
    14: _Device(0.8, 0.3821222, 1.0572e-9, 0.0, 1.76, 893.0, 820.0, 99.7866e-6, 102.3333e-6),
    10: _Device(0.75, 0.3905541, 9.418984e-10, 0.0, 1.73, 862.0, 775.0, 99.6973e-6, 100.5839e-6),
    7: _Device(0.7, 0.4025252, 8.49489e-10, 0.0, 1.73, 822.0, 737.0, 100.0e-6, 100.9536e-6),
}

HP = {
    130: _Device(1.3, 0.1284855, 6.058401e-10, 6.119807e-10, 1.54, 930.0, 430.0, 100.00e-3, 100.20e-3),
    90: _Device(1.2, 0.1460217, 5.694423e-10, 5.652302e-10, 1.54, 1070.0, 540.0, 100.8e-3, 100.00e-3),
    65: _Device(1.1, 0.1663941, 4.868295e-10, 5.270361e-10, 1.54, 1120.0, 700.0, 100.00e-3, 100.10e-3),
    45: _Device(1.0, 0.1710969, 4.091305e-10, 4.957928e-10, 1.54, 1270.0, 1080.0, 100.00e-3, 100.20e-3),
    32: _Device(0.9, 0.1944951, 3.767721e-10, 4.713762e-10, 1.54, 1410.0, 1220.0, 100.30e-3, 100.10e-3),
    22: _Device(0.85, 0.2089006, 3.287e-10, 4.532e-10, 1.54, 1500.0, 1320.0, 100.20e-3, 100.20e-3),
    14: _Device(0.8, 0.1729868, 1.2573e-9, 0.0, 1.51, 1686.0, 1550.0, 100.9152e-3, 98.6503e-3),
    10: _Device(0.75, 0.1828605, 1.1418e-9, 0.0, 1.49, 1769.0, 1626.0, 100.1203e-3, HP_10NM_I_OFF_P),
    7: _Device(0.7, 0.1922339, 1.0487e-9, 0.0, 1.45, 1912.0, 1685.0, 100.2258e-3, 97.9484e-3),
}


class FinGeometry(NamedTuple):
    """PTM multi-gate fin geometry (NeuroSim Technology.cpp): height, width, pitch (m)."""

    height: float
    width: float
    pitch: float

    @property
    def effective_width(self) -> float:
        """Electrical width of one fin, 2 H_fin + W_fin (m)."""
        return 2 * self.height + self.width


FIN_GEOMETRY = {
    14: FinGeometry(23e-9, 10e-9, 32e-9),
    10: FinGeometry(21e-9, 9e-9, 28e-9),
    7: FinGeometry(18e-9, 7e-9, 22e-9),
}


class CellGrid(NamedTuple):
    """Standard-cell grid of a FinFET node (NeuroSim V1.4 constant.h / Technology.cpp / Param.cpp): most
    fins per transistor in one cell, contacted poly pitch and cell height in F, and the high-density 6T
    SRAM bit cell, height x width in F (14 nm: Samsung, 0.064 um^2; 10 / 7 nm: TSMC, 0.040 / 0.027 um^2)."""

    fins: int
    gate_pitch_f: float
    cell_height_f: float
    sram_height_f: float
    sram_width_f: float


CELL_GRID = {14: CellGrid(4, 5.571, 41.142, 10.6, 30.8), 10: CellGrid(3, 6.4, 33.0, 12.8, 31.25),
             7: CellGrid(2, 8.1428, 34.285, 16.0, 34.43)}

# BSIM4 junction parameters used by NeuroSim Technology.cpp.
JUNCTION_BOTTOM = 1e-3  # F/m^2
JUNCTION_SIDEWALL = 2.5e-10  # F/m, isolation edge
JUNCTION_GATE_EDGE = 0.5e-10  # F/m
GRADING_BOTTOM, GRADING_SIDEWALL = 0.5, 0.33
BUILT_IN_POTENTIAL = 0.9  # V
DRAIN_LENGTH_F = 2.8  # drain diffusion length in F (NeuroSim constant.h MIN_GAP_BET_GATE_POLY)
OVERLAP_FRACTION = 0.2  # planar overlap capacitance / ideal gate capacitance (NeuroSim, CACTI)

# Local wire width (m) and barrier thickness (m) per node: NeuroSim V1.4 Param.cpp.
LOCAL_WIRE = {
    130: (175e-9, 10e-9), 90: (110e-9, 10e-9), 65: (105e-9, 7e-9), 45: (80e-9, 5e-9), 32: (56e-9, 4e-9),
    22: (40e-9, 2.5e-9), 14: (32e-9, 2.5e-9), 10: (22e-9, 2e-9), 7: (20e-9, 2e-9),
}

# ITRS size-effect copper resistivity and aspect ratio by wire width (NeuroSim V1.4 Param.cpp):
# (minimum width in m, aspect ratio, resistivity in Ohm*m), widest first.
ITRS_RESISTIVITY = (
    (175e-9, 1.6, 2.01e-8), (110e-9, 1.6, 2.20e-8), (105e-9, 1.7, 2.21e-8), (80e-9, 1.7, 2.37e-8),
    (56e-9, 1.8, 2.63e-8), (40e-9, 1.9, 2.97e-8), (32e-9, 2.0, 3.25e-8), (22e-9, 2.0, 3.95e-8),
    (20e-9, 2.0, 4.17e-8), (15e-9, 2.0, 4.98e-8), (12e-9, 2.0, 5.80e-8), (10e-9, 2.0, 6.61e-8),
)

# CACTI 6.5 wire capacitance model parameters ("conservative" projections).
HORIZONTAL_K = {130: 3.3, 90: 3.038, 65: 2.734, 45: 2.46, 32: 2.214, 22: 2.214, 14: 2.214, 10: 2.214, 7: 2.214}
VERTICAL_K = 3.9
MILLER = 1.5
FRINGE = 0.115e-15 / 1e-6  # F/m
ILD_LOCAL_F, ILD_GLOBAL_F = 6.3, 12.0
GLOBAL_PITCH_F, GLOBAL_ASPECT_RATIO = 8.0, 2.2

NODES = (130, 90, 65, 45, 32, 22, 14, 10, 7)

SOURCE = ("PTM (ptm.asu.edu) {roadmap} model cards at 300 K as tabulated in NeuroSim Technology.cpp "
          "(DNN+NeuroSim V2.1); junction C from its BSIM4 parameters; local wires: NeuroSim V1.4 Param.cpp "
          "widths with ITRS size-effect resistivity; global wires and wire C: CACTI 6.5 technology.cc "
          "(conservative projections); see cimgraph.tech.nodes")


def itrs_resistivity(width: float) -> tuple[float, float]:
    """(aspect ratio, resistivity in Ohm*m) of a copper wire of ``width`` (m), ITRS size effects."""
    for minimum, aspect_ratio, rho in ITRS_RESISTIVITY:
        if width >= minimum * (1 - 1e-9):
            return aspect_ratio, rho
    raise ValueError(f"wire width {width:.3g} m is below the ITRS table (>= 10 nm)")


def wire_resistance(width: float, aspect_ratio: float, rho: float, barrier: float) -> float:
    """Resistance per length (Ohm/m) of a barrier-lined wire: rho_eff / (w * AR w)."""
    thickness = aspect_ratio * width
    rho_eff = rho / (1 - (2 * thickness + width) * barrier / (thickness * width))
    return rho_eff / (width * thickness)


def wire_capacitance(width: float, thickness: float, spacing: float, ild: float, k_horizontal: float) -> float:
    """Capacitance per length (F/m), CACTI 6.5: plates to the layers above/below + both neighbours + fringe."""
    vertical = 2 * EPSILON_0 * VERTICAL_K * width / ild
    sidewall = 2 * EPSILON_0 * MILLER * k_horizontal * thickness / spacing
    return vertical + sidewall + FRINGE


def _wires(node: int) -> tuple[WireLayer, WireLayer]:
    feature = node * 1e-9
    k_h = HORIZONTAL_K[node]
    width, barrier = LOCAL_WIRE[node]
    ar, rho = itrs_resistivity(width)
    local = WireLayer(
        pitch=2 * width,
        r=wire_resistance(width, ar, rho, barrier),
        c=wire_capacitance(width, ar * width, width, ILD_LOCAL_F * feature, k_h),
    )
    g_width = GLOBAL_PITCH_F * feature / 2
    _, g_rho = itrs_resistivity(g_width)
    glob = WireLayer(
        pitch=GLOBAL_PITCH_F * feature,
        r=wire_resistance(g_width, GLOBAL_ASPECT_RATIO, g_rho, barrier),
        c=wire_capacitance(g_width, GLOBAL_ASPECT_RATIO * g_width, g_width, ILD_GLOBAL_F * feature, k_h),
    )
    return local, glob


def _junction(node: int, vdd: float) -> float:
    """Drain junction capacitance per width (F/m) at a reverse bias of Vdd."""
    feature = node * 1e-9
    bottom = JUNCTION_BOTTOM / (1 + vdd / BUILT_IN_POTENTIAL) ** GRADING_BOTTOM
    sidewall = JUNCTION_SIDEWALL / (1 + vdd / BUILT_IN_POTENTIAL) ** GRADING_SIDEWALL
    gate_edge = JUNCTION_GATE_EDGE / (1 + vdd / BUILT_IN_POTENTIAL) ** GRADING_SIDEWALL
    per_width = bottom * DRAIN_LENGTH_F * feature + sidewall + gate_edge
    fin = FIN_GEOMETRY.get(node)
    if fin is not None:
        per_width *= fin.pitch / fin.effective_width
    return per_width


def make_technology(node: int, roadmap: str = "lstp") -> Technology:
    """Build the Technology of ``node`` (nm) for the "lstp" or "hp" PTM roadmap."""
    table = {"lstp": LSTP, "hp": HP}.get(roadmap)
    if table is None or node not in table:
        raise ValueError(f"no PTM data for node {node!r} nm, roadmap {roadmap!r}; "
                         f"nodes {NODES}, roadmaps 'lstp', 'hp'")
    d = table[node]
    overlap = 0.0 if node in FIN_GEOMETRY else OVERLAP_FRACTION * d.cap_ideal
    local, glob = _wires(node)
    return Technology(
        name=f"{node}nm" if roadmap == "lstp" else f"{node}nm.{roadmap}",
        feature_size=node * 1e-9,
        vdd=d.vdd,
        vth=d.vth,
        temperature=TEMPERATURE,
        i_on_n=d.i_on_n,
        i_on_p=d.i_on_p,
        i_off_n=d.i_off_n,
        i_off_p=d.i_off_p,
        c_gate=d.cap_ideal + overlap + d.cap_fringe,
        c_junction=_junction(node, d.vdd),
        r_eff_n=d.r_multiplier * d.vdd / d.i_on_n,
        r_eff_p=d.r_multiplier * d.vdd / d.i_on_p,
        wire_local=local,
        wire_global=glob,
        source=SOURCE.format(roadmap=roadmap.upper()),
        device="finfet" if node in FIN_GEOMETRY else "planar",
        **_device_grid(node),
    )


def _device_grid(node: int) -> dict:
    """Fin width and cell grid of a FinFET node (no keys for planar nodes: continuous widths)."""
    if node not in FIN_GEOMETRY:
        return {}
    grid, f = CELL_GRID[node], node * 1e-9
    return {"fin_width": FIN_GEOMETRY[node].effective_width, "fins_per_device": grid.fins,
            "gate_pitch": grid.gate_pitch_f * f, "cell_height": grid.cell_height_f * f,
            "sram_cell_width": grid.sram_width_f * f, "sram_cell_height": grid.sram_height_f * f}


TECHNOLOGIES = {t.name: t for t in (make_technology(n, r) for r in ("lstp", "hp") for n in NODES)}


@hookimpl(trylast=True)
def cimgraph_register_technologies(registry) -> None:
    """Register every built-in node: "<n>nm" (LSTP, NeuroSim default) and "<n>nm.hp", and the
    advanced LSTP nodes 5/3/2/1 nm of :mod:`cimgraph.tech.advanced_nodes`."""
    from .advanced_nodes import ADVANCED_TECHNOLOGIES

    for tech in (*TECHNOLOGIES.values(), *ADVANCED_TECHNOLOGIES.values()):
        registry.add_technology(tech)


__all__ = ["TECHNOLOGIES", "NODES", "FIN_GEOMETRY", "CELL_GRID", "make_technology", "itrs_resistivity",
           "wire_resistance", "wire_capacitance"]
