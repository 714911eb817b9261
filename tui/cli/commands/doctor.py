"""`mmtop doctor`: what the store had to skip, and which runs crashed; exit 1 if any."""

from __future__ import annotations

import argparse
from typing import Any

import polars as pl

from mmtop.tui.cli import cells
from mmtop.tui.cli.common import open_store, output
from mmtop.tui.cli.errors import EXIT_ERROR, EXIT_OK

# Runs read per history pass of --deep: enough to amortise a scan, small enough for memory.
DEEP_BATCH = 64


def run(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    runs = st.runs()
    st.models()  # interrupted registrations and unreadable registry files join problems()
    st.datasets()  # the same for the dataset registry
    if ns.deep:
        _read_every_history(st, runs["run_id"].to_list())
    problems = [{"path": p.path, "reason": p.reason} for p in st.problems()]
    crashed = runs.filter(pl.col("status") == "crashed").select(
        "run_id", "experiment", "name", "created", "path"
    )
    report: dict[str, Any] = {
        "root": str(st.root),
        "runs": runs.height,
        "read_only": st.read_only,
        "problems": problems,
        "crashed": crashed.to_dicts(),
    }
    with output(None) as out:
        if ns.format == "json":
            out.write((cells.json_dumps(report) + "\n").encode())
        else:
            out.write(as_text(report, deep=ns.deep).encode())
    return EXIT_ERROR if problems or crashed.height else EXIT_OK


def _read_every_history(st: Any, ids: list[str]) -> None:
    # Reading the points is what finds corrupt or truncated Parquet parts; the store
    # records each skipped part in problems() instead of failing.
    for start in range(0, len(ids), DEEP_BATCH):
        batch = ids[start : start + DEEP_BATCH]
        st.history(batch).clear()
        st.history(batch, system=True).clear()


def as_text(report: dict[str, Any], *, deep: bool) -> str:
    mode = "read-only" if report["read_only"] else "writable"
    lines = [f"store {cells.human(report['root'])}: {report['runs']} runs, {mode}"]
    if report["problems"]:
        lines.append(f"\nskipped files ({len(report['problems'])}):")
        lines.extend(
            f"  {cells.human(p['path'])}: {cells.human(p['reason'])}" for p in report["problems"]
        )
    if report["crashed"]:
        lines.append(f"\ncrashed runs ({len(report['crashed'])}):")
        lines.extend(
            f"  {cells.human(r['run_id'])}  {cells.human(r['experiment'])}/{cells.human(r['name'])}"
            f"  created {cells.human(r['created'])}"
            for r in report["crashed"]
        )
    if not report["problems"] and not report["crashed"]:
        checked = "run folders and metric files" if deep else "run folders"
        lines.append(f"no problems found ({checked} checked)")
    elif not deep:
        lines.append("\n(--deep also reads every metric file to find corrupt parts)")
    return "\n".join(lines) + "\n"
