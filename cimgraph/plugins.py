"""Plugin manager: hook specs, then the built-in modules, then entry points (group "cimgraph").

Built-in component and technology modules are plugins registered through exactly the same
path as third-party ones. A plugin that fails to import or raises in a hook is reported by
name in ``Registry.failures`` and skipped; the rest keeps working.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
from types import ModuleType
from typing import Iterable

import pluggy

from . import hookspecs
from .registry import Registry

# Packages whose every module implementing a cimgraph_ hook is a built-in plugin.
BUILTIN_PACKAGES = ("cimgraph.tech", "cimgraph.components")
# Single built-in plugin modules elsewhere (must not import torch at import time).
BUILTIN_MODULES = ("cimgraph.mapping.hooks", "cimgraph.accuracy.hooks", "cimgraph.report.hybrid_sections",
                   "cimgraph.training.hooks")

COLLECTING_HOOKS = (
    "cimgraph_register_technologies",
    "cimgraph_register_memory_cells",
    "cimgraph_register_components",
    "cimgraph_register_mapping_strategies",
    "cimgraph_register_accuracy_effects",
    "cimgraph_register_update_rules",
)

_failures: list[tuple[str, str]] = []


def _builtin_modules() -> Iterable[str]:
    for package_name in BUILTIN_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            yield f"{package_name}.{info.name}"
    yield from BUILTIN_MODULES


def _is_plugin(module: ModuleType) -> bool:
    return any(name.startswith("cimgraph_") for name in vars(module))


def get_plugin_manager(entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh plugin manager with built-ins and (optionally) installed entry-point plugins."""
    pm = pluggy.PluginManager("cimgraph")
    pm.add_hookspecs(hookspecs)
    failures: list[tuple[str, str]] = []
    for name in _builtin_modules():
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # optional built-in module not present in this build
                continue
            failures.append((name, f"failed to import: {exc}"))
            continue
        except Exception as exc:  # a broken built-in must not take the core down either
            failures.append((name, f"failed to import: {type(exc).__name__}: {exc}"))
            continue
        if _is_plugin(module):
            pm.register(module, name=name)
    if entry_points:
        for ep in importlib.metadata.entry_points(group="cimgraph"):
            # plugins are named by the package that provides them (e.g. cimgraph-sar-adc)
            name = ep.dist.name if getattr(ep, "dist", None) is not None else ep.name
            if pm.has_plugin(name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                failures.append((name, f"failed to import {ep.value}: {type(exc).__name__}: {exc}"))
                continue
            try:
                pm.register(plugin, name=name)
            except Exception as exc:
                failures.append((name, f"failed to register: {type(exc).__name__}: {exc}"))
    pm.check_pending()
    pm.cimgraph_failures = failures  # type: ignore[attr-defined]
    return pm


def plugin_version(pm: pluggy.PluginManager, plugin_name: str) -> str:
    """Version of the distribution providing a plugin (cimgraph's own for built-ins)."""
    for plugin, dist in pm.list_plugin_distinfo():
        if pm.get_name(plugin) == plugin_name:
            return dist.version
    if plugin_name.startswith("cimgraph.") or plugin_name == "cimgraph":
        try:
            return importlib.metadata.version("cimgraph")
        except importlib.metadata.PackageNotFoundError:
            return "dev"
    return getattr(pm.get_plugin(plugin_name), "__version__", "unknown")


def load_registry(pm: pluggy.PluginManager | None = None) -> Registry:
    """Call every collecting hook, one implementation at a time, isolating broken plugins.

    ``get_hookimpls()`` lists ``trylast`` implementations (the built-ins) first and pluggy calls
    the list from the end; we run it from the start, so built-ins register first and a plugin
    registering the same name later overrides the built-in; the registry records that.
    """
    pm = pm or get_plugin_manager()
    registry = Registry()
    registry.failures.extend(getattr(pm, "cimgraph_failures", []))
    broken = {name for name, _ in registry.failures}
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin)
        registry.plugin_versions[name] = plugin_version(pm, name)
        registry.plugin_hooks[name] = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
    for hook_name in COLLECTING_HOOKS:
        caller = getattr(pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            if impl.plugin_name in broken:
                continue
            registry.current_plugin = impl.plugin_name
            registry.current_version = registry.plugin_versions.get(impl.plugin_name, "")
            try:
                impl.function(registry=registry)
            except Exception as exc:
                registry.failures.append((impl.plugin_name, f"{hook_name} raised {type(exc).__name__}: {exc}"))
                broken.add(impl.plugin_name)
    registry.current_plugin = "cimgraph"
    return registry


_default_registry: Registry | None = None


def default_registry() -> Registry:
    """The registry of everything installed, built once per process (plugins do not change at run time)."""
    global _default_registry
    if _default_registry is None:
        _default_registry = load_registry()
    return _default_registry


def reset_default_registry() -> None:
    """Forget the process-wide registry (tests that register and remove plugins call this)."""
    global _default_registry
    _default_registry = None
