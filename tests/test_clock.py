"""`clock: auto`: the clock period is the chip's slowest read-out conversion step (cimgraph/netlist/clock.py)."""
from __future__ import annotations

import copy

import attrs
import pytest

import cimgraph
from cimgraph.components.digital import clocked
from cimgraph.errors import NetlistError
from cimgraph.schedule.evaluate import _synchronous_step
from cimgraph.testing import tiny_netlist

SUB = "chip/tile/pe/subarray"


def auto(**changes) -> dict:
    raw = tiny_netlist()
    raw.update({"clock": "auto", **changes})
    return raw


def test_auto_clock_is_the_slowest_conversion_step_by_hand():
    """Period = column mux select + its decoder + ADC conversion, the per-conversion path of the read-out; the
    WL decoder and switch act once per input bit and the shift-adder is pipelined behind the step, so neither is
    in it. Every clocked block is built with the derived clock."""
    chip = cimgraph.load_netlist(auto())
    step = (chip.model(f"{SUB}/mux").select().latency + chip.model(f"{SUB}/mux_decoder").decode().latency
            + chip.model(f"{SUB}/adc").convert().latency)
    assert chip.spec.clock_auto and chip.spec.clock == pytest.approx(1 / step, rel=1e-12)
    for path in (f"{SUB}/shift_add", "chip/tile/pe/accumulation", "chip/accumulation", "chip/relu"):
        assert chip.model(path).clock == chip.spec.clock
    # the shift-adder takes whole cycles of it; with the clock the step itself takes exactly one
    shift_add = chip.model(f"{SUB}/shift_add")
    path_delay = attrs.evolve(shift_add, clock=None).accumulate().latency
    assert shift_add.accumulate().latency == pytest.approx(clocked(path_delay, chip.spec.clock))
    synchronous = cimgraph.load_netlist(auto(synchronous=True))
    assert _synchronous_step(synchronous, step)[1] == pytest.approx(0.0, abs=1e-18)


def test_auto_clock_follows_the_technology_node():
    """Slower transistors, slower read-out: the derived period grows from 22 to 32 to 45 nm."""
    periods = [1 / cimgraph.load_netlist(auto(technology=node)).spec.clock for node in ("22nm", "32nm", "45nm")]
    assert periods[0] < periods[1] < periods[2]


def test_auto_clock_is_chip_wide_over_tile_designs():
    """A hybrid chip has one clock tree: the slowest design's conversion step sets it for every design, and the
    faster design's steps round up to whole cycles."""
    raw = auto(synchronous=True)
    design = {"runs": ["conv", "fc"], "schemes": ["conventional"], "tile": copy.deepcopy(raw["chip"]["tile"])}
    design["tile"]["pe"]["subarray"]["adc"]["bits"] = 8           # a slower (finer) ADC on the second design
    raw["designs"] = {"fine": design}
    chip = cimgraph.load_netlist(raw)
    fine = chip.designs["fine"]
    alone = {k: v for k, v in raw.items() if k != "designs"}
    own = {"chip": cimgraph.load_netlist(alone),
           "fine": cimgraph.load_netlist({**alone, "chip": {**raw["chip"], "tile": design["tile"]}})}
    steps = {name: 1 / c.spec.clock for name, c in own.items()}
    assert steps["fine"] > steps["chip"]
    assert chip.spec.clock == pytest.approx(1 / steps["fine"], rel=1e-12) and fine.spec.clock == chip.spec.clock
    assert _synchronous_step(fine, steps["fine"])[1] == pytest.approx(0.0, abs=1e-18)
    wait = _synchronous_step(chip, steps["chip"])[1]
    assert wait == pytest.approx(steps["fine"] - steps["chip"], rel=1e-9) and wait > 0


def test_auto_clock_survives_a_rebuild_with_counts():
    chip = cimgraph.load_netlist(auto())
    assert chip.with_counts(tiles=3).spec.clock == pytest.approx(chip.spec.clock, rel=1e-12)


@pytest.mark.parametrize("value, message", [
    ("Auto", r"\$\.clock: expected a frequency .* or 'auto' .*did you mean 'auto'\?.*got 'Auto'"),
    ("fast", r"\$\.clock: expected a frequency above 0 and at most 100 GHz such as '1GHz', or 'auto'"),
    (True, r"\$\.clock: expected a frequency"),
    ("0Hz", r"\$\.clock: expected a frequency"),
])
def test_bad_clock_values_name_the_key(value, message):
    with pytest.raises(NetlistError, match=message):
        cimgraph.load_netlist(auto(clock=value))


def test_auto_clock_needs_a_readout():
    """A digital-CIM subarray has no conversion step to derive a clock from: a clear error at $.clock."""
    raw = auto(cell="sram.6t")
    raw["chip"]["tile"]["pe"]["subarray"] = {"kind": "array.dcim", "rows": 128, "columns": 128,
                                             "wl_decoder": {"kind": "decoder.wl"}}
    with pytest.raises(NetlistError, match=r"\$\.clock: 'auto' derives the clock from the subarray read-out"):
        cimgraph.load_netlist(raw)
    raw["clock"] = "1GHz"
    assert cimgraph.load_netlist(raw).spec.clock == 1e9


def test_auto_clock_reports_other_problems_at_once():
    """A broken subarray is reported with its key path, together with the rest, not as a clock problem."""
    raw = auto()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["bits"] = "six"
    raw["chip"]["buffer"]["width"] = "wide"
    with pytest.raises(NetlistError) as info:
        cimgraph.load_netlist(raw)
    text = str(info.value)
    assert "$.chip.buffer.width" in text and "$.chip.tile.pe.subarray.adc.bits" in text and "$.clock" not in text


def test_clock_margin_scales_the_derived_period():
    """``clock: {auto: true, margin: m}``: period = m x the slowest conversion step (NeuroSim's beta = 1.4, a
    post-layout calibration); ``{auto: true}`` alone is ``auto``."""
    plain = cimgraph.load_netlist(auto())
    margined = cimgraph.load_netlist(auto(clock={"auto": True, "margin": 1.4}))
    assert margined.spec.clock_auto and margined.spec.clock_margin == 1.4
    assert 1 / margined.spec.clock == pytest.approx(1.4 / plain.spec.clock, rel=1e-12)
    assert cimgraph.load_netlist(auto(clock={"auto": True})).spec.clock == pytest.approx(plain.spec.clock, rel=1e-12)
    assert plain.spec.clock_margin == 1.0
    for path in (f"{SUB}/shift_add", "chip/accumulation"):
        assert margined.model(path).clock == margined.spec.clock


@pytest.mark.parametrize("clock, message", [
    ({"auto": True, "margin": 0.9}, r"\$\.clock\.margin: expected a number from 1 to 100 .*got 0\.9"),
    ({"auto": True, "margin": "1.4"}, r"\$\.clock\.margin: expected a number"),
    ({"auto": True, "margin": True}, r"\$\.clock\.margin: expected a number"),
    ({"margin": 1.4}, r"\$\.clock\.auto: expected true \(a margin applies only to a derived clock"),
    ({"auto": False, "margin": 1.4}, r"\$\.clock\.auto: expected true"),
    ({"auto": True, "beta": 1.4}, r"\$\.clock.*beta"),
])
def test_bad_clock_margins_name_the_key(clock, message):
    with pytest.raises(NetlistError, match=message):
        cimgraph.load_netlist(auto(clock=clock))
