"""Plugin manager: hook specs, then the built-in modules, then entry points (group "cimgraph").

Built-in component and technology modules are plugins registered through exactly the same
path as third-party ones. A plugin is isolated at every stage: one that fails to import, has an
invalid or misspelt hook, raises in a hook or registers a kind that breaks its role's contract is
reported by name in ``Registry.failures`` (listed BROKEN by ``cimgraph plugins``), everything it
registered is withdrawn, and the rest keeps working.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
from types import ModuleType
from typing import Iterable

import pluggy

from . import hookspecs
from .errors import did_you_mean
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

HOOK_NAMES = tuple(sorted(name for name in vars(hookspecs) if name.startswith("cimgraph_")))


def _builtin_modules() -> Iterable[str]:
    for package_name in BUILTIN_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            yield f"{package_name}.{info.name}"
    yield from BUILTIN_MODULES


def _is_plugin(module: ModuleType) -> bool:
    return any(name.startswith("cimgraph_") for name in vars(module))


def register_plugin(pm: pluggy.PluginManager, plugin: object, name: str, failures: list[tuple[str, str]]) -> bool:
    """Register one plugin and validate its hooks; on any problem unregister it and record why.

    pluggy raises PluginValidationError for an implementation whose arguments the spec lacks (at
    register) and for a hook without a spec, such as a misspelt name (at check_pending): both are
    caught here, per plugin, so one bad plugin never stops the others.
    """
    try:
        pm.register(plugin, name=name)
    except Exception as exc:
        failures.append((name, f"failed to register: {type(exc).__name__}: {exc}"))
        return False
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        unknown = [c.name for c in pm.get_hookcallers(plugin) or [] if not c.has_spec()]
        hints = "; ".join(f"{h} is not a cimgraph hook{did_you_mean(h, HOOK_NAMES)}" for h in unknown)
        pm.unregister(plugin)
        failures.append((name, f"invalid hooks: {hints or exc}; hooks: {', '.join(HOOK_NAMES)}"))
        return False
    return True


def get_plugin_manager(entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh plugin manager with built-ins and (optionally) installed entry-point plugins.

    ``pm.cimgraph_failures`` lists (plugin, reason) for plugins that could not be loaded;
    ``pm.cimgraph_versions`` the version of each plugin's distribution.
    """
    pm = pluggy.PluginManager("cimgraph")
    pm.add_hookspecs(hookspecs)
    failures: list[tuple[str, str]] = []
    versions: dict[str, str] = {}
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
            register_plugin(pm, module, name, failures)
    if entry_points:
        for ep in importlib.metadata.entry_points(group="cimgraph"):
            # plugins are named by the distribution that provides them (e.g. cimgraph-sar-adc)
            dist = getattr(ep, "dist", None)
            name = dist.name if dist is not None else ep.name
            if pm.has_plugin(name) or any(failed == name for failed, _ in failures):
                continue
            try:
                plugin = ep.load()
            except BaseException as exc:  # SystemExit or KeyboardInterrupt-like plugins too, bar Ctrl-C
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append((name, f"failed to import {ep.value}: {type(exc).__name__}: {exc}"))
                continue
            versions[name] = dist.version if dist is not None else getattr(plugin, "__version__", "unknown")
            register_plugin(pm, plugin, name, failures)
    pm.cimgraph_failures = failures  # type: ignore[attr-defined]
    pm.cimgraph_versions = versions  # type: ignore[attr-defined]
    return pm


def plugin_version(pm: pluggy.PluginManager, plugin_name: str) -> str:
    """Version of the distribution providing a plugin (cimgraph's own for built-ins)."""
    version = getattr(pm, "cimgraph_versions", {}).get(plugin_name)
    if version:
        return version
    if plugin_name.startswith("cimgraph.") or plugin_name == "cimgraph":
        try:
            return importlib.metadata.version("cimgraph")
        except importlib.metadata.PackageNotFoundError:
            return "dev"
    try:
        return importlib.metadata.version(plugin_name)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return getattr(pm.get_plugin(plugin_name), "__version__", "unknown")


PROVIDES_GROUP = "cimgraph.kinds"  # entry-point group: name = a component kind or cell the plugin provides


def providers() -> dict[str, tuple[str, str | None]]:
    """Which distribution declares each component kind / memory cell, without importing it.

    Installed distributions declare them as entry points of the group ``cimgraph.kinds``; the plugin
    packages in this source tree's ``plugins/`` folder are read from their pyproject.toml (not
    installed: the plugin name is None). Returns ``{kind: (distribution, plugin name or None)}``.
    """
    out: dict[str, tuple[str, str | None]] = {}
    for project in _source_tree_plugins():
        for kind in project.get("entry-points", {}).get(PROVIDES_GROUP, {}):
            out[kind] = (project.get("name", "?"), None)
    for ep in importlib.metadata.entry_points(group=PROVIDES_GROUP):
        dist = getattr(ep, "dist", None)
        out[ep.name] = (dist.name if dist is not None else ep.value, dist.name if dist is not None else None)
    return out


def _source_tree_plugins() -> list[dict]:
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "plugins"
    projects = []
    for path in sorted(root.glob("*/pyproject.toml")) if root.is_dir() else ():
        try:
            projects.append(tomllib.loads(path.read_text(encoding="utf-8")).get("project", {}))
        except (OSError, ValueError):
            continue
    return projects


def load_registry(pm: pluggy.PluginManager | None = None) -> Registry:
    """Call every collecting hook, one implementation at a time, isolating broken plugins.

    ``get_hookimpls()`` lists ``trylast`` implementations (the built-ins) first and pluggy calls
    the list from the end; we run it from the start, so built-ins register first and a plugin
    registering the same name later overrides the built-in; the registry records that.
    """
    pm = pm or get_plugin_manager()
    registry = Registry(providers=providers())
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
                impl.function(*[{"registry": registry}[arg] for arg in impl.argnames])
            except Exception as exc:  # withdraw all it registered: a half-registered plugin is not used
                registry.failures.append((impl.plugin_name, f"{hook_name} raised {type(exc).__name__}: {exc}"))
                registry.withdraw(impl.plugin_name)
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
