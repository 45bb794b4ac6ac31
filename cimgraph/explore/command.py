"""``cimgraph explore``: run a study into a store, export it, write the best designs as netlists."""
from __future__ import annotations

import os
import re
from typing import Any

import yaml

from ..errors import CimgraphError
from .pareto import ranked
from .store import Store, export


def explore_command(args: Any) -> str:
    if not (args.study or args.export or args.best):
        raise CimgraphError("give a STUDY.yaml to run, or --export FILE / --best N with --store")
    if args.best is not None and not args.write_netlists:
        raise CimgraphError("--best N needs --write-netlists DIR")
    if args.study and os.path.abspath(args.store) == os.path.abspath(args.study):
        raise CimgraphError(f"{args.store}: the store would overwrite the study file")
    if not args.study and not os.path.exists(args.store):
        raise CimgraphError(f"{args.store}: no such study store (run a study into it first)")
    lines = []
    with Store(args.store) as store:
        if args.study:
            from .engines import make_engine
            from .run import run_study
            from .study import load_study

            study = load_study(args.study)
            engine = make_engine(workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local)
            try:
                summary = run_study(study, store, engine, progress=not args.quiet, batch=args.batch)
            finally:
                engine.close()
            lines.append(f"{study.name}: {summary['points']} points in {args.store} ({summary['new']} new: "
                         f"{summary['ok']} ok, {summary['infeasible']} infeasible, {summary['error']} errors) "
                         f"on {engine.name} x{engine.workers}")
            lines.extend(pareto_summary(store, study.objectives))
        if args.export:
            inputs = [args.study, *((store.meta("study") or {}).get("netlists", []))]
            if any(p and os.path.abspath(p) == os.path.abspath(args.export) for p in inputs):
                raise CimgraphError(f"{args.export}: refusing to overwrite an input of the study")
            lines.append(export(store, args.export))
        if args.best is not None:
            lines.append(write_netlists(store, args.best, args.write_netlists))
    return "\n".join(lines)


def pareto_summary(store: Store, objectives: Any) -> list[str]:
    """A few lines on the Pareto set: its size and the best value of each objective on it."""
    from ..units import format_si
    from .report import UNITS

    front = [row for rank, row in ranked(store.rows(), objectives) if rank == 0]
    if not front:
        return ["no feasible point yet"]
    lines = [f"Pareto set: {len(front)} points (`cimgraph report {store.path} -o study.html` to see them)"]
    for name, sense in objectives:
        pick = (min if sense == "min" else max)(front, key=lambda r: r["metrics"][name])
        unit = UNITS[name]
        value = pick["metrics"][name]
        shown = format_si(value, unit) if unit in ("m^2", "J", "s", "W") else f"{value:.4g} {unit}"
        lines.append(f"  best {name}: {shown} at " + ", ".join(f"{k}={v}" for k, v in pick["axes"].items()))
    return lines


def write_netlists(store: Store, best: int, folder: str) -> str:
    """Write the ``best`` designs (Pareto fronts first) as netlists `cimgraph run` loads; returns a summary."""
    meta = store.meta("study") or {}
    objectives = meta.get("objectives") or [["energy", "min"], ["latency", "min"]]
    chosen = ranked(store.rows(with_netlist=True), objectives, limit=best)[:best]
    if not chosen:
        raise CimgraphError(f"{store.path}: no feasible point to write")
    inputs = {os.path.abspath(p) for p in meta.get("netlists", [])} | {os.path.abspath(store.path)}
    os.makedirs(folder, exist_ok=True)
    written = []
    for i, (front, row) in enumerate(chosen, 1):
        stem = re.sub(r"[^\w.-]+", "_", meta.get("name", "study")).strip("._") or "study"
        path = os.path.join(folder, f"{stem}-{i:03d}.yaml")
        if os.path.abspath(path) in inputs:
            raise CimgraphError(f"{path}: refusing to overwrite an input of the study")
        netlist = dict(row["netlist"])
        if row.get("method"):
            netlist["mapping"] = {**(netlist.get("mapping") or {}), "method": row["method"]}
        header = [f"# {meta.get('name', 'study')} point {row['key']} (Pareto front {front})",
                  *(f"#   {k} = {v!r}" for k, v in row["axes"].items()),
                  *(f"#   {name} = {row['metrics'][name]:.6g} (SI)" for name, _ in objectives)]
        if row.get("schedule") != "pipeline" or row.get("activity"):
            header.append(f"#   run with --schedule {row['schedule']}"
                          + (f"; activity {row['activity']}" if row.get("activity") else ""))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(header) + "\n" + yaml.safe_dump(netlist, sort_keys=False))
        written.append(path)
    return f"wrote {len(written)} netlists to {folder}"
