"""Opt-in memoisation of component models and their costs, for design studies.

Models are pure frozen attrs classes (docs/architecture.md), so a model built twice from the same
class and the same resolved fields is the same model, and its ``area()``, ``leakage()`` and action
costs for the same arguments are the same numbers. Inside ``with memoised():`` the netlist builder
reuses one instance per (class, resolved fields) and the evaluator reuses each (instance, action,
arguments) result; outside it nothing is cached. A sweep over ADC bits therefore rebuilds only the
components whose resolved fields change (the ADC and what takes ``adc_bits``/``psum_bits`` as
context), and a sweep over anything else never recomputes an unchanged component's costs.

The memo is generic: it knows nothing about component kinds. An exception is never cached.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

_MISSING = object()


class Memo:
    """Interned model instances and call results. ``limit`` bounds the entries (cleared when exceeded)."""

    def __init__(self, limit: int = 500_000):
        self.limit = limit
        self.models: dict[Any, Any] = {}
        self.calls: dict[Any, tuple[Any, Any]] = {}
        self._by_id: dict[int, tuple[Any, int]] = {}    # id(object) -> (object, canonical number)
        self._by_value: dict[Any, int] = {}             # object (hashed by value once) -> canonical number
        self.hits = 0
        self.misses = 0

    def canonical(self, value: Any) -> Any:
        """A cheap stand-in key for a large frozen value (a Technology, a MemoryCell): equal values get
        the same number, and each object is hashed by value only the first time it is seen."""
        entry = self._by_id.get(id(value))
        if entry is not None and entry[0] is value:
            return ("canonical", entry[1])
        try:
            number = self._by_value.setdefault(value, len(self._by_value))
        except TypeError:  # unhashable: the key builder then declines to cache
            return value
        self._by_id[id(value)] = (value, number)
        return ("canonical", number)

    def _key(self, head: Any, kwargs: dict[str, Any]) -> Any:
        return _key(head, {k: self.canonical(v) if hasattr(type(v), "__attrs_attrs__") else v
                           for k, v in kwargs.items()})

    def instance(self, cls: type, kwargs: dict[str, Any]) -> Any:
        key = self._key(cls, kwargs)
        if key is None:
            return cls(**kwargs)
        model = self.models.get(key, _MISSING)
        if model is _MISSING:
            self._room()
            model = self.models[key] = cls(**kwargs)
            self.misses += 1
        else:
            self.hits += 1
        return model

    def call(self, method: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        owner = getattr(method, "__self__", None)
        key = self._key(method.__name__, kwargs) if kwargs else (method.__name__,)
        if owner is None or key is None:
            return method(**kwargs)
        # Keyed by the instance's id; the entry holds the instance, so the id cannot be reused meanwhile.
        key = (id(owner), key)
        entry = self.calls.get(key)
        if entry is not None and entry[0] is owner:
            self.hits += 1
            return entry[1]
        value = method(**kwargs)
        self._room()
        self.calls[key] = (owner, value)
        self.misses += 1
        return value

    def _room(self) -> None:
        if len(self.models) + len(self.calls) >= self.limit:
            self.clear()

    def clear(self) -> None:
        for table in (self.models, self.calls, self._by_id, self._by_value):
            table.clear()


_active: Memo | None = None


@contextlib.contextmanager
def memoised(memo: Memo | None = None) -> Iterator[Memo]:
    """Enable memoisation for the block (nested blocks share the outer memo unless given one)."""
    global _active
    previous = _active
    _active = memo or previous or Memo()
    try:
        yield _active
    finally:
        _active = previous


def instance(cls: type, kwargs: dict[str, Any]) -> Any:
    """``cls(**kwargs)``, interned while memoisation is on."""
    return cls(**kwargs) if _active is None else _active.instance(cls, kwargs)


def call(method: Callable[..., Any], /, **kwargs: Any) -> Any:
    """``method(**kwargs)`` of a model instance, remembered while memoisation is on."""
    return method(**kwargs) if _active is None else _active.call(method, kwargs)


def function(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` of a pure function of hashable values (e.g. the floorplan search of a geometry and a
    network), remembered while memoisation is on."""
    if _active is None:
        return fn(*args)
    key = ("fn", fn, args)
    try:
        entry = _active.calls.get(key)
    except TypeError:
        return fn(*args)
    if entry is not None:
        _active.hits += 1
        return entry[1]
    value = fn(*args)
    _active._room()
    _active.calls[key] = (fn, value)
    _active.misses += 1
    return value


def _key(head: Any, kwargs: dict[str, Any]) -> Any:
    """A hashable key of the resolved fields (type-tagged, so 5 and 5.0 differ), or None if unhashable."""
    try:
        key = (head, tuple(sorted((k, type(v), _frozen(v)) for k, v in kwargs.items())))
        hash(key)
    except TypeError:
        return None
    return key


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple((type(v), _frozen(v)) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, type(v), _frozen(v)) for k, v in value.items()))
    return value
