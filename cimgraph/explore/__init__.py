"""Design-space exploration above the public API (``load_netlist``, ``map_network``, ``evaluate``).

    study = load_study("studies/adc.yaml")
    with Store("adc.sqlite") as store:
        run_study(study, store, PoolEngine())          # or SerialEngine(), DaskEngine(local=2)
        front = ranked(store.rows(), study.objectives)  # Pareto fronts, best first

Pieces: study.py (the study file), samplers.py, optimise.py (Optuna), points.py (a point -> job ->
metrics), engines.py (serial, process pool, Dask), store.py (SQLite), pareto.py, report.py, command.py.
"""
from .engines import DaskEngine, PoolEngine, SerialEngine, make_engine
from .pareto import fronts, non_dominated, ranked
from .run import run_study
from .store import Store, export
from .study import Axis, Study, StudyError, load_study, validate_study

__all__ = ["Axis", "DaskEngine", "PoolEngine", "SerialEngine", "Store", "Study", "StudyError", "export", "fronts",
           "load_study", "make_engine", "non_dominated", "ranked", "run_study", "validate_study"]
