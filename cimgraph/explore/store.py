"""The study store: one SQLite file (stdlib ``sqlite3``), every point committed as it arrives.

A point's primary key is the hash of its resolved inputs and the versions (points.py), and rows are
inserted with ``INSERT OR IGNORE``: a rerun skips keys already there, and a run killed at any moment
(SIGKILL included) loses only the points in flight; SQLite's journal keeps each commit atomic.
"""
from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from typing import Any, Iterable

from ..errors import CimgraphError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,     -- hash of netlist, network, method, schedule, activity and versions
    seq INTEGER NOT NULL,     -- position in the study's sample order
    status TEXT NOT NULL,     -- ok | infeasible | error
    axes TEXT NOT NULL,       -- JSON: the point's value per axis
    metrics TEXT,             -- JSON: figures of merit in SI units (null for errors)
    error TEXT,               -- the project's error message
    violated TEXT,            -- the constraints an infeasible point breaks
    netlist TEXT NOT NULL,    -- JSON: the resolved netlist mapping
    method TEXT, schedule TEXT, activity TEXT,
    created REAL NOT NULL
);
"""


class Store:
    """Points of one or more runs of a study, in one SQLite file (``:memory:`` for a throwaway store)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise CimgraphError(f"{self.path}: not a cimgraph study store ({exc})") from None
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- metadata ------------------------------------------------------------------------------
    def set_meta(self, name: str, value: Any) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, json.dumps(value)))

    def meta(self, name: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    # -- points --------------------------------------------------------------------------------
    def done(self) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT key FROM points")}

    def add(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert points (dicts with the column names) in one transaction; returns how many were new."""
        now = time.time()
        values = [(r["key"], r["seq"], r["status"], json.dumps(r["axes"]),
                   None if r.get("metrics") is None else json.dumps(r["metrics"]), r.get("error"),
                   r.get("violated"), json.dumps(r["netlist"], default=str), r.get("method"), r.get("schedule"),
                   None if r.get("activity") is None else json.dumps(r["activity"]), now) for r in rows]
        with self.db:
            before = self.db.total_changes
            self.db.executemany("INSERT OR IGNORE INTO points VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", values)
            return self.db.total_changes - before

    def rows(self, with_netlist: bool = False) -> list[dict[str, Any]]:
        """Every point in sample order, JSON decoded."""
        columns = "key, seq, status, axes, metrics, error, violated, method, schedule, activity" + \
                  (", netlist" if with_netlist else "")
        out = []
        for row in self.db.execute(f"SELECT {columns} FROM points ORDER BY seq, key"):
            item = dict(zip([c.strip() for c in columns.split(",")], row))
            for name in ("axes", "metrics", "activity", "netlist"):
                if item.get(name) is not None:
                    item[name] = json.loads(item[name])
            out.append(item)
        return out

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM points").fetchone()[0]


def flat_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat record per point: axes, status, metrics (SI), error (for CSV / Parquet)."""
    out = []
    for row in rows:
        flat = {"key": row["key"], "seq": row["seq"], **row["axes"], "status": row["status"]}
        flat.update(row["metrics"] or {})
        flat["violated"] = row.get("violated") or ""
        flat["error"] = row["error"] or ""
        out.append(flat)
    return out


def export(store: Store, path: str) -> str:
    """Write the store's points to ``path`` (.csv, or .parquet when pyarrow is installed)."""
    records = flat_rows(store.rows())
    columns = list(dict.fromkeys(k for r in records for k in r))
    if os.path.abspath(path) == os.path.abspath(store.path):
        raise CimgraphError(f"{path}: refusing to overwrite the store with its export")
    if path.endswith(".parquet"):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise CimgraphError("Parquet export needs pyarrow: pip install 'cimgraph[parquet]' (or export .csv)") \
                from None
        table = pa.table({c: _column([r.get(c) for r in records]) for c in columns})
        pq.write_table(table, path)
    elif path.endswith(".csv"):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(records)
    else:
        raise CimgraphError(f"{path}: export to .csv or .parquet")
    return f"wrote {path}: {len(records)} points"


def _column(values: list[Any]) -> list[Any]:
    """One Parquet column type: numbers stay numbers (ints become floats next to floats), any other
    mix (an axis of 5 and 'six') becomes text."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float} and len(kinds) == 2:
        return [None if v is None else float(v) for v in values]
    if len(kinds) > 1:
        return [None if v is None else str(v) for v in values]
    return values
