"""A study point: resolved into a job (netlist mapping, network, method, schedule, activity), keyed by a
hash of exactly those plus the cimgraph and plugin versions, and evaluated through the public API.

``evaluate_batch`` is what every engine runs (in this process, a pool worker or a Dask worker): it
checks that the worker has the client's plugins, then evaluates each job with memoised models.
"""
from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import attrs

from ..errors import CimgraphError, PluginError
from ..memo import Memo, memoised
from ..schedule.sweep import set_path
from .study import SPECIAL_AXES, Study

METRIC_NAMES = ("area", "energy", "latency", "period", "dynamic_energy", "leakage_power", "tops", "tops_per_w",
                "tops_per_mm2", "fps", "utilization")


@attrs.frozen
class Job:
    key: str
    seq: int                     # position in the study's sample order
    values: dict[str, Any]       # the point: a value per axis
    netlist: dict[str, Any]      # the resolved netlist mapping
    file: str                    # where its base came from (for error messages)
    network: Any                 # a cimgraph Network
    method: str | None
    schedule: str
    activity: tuple[float | None, float | None] | None
    accuracy: dict[str, Any] | None = None   # options of the accuracy simulation (None: not simulated)


def versions() -> dict[str, str]:
    """cimgraph's version and every installed plugin's version (part of each point's key)."""
    from .. import __version__
    from ..plugins import default_registry

    return {"cimgraph": __version__, **dict(sorted(default_registry().plugin_versions.items()))}


def network_digest(network: Any) -> str:
    return _digest({"name": network.name, "layers": [attrs.asdict(layer) for layer in network.layers]})


def resolve(study: Study, values: dict[str, Any], seq: int, networks: dict[str, Any],
            digests: dict[str, str], installed: dict[str, str]) -> Job:
    """The job of one point (``networks``: loaded networks by name, ``digests`` their hashes)."""
    bases = dict(study.netlists)
    file = values.get("netlist", study.netlists[0][0])
    netlist = copy.deepcopy(bases[file])
    for name, value in values.items():
        if name not in SPECIAL_AXES:
            set_path(netlist, name, value)
    network = values.get("network", study.networks[0])
    activity = None  # (input, weight); None = the evaluator's default for that factor
    if any(name.startswith("activity") for name in values):
        both = values.get("activity")
        activity = tuple(None if v is None else float(v)
                         for v in (values.get("activity.input", both), values.get("activity.weight", both)))
    method, schedule = values.get("method"), values.get("schedule", "pipeline")
    identity = {"netlist": netlist, "network": digests[network], "method": method, "schedule": schedule,
                "activity": activity, "versions": installed}
    if study.accuracy is not None:
        identity["accuracy"] = study.accuracy
    return Job(_digest(identity), seq, dict(values), netlist, file, networks[network], method, schedule, activity,
               study.accuracy)


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_WORKER_MEMO = Memo()  # one per process: it lives as long as the worker, across batches


def forget() -> None:
    """Drop this process's memoised models and costs (benchmarks start each engine cold)."""
    _WORKER_MEMO.clear()


def evaluate_batch(jobs: list[Job], plugins: dict[str, str]) -> list[tuple[str, dict[str, float] | None, str | None]]:
    """Evaluate jobs; per job (key, metrics, None) or (key, None, error message). Raises PluginError
    if this worker lacks a plugin the client has (or has another version of it)."""
    check_plugins(plugins)
    from .. import evaluate, load_netlist, map_network
    from ..schedule.activity import Activity

    out = []
    with memoised(_WORKER_MEMO):
        for job in jobs:
            try:
                chip = load_netlist(job.netlist, file=job.file)
                mapping = map_network(chip, job.network, method=job.method)
                activity = None if job.activity is None else _activity(Activity.uniform(len(mapping.layers)),
                                                                       *job.activity)
                result = evaluate(mapping, schedule=job.schedule, activity=activity)
                metrics = {m: float(getattr(result, m)) for m in METRIC_NAMES}
                if job.accuracy is not None:
                    metrics["accuracy"] = accuracy(chip, job.accuracy)
            except CimgraphError as exc:
                out.append((job.key, None, str(exc)))
            except Exception as exc:  # a bug, not bad input: kept with the point so the study goes on
                out.append((job.key, None, f"unexpected {type(exc).__name__} in cimgraph or a plugin: {exc}"))
            else:
                out.append((job.key, metrics, None))
    return out


def accuracy(chip: Any, options: dict[str, Any]) -> float:
    """CIM top-1 accuracy (a fraction) of the accuracy plugin's model mapped onto ``chip``, with the study's
    cheap settings (few test batches, the fast input-cycle fold); the chip's own cell variation applies."""
    from ..accuracy.run import simulate_accuracy

    model = None
    if options.get("model"):
        from ..accuracy.data import load_dataset
        from ..accuracy.run import load_model

        model, _ = load_model(options["model"], load_dataset(options["data"], options["seed"]), options["seed"])
    return float(simulate_accuracy(model, options["data"], netlist=chip, batches=options["batches"],
                                   batch_size=options["batch_size"], fast=options["fast"], seed=options["seed"],
                                   progress=False).cim)


def _activity(default: Any, input_activity: float | None, weight_density: float | None) -> Any:
    """The default activity with the factors a point sets replaced (the same value on every layer)."""
    import numpy as np

    return type(default)(default.input if input_activity is None else np.full_like(default.input, input_activity),
                         default.weight if weight_density is None else np.full_like(default.weight, weight_density))


def check_plugins(expected: dict[str, str]) -> None:
    """Raise PluginError naming every plugin of ``expected`` (name -> version) missing or different here."""
    import socket

    have = versions()
    missing = [f"{name} {version}" for name, version in expected.items() if name not in have]
    other = [f"{name} (client {version}, worker {have[name]})" for name, version in expected.items()
             if name in have and have[name] != version]
    if missing or other:
        parts = ([f"missing plugin(s): {', '.join(missing)}"] if missing else []) + \
                ([f"different version(s): {', '.join(other)}"] if other else [])
        raise PluginError(f"worker {socket.gethostname()}: {'; '.join(parts)}; install the same cimgraph "
                          f"plugins on every worker as on the client (`cimgraph plugins` lists them)")
