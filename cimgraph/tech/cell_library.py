"""Built-in memory-cell parameter sets, each with its source.

Sources:

* NeuroSim V1.4 Param.cpp (github neurosim/DNN_NeuroSim_V1.4, Inference_pytorch/NeuroSIM, default
  inference chip) for the eNVM cells ``rram.1t1r`` (4 F x 12 F) and ``rram.crossbar`` (2 F x 2 F):
  R_on = 100 kOhm, R_off = 1.7 MOhm (on/off 17), read voltage 0.55 V (the value Param.cpp sets for
  its 22 nm default node; 0.51 V at 45/32 nm), read pulse 10 ns, write voltage 2 V (so write level
  shifters are needed), access transistor R_access = IR_DROP_TOLERANCE x R_on = 25 kOhm.
  V1.4's inference Param.cpp gives no programming pulse: write pulse 60 ns and 128 LTP/LTD levels
  are the DNN+NeuroSim V2.0 manual's (seed 001, sec. 3); non-linearity +0.01/-0.01 from its
  wrapper defaults (train.py).
* DNN+NeuroSim V2.0 user manual (seed 001), sec. 3 "Param.cpp" defaults: SRAM cell 8 F x 20 F
  (160 F^2, the manual's suggestion above 22 nm) with access width 1.31 F and inverters of 2.08 F
  (pull-down NMOS) / 1.23 F (pull-up PMOS), the default of every SRAM cell (``cells.py``); the FeFET training example
  (sec. 3, Fig. 2): 32 levels, non-linearity 1.75/1.46, c2c 0.003 -- the FeFET of Jerry et al.,
  "Ferroelectric FET analog synapse for acceleration of deep neural network training", IEDM 2017.
* NeuroTorch manual (seed 000), sec. 2 "Memory Device Specifications": Flash, FeFET, ReRAM
  (Jo et al., Nano Lett. 2010), ReRAM2 ("A methodology to improve linearity of analog RRAM for
  neuromorphic computing", VLSI 2018) and IDEAL. Mapping to MemoryCell fields:
  height/width = MemHeight/MemWidth; r_on = VRead / ONCurrent; r_off = r_on * OnOffRatio;
  write_voltage = HighVoltage; write_current = WriteCurr; write_pulse = OnePulseLTP;
  levels = FullTime / OnePulse (LTP, LTD); read_pulse = ReadTimePerCycle; nonlinearity_d2d = Vari
  (NeuroSim's sigmaDtoD lineage: the d2d sigma of the update non-linearity in label steps, RealDevice;
  0.6 as a relative conductance spread would be 60 %).
  Their access is 'crossbar' where the manual gives an inhibition current (half-selected cells
  conduct during the parallel update) and for the 4 F^2 IDEAL cell.
* 8T SRAM: the decoupled read port (2 extra NMOS) adds ~30 % area over 6T: L. Chang et al.,
  "Stable SRAM cell design for the 32 nm node and beyond", VLSI Symp. 2005 -> 8 F x 26 F.

SRAM cells have no resistance; they read and write at the node's Vdd, so their read/write
voltages are the class defaults and must not be used by array models (use ``tech.vdd``).
"""
from __future__ import annotations

from ..hookspecs import hookimpl
from .cells import MemoryCell
from .nodes import make_technology

SEED_NEUROSIM = "DNN+NeuroSim V2.0 manual (seed 001) sec. 3 Param.cpp defaults"
SEED_NEUROSIM_V14 = "NeuroSim V1.4 Param.cpp default inference cell (neurosim/DNN_NeuroSim_V1.4)"
SEED_NEUROTORCH = "NeuroTorch manual (seed 000) sec. 2 Memory Device Specifications"

# NeuroSim V1.4 sizes the 1T1R access transistor for R_access = IR_DROP_TOLERANCE x R_on
# (Param.cpp resistanceAccess, constant.h IR_DROP_TOLERANCE = 0.25). cimgraph's array model takes
# the access device's resistance as r_eff / W, so W = r_eff / R_access, in F, at V1.4's default node
# (22 nm LSTP).
NEUROSIM_R_ON = 100e3  # Ohm
NEUROSIM_ACCESS_RESISTANCE = 0.25 * NEUROSIM_R_ON  # Ohm
NEUROSIM_DEFAULT_NODE = 22  # nm


