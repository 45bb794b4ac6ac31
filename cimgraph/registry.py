"""The registry that collecting hooks fill: component kinds, memory cells, technologies,
mapping strategies, accuracy effects. It records which plugin registered each entry."""
from __future__ import annotations

from typing import Any, Callable

import attrs

from .errors import ComponentNotFound, PluginError, did_you_mean


BUILTIN = "cimgraph"  # built-in plugins are named cimgraph.<module>


@attrs.define
class Entry:
    """One registered thing and the plugin (name, version) it came from."""

    name: str
    value: Any
    plugin: str
    version: str
    overrides: str | None = None
    previous: "Entry | None" = None  # what this entry shadows (restored if its plugin is withdrawn)


@attrs.define
class Registry:
    """Everything the installed plugins provide, by category and name."""

    components: dict[str, Entry] = attrs.Factory(dict)
    memory_cells: dict[str, Entry] = attrs.Factory(dict)
    technologies: dict[str, Entry] = attrs.Factory(dict)
    mapping_strategies: dict[str, Entry] = attrs.Factory(dict)
    accuracy_effects: dict[str, Entry] = attrs.Factory(dict)
    update_rules: dict[str, Entry] = attrs.Factory(dict)
    failures: list[tuple[str, str]] = attrs.Factory(list)  # (plugin, message) of broken plugins
    plugin_hooks: dict[str, list[str]] = attrs.Factory(dict)
    plugin_versions: dict[str, str] = attrs.Factory(dict)
    # kind/cell name -> (distribution, plugin name) that declares it provides it (see plugins.providers)
    providers: dict[str, tuple[str, str | None]] = attrs.Factory(dict)
    current_plugin: str = "cimgraph"
    current_version: str = ""

    # -- adding ----------------------------------------------------------------------------
    def _add(self, table: dict[str, Entry], name: str, value: Any) -> None:
        previous = table.get(name)
        overrides = previous.plugin if previous and previous.plugin != self.current_plugin else None
        table[name] = Entry(name, value, self.current_plugin, self.current_version, overrides, previous)

    def withdraw(self, plugin: str) -> None:
        """Remove everything ``plugin`` registered, restoring what it shadowed (a plugin that broke)."""
        for table in self._tables():
            for name in list(table):
                entry: Entry | None = table[name]
                while entry is not None and entry.plugin == plugin:
                    entry = entry.previous
                if entry is None:
                    del table[name]
                else:
                    table[name] = entry

    def shadowed_builtins(self) -> list[Entry]:
        """Entries of a third-party plugin that replace a built-in one (announced on `run`)."""
        return [e for table in self._tables()
                for e in table.values() if e.overrides and _is_builtin(e.overrides) and not _is_builtin(e.plugin)]

    def _tables(self) -> tuple[dict[str, Entry], ...]:
        return (self.components, self.memory_cells, self.technologies, self.mapping_strategies,
                self.accuracy_effects, self.update_rules)

    def add_component(self, cls: type) -> None:
        from .components.base import Component

        kind = getattr(cls, "kind", "")
        if not (isinstance(cls, type) and issubclass(cls, Component) and attrs.has(cls)):
            raise PluginError(f"{cls!r} is not an attrs class deriving from cimgraph.Component")
        if not kind or kind != kind.lower() or " " in kind or "." not in kind:
            raise PluginError(f"{cls.__name__}.kind must be a lowercase dotted tag like 'adc.sar', got {kind!r}")
        if not getattr(cls, "source", ""):
            raise PluginError(f"{cls.__name__} ({kind}) must name its source in the class attribute 'source'")
        from .contracts import contract_problems

        problems = contract_problems(cls)
        if problems:
            raise PluginError(f"component {kind} ({cls.__name__}) breaks the contract of its role: "
                              + "; ".join(problems))
        self._add(self.components, kind, cls)

    def add_memory_cell(self, cell: Any) -> None:
        from .tech.cells import MemoryCell

        if not isinstance(cell, MemoryCell):
            raise PluginError(f"add_memory_cell expects a cimgraph.tech.MemoryCell, got {type(cell).__name__}")
        self._add(self.memory_cells, cell.name, cell)

    def add_technology(self, tech: Any) -> None:
        from .tech.technology import Technology

        if not isinstance(tech, Technology):
            raise PluginError(f"add_technology expects a cimgraph.tech.Technology, got {type(tech).__name__}")
        self._add(self.technologies, tech.name, tech)

    def add_mapping_strategy(self, name: str, function: Callable[..., Any]) -> None:
        if not isinstance(name, str) or not name or not callable(function):
            raise PluginError(f"add_mapping_strategy expects a name and a function, got {name!r}, {function!r}")
        self._add(self.mapping_strategies, name, function)

    def add_accuracy_effect(self, name: str, cls: Any) -> None:
        self._add(self.accuracy_effects, name, cls)

    def add_update_rule(self, name: str, cls: Any) -> None:
        """Register a device model of the weight update: a subclass of cimgraph.training.device.UpdateRule
        that implements ``pulse`` (the base class has no update physics of its own)."""
        from .training.device import UpdateRule

        if not (isinstance(name, str) and isinstance(cls, type) and issubclass(cls, UpdateRule)):
            raise PluginError(f"add_update_rule expects a name and a subclass of cimgraph.training.device.UpdateRule, "
                              f"got {name!r}, {cls!r}")
        if cls.pulse is UpdateRule.pulse:
            raise PluginError(f"update rule {name!r} ({cls.__name__}) does not implement pulse(state, pulses, "
                              "generator), the update physics every rule must give")
        self._add(self.update_rules, name, cls)

    # -- lookups ---------------------------------------------------------------------------
    def _get(self, table: dict[str, Entry], name: str, what: str, command: str) -> Any:
        entry = table.get(name)
        if entry is None:
            if name in self.providers:
                raise ComponentNotFound(self._provider_message(name, what, command))
            broken = sorted({plugin for plugin, _ in self.failures})
            hint = (f"; broken plugins that may provide it: {', '.join(broken)} (`cimgraph plugins` says why)"
                    if broken else "")
            raise ComponentNotFound(
                f"unknown {what} {name!r}{did_you_mean(name, table)}; `cimgraph {command}` lists them{hint}")
        return entry.value

    def _provider_message(self, name: str, what: str, command: str) -> str:
        dist, plugin = self.providers[name]
        reasons = [message for failed, message in self.failures if failed in (plugin, dist)]
        if reasons:
            return (f"{what} {name!r} is provided by the plugin package {dist}, which is installed but BROKEN: "
                    f"{reasons[0]} (`cimgraph plugins` shows it)")
        if plugin is None:
            return (f"{what} {name!r} is provided by the plugin package {dist}, which is not installed: "
                    f"pip install -e plugins/{dist} (then `cimgraph {command}` lists it)")
        return f"{what} {name!r} is declared by the plugin package {dist}, but the plugin did not register it"

    def component(self, kind: str) -> type:
        return self._get(self.components, kind, "component kind", "components")

    def memory_cell(self, name: str) -> Any:
        return self._get(self.memory_cells, name, "memory cell", "components --cells")

    def technology(self, name: str) -> Any:
        return self._get(self.technologies, name, "technology node", "components --technologies")

    def mapping_strategy(self, name: str) -> Callable[..., Any]:
        return self._get(self.mapping_strategies, name, "mapping strategy", "plugins")

    def accuracy_effect(self, name: str) -> Any:
        return self._get(self.accuracy_effects, name, "accuracy effect", "plugins")

    def update_rule(self, name: str) -> Any:
        return self._get(self.update_rules, name, "update rule", "plugins")


def _is_builtin(plugin: str) -> bool:
    return plugin == BUILTIN or plugin.startswith(BUILTIN + ".")
