"""Run a study: sample its points, skip what the store has, evaluate the rest in batches on an engine,
commit each batch as it arrives, and show progress (done / total, rate, ETA)."""
from __future__ import annotations

import math
from typing import Any, Iterable

from tqdm import tqdm

from .points import Job, evaluate_batch, network_digest, resolve, versions
from .samplers import points
from .store import Store
from .study import Study


def load_networks(study: Study, networks: dict[str, Any] | None = None) -> dict[str, Any]:
    from ..schedule.run import load_network

    return networks or {name: load_network(name) for name in study.networks}


def batch_size(todo: int, workers: int, requested: int | None = None) -> int:
    """Points per task: large enough that scheduling overhead stays small (<= 64), small enough that
    every worker gets about eight tasks (load balance, and little lost in flight on a kill)."""
    if requested:
        return requested
    return max(1, min(64, math.ceil(todo / max(1, workers * 8))))


def record(job: Job, metrics: dict[str, float] | None, error: str | None, study: Study) -> dict[str, Any]:
    """The store row of one evaluated job: ok, infeasible (with the broken constraints) or error."""
    violated = [str(c) for c in study.constraints if metrics is not None and not c.holds(metrics)]
    status = "error" if error is not None else "infeasible" if violated else "ok"
    return {"key": job.key, "seq": job.seq, "status": status, "axes": job.values, "metrics": metrics,
            "error": error, "violated": "; ".join(violated) or None, "netlist": job.netlist, "method": job.method,
            "schedule": job.schedule, "activity": job.activity}


def evaluate_jobs(jobs: Iterable[Job], study: Study, store: Store, engine: Any, installed: dict[str, str],
                  bar: Any = None, batch: int | None = None) -> list[dict[str, Any]]:
    """Evaluate ``jobs`` not yet in ``store``; commit each batch's rows as it arrives; return the new rows."""
    done = store.done()
    todo = list({job.key: job for job in jobs if job.key not in done}.values())
    size = batch_size(len(todo), engine.workers, batch or study.batch)
    batches = [(todo[i:i + size], installed) for i in range(0, len(todo), size)]
    by_key = {job.key: job for job in todo}
    new = []
    for results in engine.results(evaluate_batch, batches):
        rows = [record(by_key[key], metrics, error, study) for key, metrics, error in results]
        store.add(rows)
        new.extend(rows)
        if bar is not None:
            bar.update(len(rows))
    return new


def run_study(study: Study, store: Store, engine: Any, progress: bool = True, batch: int | None = None,
              networks: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate every point of ``study`` missing from ``store``; returns a summary (points, new, by status)."""
    installed = versions()
    networks = load_networks(study, networks)
    store.set_meta("study", study.describe())
    store.set_meta("versions", installed)
    if study.sampler == "optuna":
        from .optimise import optimise

        new = optimise(study, store, engine, networks, installed, progress=progress, batch=batch)
        total = study.samples
    else:
        digests = {name: network_digest(net) for name, net in networks.items()}
        jobs = [resolve(study, values, seq, networks, digests, installed) for seq, values in enumerate(points(study))]
        keys = {job.key for job in jobs}
        total = len(keys)
        already = len(keys & store.done())
        with tqdm(total=total, initial=already, desc=study.name, unit="pt", disable=not progress,
                  dynamic_ncols=True) as bar:
            new = evaluate_jobs(jobs, study, store, engine, installed, bar=bar, batch=batch)
    statuses = [row["status"] for row in new]
    return {"points": total, "new": len(new), **{s: statuses.count(s) for s in ("ok", "infeasible", "error")}}
