"""The ``cimgraph`` command line. Exit codes: 0 ok, 2 bad input (one line naming file and key path)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable


from .errors import CimgraphError
from .units import format_si


def _registry():
    from .plugins import default_registry

    return default_registry()


# -- plugins / components ------------------------------------------------------------------

def cmd_plugins(args: argparse.Namespace) -> str:
    reg = _registry()
    lines = [f"{'plugin':40} {'version':10} hooks"]
    broken = {name for name, _ in reg.failures}
    for name in sorted(set(reg.plugin_hooks) - broken):
        hooks = ", ".join(h.removeprefix("cimgraph_") for h in reg.plugin_hooks[name])
        lines.append(f"{name:40} {reg.plugin_versions.get(name, ''):10} {hooks}")
    for name, message in reg.failures:
        lines.append(f"{name:40} {'BROKEN':10} {message} (nothing it registered is used)")
    return "\n".join(lines)


def _describe_fields(cls: type) -> list[str]:
    from .components.base import field_info
    from .netlist.build import CONTEXT_FIELDS, USER_OR_CONTEXT

    out = []
    for info in field_info(cls):
        if info["name"] in CONTEXT_FIELDS and (info["required"] or info["name"] not in USER_OR_CONTEXT):
            default = "(from context)"
        elif info["required"]:
            default = "(required)"
        else:
            default = info["default"]
            default = format_si(default, info["unit"]) if isinstance(default, float) and info["unit"] not in ("", "1") else repr(default)
        unit = f" [{info['unit']}]" if info["unit"] and info["unit"] != "1" else ""
        doc = f"  {info['doc']}" if info["doc"] else ""
        out.append(f"    {info['name']}{unit} = {default}{doc}")
    return out


def cmd_components(args: argparse.Namespace) -> str:
    reg = _registry()
    if args.json:
        from .components.base import field_info

        data = {kind: {"plugin": e.plugin, "version": e.version, "group": e.value.group, "source": e.value.source,
                       "actions": list(e.value.actions()),
                       "fields": [{k: _jsonable(v) for k, v in f.items()} for f in field_info(e.value)]}
                for kind, e in sorted(reg.components.items())}
        return json.dumps(data, indent=2)
    lines: list[str] = []
    if not (args.technologies or args.cells or args.kinds):
        args.all = True
    if args.technologies or args.all:
        lines.append("Technology nodes:")
        for name, e in sorted(reg.technologies.items(), key=lambda kv: -kv[1].value.feature_size):
            t = e.value
            lines.append(f"  {name:8} {t.device:13} Vdd {t.vdd:.2f} V  Ion,n {t.i_on_n:.0f} A/m  Ioff,n {t.i_off_n:.3g} A/m  "
                         f"[{e.plugin}]  source: {t.source}")
    if args.cells or args.all:
        lines.append("Memory cells:")
        for name, e in sorted(reg.memory_cells.items()):
            c = e.value
            extra = (f"Ron {format_si(c.r_on, 'Ohm')} on/off {c.on_off_ratio:.3g}" if c.is_resistive else
                     f"Con {format_si(c.c_on, 'F')} Coff {format_si(c.c_off, 'F')}" if c.is_capacitive else "")
            lines.append(f"  {name:18} {c.family:6} {c.area_f2:.0f} F^2 {c.bits_per_cell} bit/cell {extra}  "
                         f"[{e.plugin} {e.version}]  source: {c.source}")
    if args.kinds or args.all:
        lines.append("Component kinds:")
        for kind, e in sorted(reg.components.items()):
            cls = e.value
            over = f", overrides {e.overrides}" if e.overrides else ""
            lines.append(f"  {kind}  ({cls.group}; {e.plugin} {e.version}{over}) actions: {', '.join(cls.actions())}")
            lines.append(f"    source: {cls.source}")
            lines.extend(_describe_fields(cls))
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


# -- show ----------------------------------------------------------------------------------

def _auto_note(spec: Any) -> str:
    margin = f"{spec.clock_margin:g} x " if spec.clock_margin != 1 else ""
    return f" (auto: 1 / ({margin}slowest conversion step))" if margin else " (auto: 1 / slowest conversion step)"


def cmd_show(args: argparse.Namespace) -> str:
    from .netlist import load_netlist

    chip = load_netlist(args.netlist)
    if args.json:
        return json.dumps(chip.to_dict(), indent=2)
    spec = chip.spec
    lines = [f"{spec.name}: {chip.tech.name}, cell {chip.cell.name}, weights {spec.precision.weight} bit "
             f"({chip.cells_per_weight} cells/weight), inputs {spec.precision.input} bit, clock "
             f"{format_si(spec.clock, 'Hz')}{_auto_note(spec) if spec.clock_auto else ''}, "
             f"{spec.mapping.method} mapping"]

    def walk(node: str, indent: str, graph: Any = chip) -> None:
        data = graph.node(node)
        count = " (count: auto)" if data.get("auto") else f" x{data['count']}"
        label = node.rsplit("/", 1)[-1]
        kind = f" {data['kind']}" if data.get("kind") else ""
        kind += " (transposed read-out)" if data.get("transposed") else ""
        area = "" if graph.auto else f"  {format_si(data['unit_area'], 'm^2')}"
        lines.append(f"{indent}{label}{count}{kind}{area}")
        for child in graph.children(node):
            walk(child, indent + "  ", graph)

    walk("chip", "")
    for name, design in chip.designs.items():   # extra tile designs of a hybrid chip (the chip level is shared)
        spec = chip.spec.designs[name]
        schemes = f"; schemes {', '.join(spec.schemes)}" if spec.schemes else ""
        lines.append(f"design {name} (runs {', '.join(spec.runs)}{schemes}; cell {design.cell.name}):")
        for tile in design.children("chip"):
            if design.node(tile).get("level") == "tile":
                walk(tile, "  ", design)
    for source, target, kind, link in chip.links():
        lines.append(f"link {source} -> {target}: {kind} ({link})")
    if chip.auto:
        lines.append(f"counts left to the floorplanner: {', '.join(chip.auto)} (see `cimgraph map`)")
    else:
        lines.append(f"chip area {format_si(chip.area(), 'm^2')}")
    return "\n".join(lines)


# -- map / run / report / accuracy -----------------------------------------------------------

def _network(name_or_file: str) -> Any:
    from .schedule.run import load_network

    return load_network(name_or_file)


def cmd_map(args: argparse.Namespace) -> str:
    from .mapping import format_mapping, map_network
    from .netlist import load_netlist

    mapping = map_network(load_netlist(args.netlist), _network(args.network), method=args.method)
    return format_mapping(mapping)


def cmd_run(args: argparse.Namespace) -> str:
    from .schedule.run import run_command

    return run_command(args)


def cmd_report(args: argparse.Namespace) -> str:
    if args.results[0].endswith((".sqlite", ".db")):
        from .explore.report import report_command as study_report

        return study_report(args)
    from .report import report_command

    return report_command(args)


def cmd_accuracy(args: argparse.Namespace) -> str:
    from .accuracy.options import check_options, parse_options
    from .accuracy.run import accuracy_command

    options = parse_options(args.option)
    check_options(options, args.batches, args.device, args.seed, args.netlist)  # every error before training
    return accuracy_command(args.netlist, model=args.model, data=args.data, batches=args.batches, seed=args.seed,
                            fast=args.fast, device=args.device, **options)


def cmd_train(args: argparse.Namespace) -> str:
    from .training.loop import train_command

    settings = {k: getattr(args, k) for k in ("lr", "batch_size", "scheme", "momentum", "adc", "adc_bits", "wl_weight",
                                              "wl_activate", "wl_error", "wl_grad", "popu_mode", "update_max",
                                              "update_levels", "refresh_every", "seed", "device", "traces")}
    return train_command(args.netlist, model=args.model, data=args.data, epochs=args.epochs, options=args.option,
                         **settings)


def cmd_sweep(args: argparse.Namespace) -> str:
    from .schedule.sweep import sweep_command

    return sweep_command(args)


def cmd_explore(args: argparse.Namespace) -> str:
    from .explore.command import explore_command

    return explore_command(args)


def cmd_train_ppa(args: argparse.Namespace) -> str:
    from .schedule.training_run import training_command

    return training_command(args)


def add_activity_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("activity (default: the documented realistic value of cimgraph.schedule.activity)")
    g.add_argument("--activity", metavar="input=F,weight=F",
                   help="input bit density and mean cell level for every layer (overrides measured values)")
    g.add_argument("--traces", metavar="DIR", help="DNN+NeuroSim layer traces (layer_record_<model>/): per-layer "
                   "input bit density and cell density")
    g.add_argument("--activity-model", metavar="MODEL", help="measure per-layer activity by running a torch model "
                   "(vgg8, resnet18, mlp, or package.module:factory) whose module names are the layer names")
    g.add_argument("--activity-data", metavar="DATA", help="data for --activity-model: random (default), digits, "
                   "or package.module:function returning a tensor, Dataset or DataLoader")


def _bounded(message: str, lines: int = 60) -> str:
    """An error message of bounded size: each line clipped, at most ``lines`` lines."""
    from .errors import clip

    parts = message.splitlines() or [""]
    shown = [clip(line, 600) for line in parts[:lines]]
    if len(parts) > lines:
        shown.append(f"... and {len(parts) - lines} more problems")
    return "\n".join(shown)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cimgraph", description="Compute-in-memory accelerator modeling")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], str], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    add("plugins", cmd_plugins, "list plugins with their versions and hooks")
    p = add("components", cmd_components, "list component kinds (fields, defaults, units), cells, technologies")
    p.add_argument("--cells", action="store_true", help="list memory cells")
    p.add_argument("--technologies", action="store_true", help="list technology nodes")
    p.add_argument("--kinds", action="store_true", help="list component kinds only")
    p.add_argument("--all", action="store_true", help="list everything (the default)")
    p.add_argument("--json", action="store_true")
    p = add("show", cmd_show, "show a netlist's validated hierarchy")
    p.add_argument("netlist")
    p.add_argument("--json", action="store_true")
    p = add("map", cmd_map, "map a network onto a chip and print the floorplan")
    p.add_argument("netlist")
    p.add_argument("--network", required=True, help="bundled name (vgg8, resnet18, mlp) or a NetWork.csv/.yaml file")
    p.add_argument("--method", choices=("conventional", "novel"), default=None)
    p = add("run", cmd_run, "evaluate a network on a chip: area, latency, energy, efficiency")
    p.add_argument("netlist")
    p.add_argument("--network", required=True)
    p.add_argument("--method", choices=("conventional", "novel"), default=None)
    p.add_argument("--schedule", choices=("pipeline", "layer"), default="pipeline")
    add_activity_arguments(p)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--csv", metavar="DIR")
    p.add_argument("--report", metavar="HTML")
    p = add("report", cmd_report, "render an HTML report from one result JSON, compare two, or a study store")
    p.add_argument("results", nargs="+")
    p.add_argument("-o", "--output", required=True)
    p = add("accuracy", cmd_accuracy, "simulate inference accuracy of a network on a chip")
    p.add_argument("netlist")
    p.add_argument("--model", default=None,
                   help="digits-cnn (default: trained here, seeded) or package.module:factory returning a torch module")
    p.add_argument("--data", default="digits",
                   help="digits (bundled) or package.module:function returning a Dataset, DataLoader or batches")
    p.add_argument("--batches", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fast", action="store_true", help="fold the input-bit loop where the ADC cannot clip")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="an effect or setting, repeatable: variation=0.1, read_noise=0.02, output_noise=0.01, "
                        "drift=1e4,0.1,random, stuck_at=0.01,0.01, memory_states=levels.csv, adc_bits=4, "
                        "adc=nonlinear, profile=neurosim, parallel_read=64, input_calibration=entropy, "
                        "output_noise_file=noise.csv")
    p = add("train", cmd_train, "simulate on-chip training accuracy (device update model, WAGE, V2 or POPU)")
    p.add_argument("netlist")
    p.add_argument("--model", default=None, help="digits-cnn (default), digits-mlp or package.module:factory")
    p.add_argument("--data", default="digits")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--scheme", choices=("v2", "popu"), default="v2")
    p.add_argument("--momentum", type=float, default=None, help="gamma (seed 002: 0.9); alpha = 0.1")
    p.add_argument("--adc", choices=("none", "approx", "exact"), default="none")
    p.add_argument("--adc-bits", type=int, default=None, help="default: the netlist's subarray ADC")
    for width in ("weight", "activate", "error", "grad"):
        p.add_argument(f"--wl-{width}", type=int, default=None if width in ("weight", "activate") else -1,
                       help="bits, -1 = float" + (" (default: netlist precision)" if width in ("weight", "activate")
                                                  else " (default)"))
    p.add_argument("--popu-mode", choices=("LTP_only", "LTD_only", "LTPLTD_both"), default="LTP_only")
    p.add_argument("--update-max", type=float, default=0.01, help="POPU: largest change per step, fraction of range")
    p.add_argument("--update-levels", type=int, default=None, help="POPU: default from cell pulse time and clock")
    p.add_argument("--refresh-every", type=int, default=100, help="POPU LTP_only/LTD_only: G+/G- pair refresh (0 = never)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda; falls back to CPU)")
    p.add_argument("--traces", metavar="DIR", help="write Weight_dist.csv and Delta_dist.csv here")
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="device model field, repeatable: nonlinearity=3 (LTP +3, LTD -3), nonlinearity_ltp=2, "
                        "levels=64, nonlinearity_d2d=0.5, sigma_c2c=0.01")
    p = add("sweep", cmd_sweep, "evaluate a netlist over a grid of parameter values")
    p.add_argument("netlist")
    p.add_argument("--network", required=True)
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=v1,v2,...")
    p.add_argument("--csv", metavar="FILE")
    p = add("explore", cmd_explore, "run a design study (sampled or optimised) into a resumable SQLite store")
    p.add_argument("study", nargs="?", help="study file (YAML, see docs/explore.md); omit to only export / pick")
    p.add_argument("--store", required=True, metavar="FILE.sqlite")
    p.add_argument("--workers", type=int, help="local processes (default: every core; 1 = serial)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786", help="a running Dask distributed scheduler")
    p.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster of N worker processes")
    p.add_argument("--batch", type=int, help="points per task (default: automatic)")
    p.add_argument("--export", metavar="FILE.csv|FILE.parquet")
    p.add_argument("--best", type=int, metavar="N", help="write the N best designs (Pareto fronts first)")
    p.add_argument("--write-netlists", metavar="DIR")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    from .schedule.training_run import add_parser

    add_parser(lambda name, help_text: add(name, cmd_train_ppa, help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        output = args.func(args)
    except CimgraphError as exc:
        message = _bounded(str(exc)).replace("\n", "\n  ")
        print(f"cimgraph {args.command}: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # an OS error no layer anticipated: still one clean line, exit 2
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"cimgraph {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if output:
        try:
            print(output)
        except BrokenPipeError:  # e.g. `cimgraph components | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