def _neurosim_access_width() -> float:
    tech = make_technology(NEUROSIM_DEFAULT_NODE)
    return tech.r_eff_n / tech.feature_size / NEUROSIM_ACCESS_RESISTANCE


def _neurosim_rram(name: str, access: str, height: float, width: float, access_width: float | None) -> MemoryCell:
    return MemoryCell(
        name=name, family="rram", access=access, area_f2=height * width, width_f=width, height_f=height,
        r_on=NEUROSIM_R_ON, r_off=17 * NEUROSIM_R_ON, read_voltage=0.55, read_pulse=10e-9, write_voltage=2.0,
        write_pulse=60e-9, levels_ltp=128, levels_ltd=128, nonlinearity_ltp=0.01, nonlinearity_ltd=-0.01,
        access_width=access_width,
        source=f"{SEED_NEUROSIM_V14} ({access} cell {height:g} F x {width:g} F, R_on 100 kOhm, on/off 17, "
               f"V_read 0.55 V at 22 nm, V_write 2 V, R_access 0.25 R_on); write pulse and levels: {SEED_NEUROSIM}; "
               "NL from train.py defaults",
    )


def _neurotorch(name: str, family: str, access: str, *, height: float, width: float, on_current: float,
                on_off: float, read_voltage: float, write_voltage: float, write_current: float,
                pulse_ltp: float, pulse_ltd: float, time_ltp: float, time_ltd: float, nl_ltp: float,
                nl_ltd: float, variation: float, device: str) -> MemoryCell:
    r_on = read_voltage / on_current
    return MemoryCell(
        name=name, family=family, access=access, area_f2=height * width, width_f=width, height_f=height,
        r_on=r_on, r_off=r_on * on_off, read_voltage=read_voltage, read_pulse=5e-9,
        write_voltage=write_voltage, write_pulse=pulse_ltp, write_current=write_current,
        levels_ltp=round(time_ltp / pulse_ltp), levels_ltd=round(time_ltd / pulse_ltd),
        nonlinearity_ltp=nl_ltp, nonlinearity_ltd=nl_ltd, nonlinearity_d2d=variation,
        source=f"{SEED_NEUROTORCH}: {device} (LTD pulse {pulse_ltd:g} s)",
    )


def _neurotorch_cells() -> list[MemoryCell]:
    flash = dict(height=2, width=4, on_current=1e-8, on_off=10, read_voltage=1.0, write_voltage=9.0,
                 write_current=100e-15, pulse_ltp=1e-3, pulse_ltd=100e-6, time_ltp=100e-3,
                 time_ltd=200 * 100e-6, nl_ltp=0.0, nl_ltd=4.7, variation=0.6, device="Flash")
    fefet = dict(height=4, width=4, on_current=8.9e-8, on_off=45, read_voltage=0.05, write_voltage=3.7,
                 write_current=100e-15, pulse_ltp=75e-9, pulse_ltd=75e-9, time_ltp=32 * 75e-9,
                 time_ltd=32 * 75e-9, nl_ltp=-1.75, nl_ltd=1.46, variation=0.6,
                 device="FeFET (Jerry et al., IEDM 2017)")
    reram = dict(height=4, width=4, on_current=40e-9, on_off=12.5, read_voltage=2.0, write_voltage=3.2,
                 write_current=64e-9, pulse_ltp=300e-6, pulse_ltd=300e-6, time_ltp=300e-6 * 100,
                 time_ltd=300e-6 * 100, nl_ltp=2.4, nl_ltd=4.9, variation=0.6,
                 device="ReRAM (Jo et al., Nano Lett. 10(4), 2010)")
    reram2 = dict(height=2, width=4, on_current=40e-9, on_off=10, read_voltage=0.8, write_voltage=1.6,
                  write_current=16e-6, pulse_ltp=50e-9, pulse_ltd=50e-9, time_ltp=50e-9 * 128,
                  time_ltd=50e-9 * 128, nl_ltp=0.0, nl_ltd=0.63, variation=0.6,
                  device="ReRAM2 (analog RRAM with improved linearity, VLSI 2018)")
    ideal = dict(height=2, width=2, on_current=10e-9, on_off=10000, read_voltage=0.2, write_voltage=1.0,
                 write_current=100e-15, pulse_ltp=50e-6, pulse_ltd=50e-6, time_ltp=50e-6 * 100,
                 time_ltd=50e-6 * 100, nl_ltp=0.0, nl_ltd=0.0, variation=0.6, device="IDEAL")
    return [
        _neurotorch("neurotorch.flash", "flash", "flash", **flash),
        _neurotorch("neurotorch.fefet", "fefet", "fefet", **fefet),
        _neurotorch("neurotorch.reram", "rram", "crossbar", **reram),
        _neurotorch("neurotorch.reram2", "rram", "crossbar", **reram2),
        _neurotorch("neurotorch.ideal", "ideal", "crossbar", **ideal),
        # Generic names: the only flash data in the sources is NeuroTorch's; `ideal` is its IDEAL
        # device with the variation removed (an ideal device has none).
        _neurotorch("flash.nor", "flash", "flash", **flash),
        _neurotorch("ideal", "ideal", "crossbar", **{**ideal, "variation": 0.0}),
    ]


