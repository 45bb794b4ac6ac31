"""`cimgraph train-ppa`: netlist + network + scheme -> per-epoch training PPA (text, JSON, CSV, HTML)."""
from __future__ import annotations

import os
from typing import Any

from ..output import check_outputs
from .run import load_network, write_outputs
from .training_result import TRAINING_CSV_FILES, format_training, write_training_csv


def training_command(args: Any) -> str:
    from ..mapping import map_network
    from ..netlist import load_netlist
    from ..workload.training import TrainingSettings
    from ..workload.training_traces import read_traces
    from .training import evaluate_training
    from .activity import activity_for
    from .training_update import PopuSettings

    popu = args.scheme == "popu"
    batch = args.batch if args.batch is not None else (1 if popu else 200)
    iterations = args.iterations if args.iterations is not None else (50000 if popu else 250)
    settings = TrainingSettings(batch=batch, iterations=iterations, epochs=args.epochs, error_bits=args.error_bits,
                                gradient_bits=args.gradient_bits, delta_bits=args.delta_bits,
                                learning_rate=args.learning_rate)
    csv_paths = [os.path.join(args.csv, name) for name in TRAINING_CSV_FILES] if args.csv else []
    traced = sorted(os.path.join(args.traces, n) for n in os.listdir(args.traces)) \
        if args.traces and os.path.isdir(args.traces) else []
    check_outputs([args.json, args.report, *csv_paths], [args.netlist, *traced,
                                                          args.network if os.path.isfile(args.network) else None])
    chip = load_netlist(args.netlist)
    mapping = map_network(chip, _network(args.network), method=args.method)
    traces = read_traces(args.traces) if args.traces else None
    activity = activity_for(mapping, args.activity, None, args.activity_model, args.activity_data)
    result = evaluate_training(mapping, scheme=args.scheme, settings=settings, traces=traces, activity=activity,
                               popu=PopuSettings(mode=args.popu_mode, electromigration=args.electromigration,
                                                 refresh_every=args.popu_refresh),
                               buffer_constraint=args.buffer_overhead)
    from ..report.training import write_training_report

    notes = write_outputs(result, args, write_training_csv, lambda r, path: write_training_report([r], path))
    return "\n".join([format_training(result)] + notes)


def add_parser(add: Any) -> None:
    """The `train-ppa` subcommand's arguments (kept here so cli.py stays small)."""
    p = add("train-ppa", "on-chip training PPA per epoch: DNN+NeuroSim V2 (WG unit + DRAM) or NeuroTorch POPU")
    p.add_argument("netlist")
    p.add_argument("--network", required=True)
    p.add_argument("--scheme", choices=("neurosim-v2", "popu"), default="neurosim-v2")
    p.add_argument("--batch", type=int, default=None, help="batch size (default 200; popu: 1)")
    p.add_argument("--iterations", type=int, default=None, help="iterations per epoch (default 250; popu: 50000)")
    p.add_argument("--epochs", type=int, default=1)
    for name in ("error", "gradient", "delta"):
        p.add_argument(f"--{name}-bits", type=int, default=8, help=f"{name} precision (default 8)")
    p.add_argument("--learning-rate", type=float, default=1.0, metavar="LR",
                   help="WAGE Q_G learning rate in (0, 1] for the update without --traces (default 1)")
    p.add_argument("--traces", metavar="DIR", help="folder with Delta_dist.csv (and Weight_dist.csv)")
    p.add_argument("--method", choices=("conventional", "novel"), default=None)
    p.add_argument("--activity", metavar="input=F,weight=F", help="input bit density and mean cell level per layer")
    p.add_argument("--activity-model", metavar="MODEL", help="measure per-layer activity with a torch model")
    p.add_argument("--activity-data", metavar="DATA", help="data for --activity-model (default random)")
    p.add_argument("--popu-mode", choices=("LTP_only", "LTD_only", "LTPLTD_both"), default="LTP_only")
    p.add_argument("--popu-refresh", type=int, default=100, metavar="N",
                   help="LTP_only / LTD_only: refresh the G+/G- pairs every N updates (0 = never; default 100)")
    p.add_argument("--electromigration", choices=("serialise", "error"), default="serialise",
                   help="when an array line would exceed the electromigration limit during a POPU update")
    p.add_argument("--buffer-overhead", type=float, default=1.0, metavar="N",
                   help="bufferOverHeadConstraint: gradient buffer up to N x the inference global buffer (default 1)")
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--csv", metavar="DIR")
    p.add_argument("--report", metavar="HTML")


def _network(name: str):
    """A bundled network or NetWork.csv, or a model `cimgraph train --model` trains (digits-mlp, digits-cnn,
    package.module:factory): then the network it mapped, whose layer names its trace files carry."""
    from ..training import BUNDLED_MODELS

    if name in BUNDLED_MODELS or (":" in name and not os.path.exists(name)):
        from ..training.loop import model_network

        return model_network(name)
    return load_network(name)
