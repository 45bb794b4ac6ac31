"""Design sweeps: evaluate a netlist over a grid of parameter values (with a progress bar)."""
from __future__ import annotations

import copy
import csv
import itertools
import json
from typing import Any, Iterable, Iterator

import yaml
from tqdm import tqdm

from ..errors import CimgraphError, NetlistError, Problem


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
    """``["a.b=1,2", "c=x"]`` -> {"a.b": [1, 2], "c": ["x"]} with YAML scalars."""
    out: dict[str, list[Any]] = {}
    for item in sets:
        if "=" not in item:
            raise CimgraphError(f"--set {item!r}: expected KEY.PATH=v1,v2,...")
        key, values = item.split("=", 1)
        out[key.strip()] = [yaml.safe_load(v) for v in values.split(",")]
    return out


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
    from .run import load_network

    try:
        with open(args.netlist, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise NetlistError([Problem("$", f"cannot read the netlist: {exc}")], args.netlist) from None
    rows = sweep(raw, load_network(args.network), parse_sets(args.set), file=args.netlist)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    lines = ["  ".join(f"{c:>14}" for c in columns)]
    for row in rows:
        lines.append("  ".join(f"{row.get(c, ''):>14.4g}" if isinstance(row.get(c), float) else f"{str(row.get(c, '')):>14}"
                               for c in columns))
    return "\n".join(lines)
