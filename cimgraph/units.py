"""SI quantities: parse strings with units into floats, format floats for display.

Inside cimgraph every quantity is a float in SI base units; units live only at the edges
(netlist files, reports). For the unit ``bit``, ``B`` means a byte (8 bit) and k/M/G are
binary (1024-based), as memory sizes are quoted.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable

import attrs

from .errors import FieldError, UnitError

PREFIXES = {
    "y": 1e-24, "z": 1e-21, "a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6,
    "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
}
BINARY_PREFIXES = {"": 1, "k": 1024, "K": 1024, "Ki": 1024, "M": 1024**2, "Mi": 1024**2, "G": 1024**3, "Gi": 1024**3}

# Accepted spellings of each unit symbol (the canonical symbol first).
SYMBOLS = {
    "m": ("m",), "m^2": ("m^2", "m2"), "s": ("s",), "Hz": ("Hz",), "V": ("V",), "A": ("A",),
    "F": ("F",), "Ohm": ("Ohm", "ohm", "Ω"), "S": ("S",), "J": ("J",), "W": ("W",), "K": ("K",),
    "bit": ("bit", "b", "B"), "A/m": ("A/m",), "F/m": ("F/m",), "Ohm/m": ("Ohm/m",), "Ohm*m": ("Ohm*m",),
    "1": ("",),
}

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse(value: Any, unit: str) -> float:
    """Return ``value`` in SI base units of ``unit``.

    Numbers are taken as SI already; strings are ``<number><prefix><symbol>`` with optional spaces,
    e.g. ``parse("22nm", "m") == 2.2e-8``. Raises UnitError naming what was expected.
    """
    if isinstance(value, bool):
        raise UnitError(f"expected a number or a quantity in {unit}, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise UnitError(f"expected a finite quantity in {unit}, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise UnitError(f"expected a number or a quantity in {unit} such as '{_example(unit)}', got {value!r}")
    text = value.strip()
    match = re.fullmatch(rf"({_NUMBER})\s*(.*)", text)
    if not match:
        raise UnitError(f"expected a quantity in {unit} such as '{_example(unit)}', got {value!r}")
    number, rest = float(match.group(1)), match.group(2).strip()
    if not math.isfinite(number):
        raise UnitError(f"expected a finite quantity in {unit}, got {value!r}")
    if not rest:
        return number  # a bare number is already SI
    symbols = SYMBOLS.get(unit, (unit,))
    for symbol in sorted(symbols, key=len, reverse=True):
        if not rest.endswith(symbol):
            continue
        prefix = rest[: len(rest) - len(symbol)].strip() if symbol else rest
        if unit == "bit":
            factor = BINARY_PREFIXES.get(prefix)
            if factor is not None:
                return number * factor * (8 if symbol == "B" else 1)
        elif prefix in PREFIXES:  # the prefix of a squared unit is squared: 1 mm^2 = 1e-6 m^2
            return number * PREFIXES[prefix] ** (2 if symbol.endswith("2") else 1)
    raise UnitError(f"expected a quantity in {unit} such as '{_example(unit)}', got {value!r}")


def _example(unit: str) -> str:
    return {"m": "22nm", "s": "10ns", "Hz": "1GHz", "V": "1.5V", "Ohm": "6kOhm", "F": "1fF",
            "bit": "128kB", "K": "300K", "A": "1uA", "W": "1mW", "J": "1pJ"}.get(unit, f"1{unit}")


_DISPLAY_PREFIXES = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"),
                     (1e-9, "n"), (1e-12, "p"), (1e-15, "f"), (1e-18, "a")]


def format_si(value: float, unit: str = "", digits: int = 3) -> str:
    """Format an SI value with an engineering prefix: ``format_si(2.2e-8, "m") == "22 nm"``.

    Areas are shown in um^2 (the unit researchers read chip blocks in), or mm^2 from 0.01 mm^2.
    """
    if value is None:
        return "-"
    if unit == "m^2":
        if abs(value) >= 1e-8:
            return f"{_sig(value / 1e-6, digits)} mm^2"
        return f"{_sig(value / 1e-12, digits)} um^2"
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}".strip()
    if unit in ("", "1", "bit"):
        return f"{_sig(value, digits)} {unit}".strip() if unit != "1" else _sig(value, digits)
    for scale, prefix in _DISPLAY_PREFIXES:
        if abs(value) >= scale * 0.9995:
            return f"{_sig(value / scale, digits)} {prefix}{unit}"
    scale, prefix = _DISPLAY_PREFIXES[-1]
    return f"{_sig(value / scale, digits)} {prefix}{unit}"


def _sig(x: float, digits: int) -> str:
    """``digits`` significant digits, never in exponent notation for numbers below 10^15."""
    if abs(x) >= 10**digits:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def _converter(unit: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        return parse(value, unit)

    return convert


def quantity(unit: str, default: Any = attrs.NOTHING, doc: str = "", validator: Any = None, **kwargs: Any) -> Any:
    """An attrs field holding an SI float; accepts unit strings; metadata carries ``unit`` and ``doc``."""
    return attrs.field(default=default, converter=_converter(unit), validator=validator,
                       metadata={"unit": unit, "doc": doc}, **kwargs)


def optional_quantity(unit: str, doc: str = "") -> Any:
    """An optional positive quantity field (default None: the model derives or is given the value)."""
    return quantity(unit, default=None, doc=doc, validator=attrs.validators.optional(positive))


def positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """attrs validator: a finite number > 0."""
    if value is None or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise FieldError(f"{attribute.name}: expected a positive number, got {_brief(value)}")


def non_negative(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """attrs validator: a finite number >= 0."""
    if value is None or not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise FieldError(f"{attribute.name}: expected a number >= 0, got {_brief(value)}")


def finite(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """attrs validator: a finite number (of either sign)."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value)):
        raise FieldError(f"{attribute.name}: expected a finite number, got {_brief(value)}")


def int_range(low: int, high: int | None = None) -> Callable[[Any, attrs.Attribute, Any], None]:
    """attrs validator: an integer in [low, high]."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        if ok and high is not None:
            ok = value <= high
        if not ok:
            span = f"from {low} to {high}" if high is not None else f">= {low}"
            raise FieldError(f"{attribute.name}: expected an integer {span}, got {_brief(value)}")

    return check


def _brief(value: Any) -> str:
    from .errors import brief

    return brief(value)


def one_of(*choices: str) -> Callable[[Any, attrs.Attribute, Any], None]:
    """attrs validator: one of the given strings."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise FieldError(f"{attribute.name}: expected one of {', '.join(map(repr, choices))}, got {_brief(value)}")

    return check