def _fefet() -> MemoryCell:
    """NeuroSim V2 FeFET: the eNVM cell layout of Param.cpp (4 F x 9 F, CMOS access) with the
    Jerry et al. device (seed 001 training example: 32 levels, NL 1.75/1.46, c2c 0.003;
    on-current 89 nA at 0.05 V, on/off 45, 3.7 V / 75 ns pulses as listed in seed 000)."""
    r_on = 0.05 / 8.9e-8
    return MemoryCell(
        name="fefet", family="fefet", access="fefet", area_f2=36, width_f=9, height_f=4,
        r_on=r_on, r_off=45 * r_on, read_voltage=0.05, read_pulse=10e-9, write_voltage=3.7,
        write_pulse=75e-9, levels_ltp=32, levels_ltd=32, nonlinearity_ltp=1.75, nonlinearity_ltd=1.46,
        sigma_c2c=0.003, source=f"{SEED_NEUROSIM} (4 F x 9 F) and sec. 3 Fig. 2 training example; "
        f"device: Jerry et al., IEDM 2017 as listed in {SEED_NEUROTORCH}",
    )


# The V2 manual's 6T cell: the synaptic sram.6t, the cell of SRAM buffers and tables (components/buffers.py),
# and the reference size of a FinFET node's bit cell (components/arrays.cell_pitch).
SRAM_6T = MemoryCell(name="sram.6t", family="sram", access="6t", area_f2=160, width_f=20, height_f=8,
                     access_width=1.31, source=f"{SEED_NEUROSIM}: SRAM 8 F x 20 F, access width 1.31 F, "
                     "pull-down 2.08 F, pull-up 1.23 F")


def library() -> list[MemoryCell]:
    """Every built-in memory cell."""
    return [
        SRAM_6T,
        MemoryCell(name="sram.8t", family="sram", access="8t", area_f2=208, width_f=26, height_f=8,
                   access_width=1.31, source=f"{SEED_NEUROSIM} 6T cell + 30 % for the read port "
                   "(Chang et al., VLSI Symp. 2005): 8 F x 26 F"),
        _neurosim_rram("rram.1t1r", "1t1r", 4, 12, _neurosim_access_width()),
        _neurosim_rram("rram.crossbar", "crossbar", 2, 2, None),
        _fefet(),
        *_neurotorch_cells(),
    ]


@hookimpl(trylast=True)
def cimgraph_register_memory_cells(registry) -> None:
    """Register the built-in cells (names in docs/technology.md)."""
    for cell in library():
        registry.add_memory_cell(cell)
