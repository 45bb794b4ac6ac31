"""Design sweeps: evaluate a netlist over a grid of parameter values (with a progress bar)."""
from __future__ import annotations

import copy
import csv
import io
import itertools
import json
from typing import Any, Iterable, Iterator


from .. import safe_yaml
from ..errors import CimgraphError, InputError, NetlistError, Problem, brief, did_you_mean


def set_path(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``chip.tile.pe.subarray.adc.bits`` style paths in a raw netlist mapping."""
    node: Any = raw
    keys = dotted.split(".")
    for i, key in enumerate(keys[:-1]):
        if not isinstance(node, dict) or key not in node:
            raise NetlistError([Problem("$." + ".".join(keys[: i + 1]), "no such key to sweep")])
        node = node[key]
    if not isinstance(node, dict):
        raise NetlistError([Problem("$." + dotted, "cannot set a value inside a non-mapping")])
    node[keys[-1]] = value


def parse_sets(sets: Iterable[str]) -> dict[str, list[Any]]:
    """``["a.b=1,2", "c=x"]`` -> {"a.b": [1, 2], "c": ["x"]} with YAML scalars.

    Raises CimgraphError for a malformed item, a key given twice, or a value that is not one
    scalar (``[1,2]``, ``{a: 1}``, broken YAML): each axis value is one number, word or quantity.
    """
    pairs = safe_yaml.assignments(list(sets), "--set", "KEY.PATH=v1,v2,...", CimgraphError)
    return {key: [_scalar(key, text) for text in values.split(",")] for key, values in pairs}


def _scalar(key: str, text: str) -> Any:
    try:
        value = safe_yaml.load(text) if text.strip() else None
    except InputError as exc:
        raise CimgraphError(f"--set {brief(key)}: value {brief(text)} is not valid ({exc.message})") from None
    if value is None or isinstance(value, (list, dict)):
        raise CimgraphError(f"--set {brief(key)}: value {brief(text)}: expected one number, word or quantity "
                            "per comma-separated value (lists and mappings cannot be swept)")
    return value


def check_keys(raw: dict[str, Any], keys: Iterable[str], registry: Any = None) -> None:
    """Validate every sweep key before any point runs: it names a value the netlist already has, or
    a field of the component (or memory cell) at that path. Raises NetlistError listing every bad key."""
    import attrs

    from ..plugins import default_registry
    from ..tech.cells import MemoryCell

    registry = registry or default_registry()
    problems = []
    for dotted in keys:
        parts = dotted.split(".")
        node: Any = raw
        for i, key in enumerate(parts[:-1]):
            if not isinstance(node, dict) or key not in node:
                problems.append(Problem("$." + ".".join(parts[: i + 1]), "no such key to sweep"))
                break
            node = node[key]
        else:
            last = parts[-1]
            if not isinstance(node, dict):
                problems.append(Problem("$." + dotted, "cannot set a value inside a non-mapping"))
            elif last not in node:
                fields = _settable(node, parts, registry, MemoryCell, attrs)
                if last not in fields:
                    problems.append(Problem("$." + dotted, f"no such key to sweep{did_you_mean(last, fields)}"
                                                           + (f"; settable here: {', '.join(sorted(fields))}"
                                                              if fields else "")))
    if problems:
        raise NetlistError(problems, None)


def _settable(node: dict[str, Any], parts: list[str], registry: Any, cell_class: type, attrs: Any) -> list[str]:
    """Keys that may be added at ``node``: a component's fields, or the memory cell's."""
    if parts[0] == "cell" and len(parts) == 2:
        return [f.name for f in attrs.fields(cell_class) if f.name != "name"]
    kind = node.get("kind")
    if isinstance(kind, str) and kind in registry.components:
        extra = [] if parts[-2] == "subarray" else ["count"]
        from ..netlist.build import CONTEXT_FIELDS, USER_OR_CONTEXT

        return [f.name for f in attrs.fields(registry.components[kind].value)
                if f.init and (f.name not in CONTEXT_FIELDS or f.name in USER_OR_CONTEXT)] + extra
    return []


def grid(raw: dict[str, Any], axes: dict[str, list[Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield (point, netlist mapping) for every combination of axis values."""
    keys = list(axes)
    for values in itertools.product(*(axes[k] for k in keys)):
        point = dict(zip(keys, values))
        variant = copy.deepcopy(raw)
        for key, value in point.items():
            set_path(variant, key, value)
        yield point, variant


def sweep(raw: dict[str, Any], network: Any, axes: dict[str, list[Any]], schedule: str = "pipeline",
          progress: bool = True, file: str | None = None) -> list[dict[str, Any]]:
    """Evaluate every grid point; returns one row per point (figures, or the error it raised).

    A shortcut onto the study machinery (cimgraph.explore): a grid study over ``axes``, run serially
    into a throwaway store."""
    from ..explore import SerialEngine, Store, Study, run_study
    from ..explore.study import Axis

    label = file or "<netlist>"
    axis_list = tuple(Axis(k, values=tuple(v)) for k, v in axes.items())
    if schedule != "pipeline":
        axis_list += (Axis("schedule", values=(schedule,)),)
    study = Study(name="sweep", file=label, netlists=((label, raw),), networks=(network.name,), axes=axis_list)
    with Store(":memory:") as store:
        run_study(study, store, SerialEngine(), progress=progress, networks={network.name: network})
        by_point = {json.dumps(r["axes"], sort_keys=True, default=str): r for r in store.rows()}
    rows = []
    for point, _ in grid(raw, axes):
        row: dict[str, Any] = dict(point)
        stored = by_point[json.dumps({**point, **({"schedule": schedule} if schedule != "pipeline" else {})},
                                     sort_keys=True, default=str)]
        if stored["error"] is not None:
            row["error"] = stored["error"].splitlines()[0]
        else:
            m = stored["metrics"]
            row.update(area_mm2=m["area"] * 1e6, latency_s=m["latency"], energy_J=m["energy"],
                       tops_per_w=m["tops_per_w"], fps=m["fps"], tops=m["tops"])
        rows.append(row)
    return rows


def sweep_command(args: Any) -> str:
    import os

    from ..netlist.loader import read_netlist_file
    from ..output import check_outputs, write_text
    from .run import load_network

    check_outputs([args.csv], [args.netlist, args.network if os.path.isfile(args.network) else None])
    axes = parse_sets(args.set)
    raw = read_netlist_file(args.netlist)
    if not isinstance(raw, dict):
        raise NetlistError([Problem("$", "expected a mapping at the top of the netlist")], args.netlist)
    if isinstance(raw.get("cell"), str) and any(key.startswith("cell.") for key in axes):
        raw["cell"] = {"name": raw["cell"]}  # `cell: rram.1t1r` -> a mapping whose fields can be swept
    try:
        check_keys(raw, axes)
    except NetlistError as exc:
        raise NetlistError(exc.problems, args.netlist) from None
    rows = sweep(raw, load_network(args.network), axes, file=args.netlist)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if args.csv:
        table = io.StringIO(newline="")
        writer = csv.DictWriter(table, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        write_text(args.csv, table.getvalue())
    if rows and all("error" in row for row in rows):
        raise CimgraphError(f"every one of the {len(rows)} sweep points failed; the first: {rows[0]['error']}")
    lines = ["  ".join(f"{c:>14}" for c in columns)]
    for row in rows:
        lines.append("  ".join(f"{row.get(c, ''):>14.4g}" if isinstance(row.get(c), float) else f"{str(row.get(c, '')):>14}"
                               for c in columns))
    return "\n".join(lines)
