"""Engines run batches of jobs and yield each batch's results as it completes.

The interface is one method, ``results(function, batches)`` (an iterator), plus ``close()``:

- ``SerialEngine``: in this process (the baseline, and `cimgraph sweep`);
- ``PoolEngine``: a local process pool (``concurrent.futures``), every core by default;
- ``DaskEngine``: Dask distributed, either an existing scheduler (``tcp://HOST:8786``) or a
  ``LocalCluster`` of N single-threaded worker processes started here.

Workers need only cimgraph (and the same plugins) installed: batches carry plain data.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Iterator

from ..errors import CimgraphError


class SerialEngine:
    name = "serial"
    workers = 1

    def results(self, function: Callable[..., Any], batches: Iterable[tuple]) -> Iterator[Any]:
        for args in batches:
            yield function(*args)

    def close(self) -> None:
        pass


class PoolEngine:
    """A local process pool. Workers are forked (they start in milliseconds) unless this process runs other
    threads (e.g. a Dask client's), which a fork could catch holding a lock: then a fork server starts them."""

    name = "pool"

    def __init__(self, workers: int | None = None):
        import concurrent.futures
        import multiprocessing
        import threading

        self.workers = workers or os.cpu_count() or 1
        methods = multiprocessing.get_all_start_methods()
        # tqdm's monitor thread only sleeps and the workers never draw a bar: it does not count
        others = [t for t in threading.enumerate() if t is not threading.main_thread() and t.name != "tqdm_monitor"]
        method = "fork" if "fork" in methods and not others else "forkserver" if "forkserver" in methods else None
        self.pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method))

    def results(self, function: Callable[..., Any], batches: Iterable[tuple]) -> Iterator[Any]:
        import concurrent.futures

        futures = [self.pool.submit(function, *args) for args in batches]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield _result(future)
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine:
    """Dask distributed: ``address`` of a running scheduler, or ``local`` worker processes on 127.0.0.1."""

    name = "dask"

    def __init__(self, address: str | None = None, local: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise CimgraphError("the Dask engine needs dask[distributed]: pip install 'dask[distributed]'") from None
        self.cluster = None
        try:
            if address:
                self.client = Client(address, timeout=30)
            else:
                self.cluster = LocalCluster(n_workers=local or 1, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=None, silence_logs=40)
                self.client = Client(self.cluster)
        except OSError as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise CimgraphError(f"cannot reach the Dask scheduler {address or 'LocalCluster'}: {exc}") from None
        self.workers = max(1, sum(self.client.nthreads().values()))

    def results(self, function: Callable[..., Any], batches: Iterable[tuple]) -> Iterator[Any]:
        from distributed import as_completed

        futures = [self.client.submit(function, *args, pure=False) for args in batches]
        try:
            for future in as_completed(futures):
                yield _result(future)
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _result(future: Any) -> Any:
    """A finished task's value; a worker that died (or a pool that broke) is a CimgraphError, not a traceback.
    The points already committed stay in the store, so rerunning resumes."""
    try:
        return future.result()
    except CimgraphError:
        raise
    except Exception as exc:
        raise CimgraphError(f"a worker failed ({type(exc).__name__}: {exc}); rerun to resume from the store") from exc


def make_engine(workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None,
                serial: bool = False) -> Any:
    """The engine the command line asks for (default: a process pool over every core)."""
    if sum(x is not None and x is not False for x in (workers, scheduler, dask_local)) > 1:
        raise CimgraphError("give at most one of --workers, --scheduler, --dask-local")
    if serial or workers == 1:
        return SerialEngine()
    if scheduler or dask_local:
        return DaskEngine(address=scheduler, local=dask_local)
    return PoolEngine(workers)
