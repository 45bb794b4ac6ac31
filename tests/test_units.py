import math

import pytest

from cimgraph.errors import UnitError
from cimgraph.units import format_si, parse


@pytest.mark.parametrize("text,unit,expected", [
    ("22nm", "m", 22e-9), ("1.5V", "V", 1.5), ("10ns", "s", 10e-9), ("2GHz", "Hz", 2e9), ("6kOhm", "Ohm", 6e3),
    ("128kB", "bit", 128 * 1024 * 8), ("64kb", "bit", 64 * 1024), ("0.5 V", "V", 0.5), ("1e-3 s", "s", 1e-3),
    ("300K", "K", 300.0), ("2fF", "F", 2e-15), ("3uA", "A", 3e-6), ("7", "m", 7.0), (42, "V", 42.0),
    ("1.2mW", "W", 1.2e-3), ("100 MHz", "Hz", 1e8),
])
def test_parse_good(text, unit, expected):
    assert math.isclose(parse(text, unit), expected, rel_tol=1e-12)


@pytest.mark.parametrize("text,unit", [
    ("22nV", "m"), ("fast", "s"), ("1..2V", "V"), ("GHz", "Hz"), (None, "m"), (True, "V"),
    ("22 xm", "m"), ([1], "m"), (float("nan"), "V"), ("inf V", "V"),
])
def test_parse_bad_names_expectation(text, unit):
    with pytest.raises(UnitError) as info:
        parse(text, unit)
    assert "expected" in str(info.value)


def test_format_si():
    assert format_si(2.2e-8, "m") == "22 nm"
    assert format_si(1.5e-9, "s") == "1.5 ns"
    assert format_si(3.2e-12, "m^2") == "3.2 um^2"
    assert format_si(4.8e-5, "m^2") == "48 mm^2"
    assert format_si(0.0, "J") == "0 J"
    assert format_si(1.31239e-4, "W") == "131 uW"


def test_format_si_never_exponent_for_areas():
    assert format_si(8e-7, "m^2") == "0.8 mm^2"
    assert format_si(1.84e-10, "m^2") == "184 um^2"
    assert format_si(9.999e-9, "m^2") == "9999 um^2"
    assert format_si(1.5e4, "") == "15000"
