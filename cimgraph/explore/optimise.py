"""The ``optuna`` sampler: multi-objective search by Optuna's TPE (Bergstra et al. 2011; Ozaki et al. 2022,
multi-objective TPE) or NSGA-II (Deb et al. 2002), within a budget of points.

Trials are asked in rounds of one batch per worker, evaluated on the engine, stored, and told back.
Constraints go to Optuna as constraint values (<= 0 feasible; ``Trial.set_constraint``, or
``constraints_func`` before Optuna 5) so infeasible points steer the
search without being dropped; failed points are told as FAIL. On a rerun the store's points are told
to a fresh Optuna study first, so the search resumes where it stopped and the budget counts them.
"""
from __future__ import annotations

from typing import Any

from tqdm import tqdm

from .points import network_digest, resolve
from .run import evaluate_jobs
from .store import Store
from .study import Axis, Study


def distribution(axis: Axis) -> Any:
    import optuna.distributions as d

    if axis.discrete:
        return d.CategoricalDistribution(list(axis.values))
    if axis.integer:
        return d.IntDistribution(int(round(axis.low)), int(round(axis.high)), log=axis.log)
    return d.FloatDistribution(axis.low, axis.high, log=axis.log)


def _violations(study: Study, metrics: dict[str, float]) -> list[float]:
    """One value per constraint bound: > 0 by how much (relative) it is broken, <= 0 when it holds."""
    out = []
    for c in study.constraints:
        value = metrics[c.metric]
        if c.high is not None:
            out.append((value - c.high) / abs(c.high or 1.0))
        if c.low is not None:
            out.append((c.low - value) / abs(c.low or 1.0))
    return out


def _tell(ostudy: Any, trial: Any, row: dict[str, Any], study: Study) -> None:
    import optuna

    if row["metrics"] is None:
        ostudy.tell(trial, state=optuna.trial.TrialState.FAIL)
        return
    if study.constraints:
        if hasattr(trial, "set_constraint"):  # Optuna >= 5
            for i, value in enumerate(_violations(study, row["metrics"])):
                trial.set_constraint(f"c{i}", value)
        else:
            trial.set_user_attr("constraints", _violations(study, row["metrics"]))
    ostudy.tell(trial, [row["metrics"][name] for name, _ in study.objectives])


def optimise(study: Study, store: Store, engine: Any, networks: dict[str, Any], installed: dict[str, str],
             progress: bool = True, batch: int | None = None) -> list[dict[str, Any]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    constraints = None  # Optuna >= 5 takes constraints from Trial.set_constraint; before, from a function
    if study.constraints and not hasattr(optuna.trial.Trial, "set_constraint"):
        constraints = lambda t: t.user_attrs.get("constraints", [])  # noqa: E731
    if study.algorithm == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=study.seed, constraints_func=constraints,
                                                population_size=max(4, min(50, (study.samples or 8) // 5)))
    else:
        sampler = optuna.samplers.TPESampler(seed=study.seed, multivariate=True, constraints_func=constraints,
                                             n_startup_trials=max(4, min(10, (study.samples or 10) // 5)))
    ostudy = optuna.create_study(directions=["minimize" if s == "min" else "maximize" for _, s in study.objectives],
                                 sampler=sampler)
    dists = {axis.name: distribution(axis) for axis in study.axes}
    digests = {name: network_digest(net) for name, net in networks.items()}
    stored = {row["key"]: row for row in store.rows()}
    told = 0
    for row in sorted(stored.values(), key=lambda r: r["seq"]):  # resume: replay what the store has
        if set(row["axes"]) != set(dists) or not all(_inside(study.axis(k), v) for k, v in row["axes"].items()):
            continue
        if told >= (study.samples or 0):
            break
        _tell(ostudy, _fixed(ostudy, row["axes"], dists), row, study)
        told += 1
    # trials that asked for a design already stored count against the budget too
    progress_key = f"optuna_trials:{study.name}"
    told = max(told, min(store.meta(progress_key, 0), study.samples or 0))
    new: list[dict[str, Any]] = []
    per_round = max(1, engine.workers) * (batch or study.batch or 4)
    with tqdm(total=study.samples, initial=told, desc=study.name, unit="pt", disable=not progress,
              dynamic_ncols=True) as bar:
        while told < (study.samples or 0):
            trials = [ostudy.ask(dists) for _ in range(min(per_round, study.samples - told))]
            jobs = [resolve(study, dict(t.params), t.number, networks, digests, installed) for t in trials]
            rows = evaluate_jobs(jobs, study, store, engine, installed, batch=batch or study.batch)
            new.extend(rows)
            stored.update({row["key"]: row for row in rows})
            for trial, job in zip(trials, jobs):
                _tell(ostudy, trial, stored[job.key], study)
            told += len(trials)
            store.set_meta(progress_key, told)
            bar.update(len(trials))
    return new


def _inside(axis: Axis, value: Any) -> bool:
    if axis.discrete:
        return value in axis.values
    return isinstance(value, (int, float)) and axis.low <= value <= axis.high


def _fixed(ostudy: Any, params: dict[str, Any], dists: dict[str, Any]) -> Any:
    """A trial with the given parameters (for replaying stored points into Optuna)."""
    ostudy.enqueue_trial(params, skip_if_exists=False)
    return ostudy.ask(dists)
