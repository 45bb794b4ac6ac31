"""Component base class and the Cost of one action.

A component model is a frozen attrs class deriving from :class:`Component`. Its ``kind`` is a
lowercase dotted tag whose prefix is the *role* the scheduler counts it by (see
docs/architecture.md, "Roles and actions"). Every model returns ``area()`` in m^2, ``leakage()``
in W, and a :class:`Cost` (latency in s, energy in J) for one action of the whole instance.
"""
from __future__ import annotations

import abc
from typing import Any, ClassVar

import attrs

GROUPS = ("array", "adc", "accumulation", "buffer", "interconnect", "peripheral")

ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "array": ("read", "write"),
    "adc": ("convert",),
    "sense": ("sense",),
    "precharge": ("precharge",),
    "mux": ("select",),
    "decoder": ("decode",),
    "switch": ("drive",),
    "driver": ("write",),
    "shiftadd": ("accumulate",),
    "register": ("clock",),
    "adder": ("add",),
    "buffer": ("read", "write"),
    "link": ("transfer",),
    "pool": ("pool",),
    "activation": ("activate",),
    "function": ("softmax", "layernorm", "gelu"),   # transformer function units (function_units.py)
    "dram": ("transfer",),               # off-chip memory (training, seed 001 sec. 4)
    "wg": ("load", "compute", "accumulate", "accumulate_batch"),   # weight-gradient unit (training, seed 001 sec. 5.3)
}


@attrs.frozen
class Cost:
    """Latency (s) and energy (J) of one action."""

    latency: float = 0.0
    energy: float = 0.0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.latency + other.latency, self.energy + other.energy)

    def __mul__(self, factor: float) -> "Cost":
        return Cost(self.latency * factor, self.energy * factor)

    __rmul__ = __mul__

    def parallel(self, other: "Cost") -> "Cost":
        """Two actions at once: the longer latency, both energies."""
        return Cost(max(self.latency, other.latency), self.energy + other.energy)


class Component(abc.ABC):
    """Base of every component model (use with ``@attrs.frozen``).

    Subclasses set ``kind``, ``group``, ``source`` and implement ``area``, ``leakage`` and the
    actions of their role. Fields named in the context table of docs/architecture.md (``tech``,
    ``cell``, ``rows``, ``columns``, ...) are filled in by the netlist builder.
    """

    kind: ClassVar[str] = ""
    group: ClassVar[str] = "peripheral"
    source: ClassVar[str] = ""

    @classmethod
    def role(cls) -> str:
        return cls.kind.split(".")[0]

    @classmethod
    def actions(cls) -> tuple[str, ...]:
        """The action methods the scheduler may call on this kind."""
        return tuple(a for a in ROLE_ACTIONS.get(cls.role(), ()) if callable(getattr(cls, a, None)))

    @abc.abstractmethod
    def area(self) -> float:
        """Area of the whole instance (m^2)."""

    @abc.abstractmethod
    def leakage(self) -> float:
        """Static power of the whole instance (W)."""


def field_info(cls: type) -> list[dict[str, Any]]:
    """Describe a component class's user-visible fields: name, default, unit, doc."""
    out = []
    for f in attrs.fields(cls):
        default = f.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        out.append({
            "name": f.name,
            "default": None if default is attrs.NOTHING else default,
            "required": default is attrs.NOTHING,
            "unit": f.metadata.get("unit", ""),
            "doc": f.metadata.get("doc", ""),
        })
    return out
