"""The registry that collecting hooks fill: component kinds, memory cells, technologies,
mapping strategies, accuracy effects. It records which plugin registered each entry."""
from __future__ import annotations

from typing import Any, Callable

import attrs

from .errors import ComponentNotFound, PluginError, did_you_mean


# Kinds provided by plugin packages that ship with cimgraph but install separately: named in the
# error when a netlist asks for one that is not installed.
KNOWN_PLUGIN_PROVIDERS = {
    "adc.sar": "cimgraph-sar-adc",
    "array.nvcap": "cimgraph-nvcap",
    "nvcap.crossbar": "cimgraph-nvcap",
}


@attrs.define
class Entry:
    """One registered thing and the plugin (name, version) it came from."""

    name: str
    value: Any
    plugin: str
    version: str
    overrides: str | None = None


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
    current_plugin: str = "cimgraph"
    current_version: str = ""

    # -- adding ----------------------------------------------------------------------------
    def _add(self, table: dict[str, Entry], name: str, value: Any) -> None:
        previous = table.get(name)
        overrides = previous.plugin if previous and previous.plugin != self.current_plugin else None
        table[name] = Entry(name, value, self.current_plugin, self.current_version, overrides)

    def add_component(self, cls: type) -> None:
        from .components.base import Component

        kind = getattr(cls, "kind", "")
        if not (isinstance(cls, type) and issubclass(cls, Component) and attrs.has(cls)):
            raise PluginError(f"{cls!r} is not an attrs class deriving from cimgraph.Component")
        if not kind or kind != kind.lower() or " " in kind or "." not in kind:
            raise PluginError(f"{cls.__name__}.kind must be a lowercase dotted tag like 'adc.sar', got {kind!r}")
        if not getattr(cls, "source", ""):
            raise PluginError(f"{cls.__name__} ({kind}) must name its source in the class attribute 'source'")
        self._add(self.components, kind, cls)

    def add_memory_cell(self, cell: Any) -> None:
        self._add(self.memory_cells, cell.name, cell)

    def add_technology(self, tech: Any) -> None:
        self._add(self.technologies, tech.name, tech)

    def add_mapping_strategy(self, name: str, function: Callable[..., Any]) -> None:
        self._add(self.mapping_strategies, name, function)

    def add_accuracy_effect(self, name: str, cls: Any) -> None:
        self._add(self.accuracy_effects, name, cls)

    def add_update_rule(self, name: str, cls: Any) -> None:
        self._add(self.update_rules, name, cls)

    # -- lookups ---------------------------------------------------------------------------
    def _get(self, table: dict[str, Entry], name: str, what: str, command: str) -> Any:
        entry = table.get(name)
        if entry is None:
            provider = KNOWN_PLUGIN_PROVIDERS.get(name)
            if provider:
                raise ComponentNotFound(
                    f"{what} {name!r} is provided by the plugin package {provider}, which is not installed: "
                    f"pip install -e plugins/{provider} (then `cimgraph {command}` lists it)")
            raise ComponentNotFound(
                f"unknown {what} {name!r}{did_you_mean(name, table)}; `cimgraph {command}` lists them")
        return entry.value

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
