"""Role contracts: what the scheduler and the netlist builder need from a component kind.

The role is ``kind.split(".")[0]`` (docs/architecture.md, "Roles and actions"). A kind of a known
role must implement that role's actions with the arguments the scheduler passes, and declare the
fields the builder and the scheduler read. ``Registry.add_component`` checks this, so a kind that
breaks the contract is rejected when its plugin registers it, not deep inside a run.
"""
from __future__ import annotations

import inspect
from typing import Any

import attrs

from .components.base import ROLE_ACTIONS

# Keyword arguments the scheduler passes to an action (others are called without arguments).
ACTION_ARGUMENTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("array", "read"): ("input_activity", "weight_density"),
    ("switch", "drive"): ("input_activity",),
}
# Fields a role's kinds must declare (read by the builder, the mapper or the scheduler).
ROLE_FIELDS: dict[str, tuple[str, ...]] = {
    "array": ("rows", "columns", "cell"),
    "adc": ("bits", "share"),
    "adder": ("children", "copies"),
    "buffer": ("width",),
    "link": ("width",),
    "pool": ("copies",),
    "activation": ("copies",),
}
# Where the scheduler counts a role (its action counts follow the subarray's bit-cycles, or the data
# moved between a level's children). Roles not listed here may sit at any level.
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    "array": (),  # only as the subarray's own kind
    **{role: ("subarray",) for role in ("adc", "sense", "precharge", "mux", "decoder", "switch", "shiftadd")},
    "link": ("chip", "tile", "pe"),  # a link connects a level to its children
}
# Methods besides the actions a role's kinds must implement.
ROLE_METHODS: dict[str, tuple[str, ...]] = {"array": ("width", "height")}


def contract_problems(cls: type) -> list[str]:
    """What ``cls`` (an attrs Component class) lacks for its role; empty when it fulfils it."""
    role = cls.kind.split(".")[0]
    problems = []
    abstract = sorted(getattr(cls, "__abstractmethods__", ()))
    if abstract:
        problems.append(f"does not implement {', '.join(m + '()' for m in abstract)}")
    for action in ROLE_ACTIONS.get(role, ()) + ROLE_METHODS.get(role, ()):
        method = getattr(cls, action, None)
        if not callable(method):
            problems.append(f"has no {action}() method (role {role!r} needs "
                            f"{', '.join(a + '()' for a in ROLE_ACTIONS.get(role, ()) + ROLE_METHODS.get(role, ()))})")
            continue
        arguments = ACTION_ARGUMENTS.get((role, action), ())
        message = _signature_problem(method, arguments)
        if message:
            problems.append(f"{action}() {message}")
    try:
        from .components.base import field_info

        field_info(cls)  # what `cimgraph components` lists must be listable
    except Exception as exc:
        problems.append(f"its fields cannot be listed ({type(exc).__name__}: {exc})")
    fields = {f.name for f in attrs.fields(cls) if f.init}
    missing = [name for name in ROLE_FIELDS.get(role, ()) if name not in fields]
    if missing:
        problems.append(f"has no field{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                        f"(role {role!r} needs {', '.join(ROLE_FIELDS[role])})")
    return problems


def _signature_problem(method: Any, arguments: tuple[str, ...]) -> str | None:
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return None  # a builtin or C method: cannot inspect, trust it
    try:
        signature.bind(None, **{name: 0.5 for name in arguments})
    except TypeError:
        wanted = ", ".join(f"{name}=..." for name in arguments)
        return f"must be callable as {method.__name__}({wanted}) on an instance, has {method.__name__}{signature}"
    return None


def placement_problem(kind: str, level: str) -> str | None:
    """Why a component of ``kind`` cannot sit at ``level`` (chip, tile, pe, subarray), or None."""
    role = kind.split(".")[0]
    allowed = ROLE_LEVELS.get(role)
    if allowed is None or level in allowed:
        return None
    if not allowed:
        return f"{kind} is an array: it can only be the subarray's own kind (subarray: {{kind: {kind}, ...}})"
    return (f"{kind} (role {role!r}) is counted by the scheduler only at the {' / '.join(allowed)} level, "
            f"not at the {level} level")
