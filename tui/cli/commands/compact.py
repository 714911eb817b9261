"""`mmtop compact`: merge the metric parts of finished runs (safe while readers are open)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from mmtop.tui.cli import cells
from mmtop.tui.cli.common import open_store, output
from mmtop.tui.cli.errors import EXIT_OK


def run(ns: argparse.Namespace) -> int:
    from mmtop import store

    st = open_store(ns)  # checks the folder and the store marker first
    url = getattr(st, "url", None)
    if isinstance(url, str):
        # On object storage only the run index is folded (store/s3/fold.py).
        from mmtop.store.compaction import CompactReport
        from mmtop.store.s3.fold import fold

        report = _plain(CompactReport(index_runs=fold(url)))
    else:
        report = _plain(store.compact(st.root))
    with output(None) as out:
        if ns.format == "json":
            out.write((cells.json_dumps(report) + "\n").encode())
        else:
            out.write(as_text(report).encode())
    return EXIT_OK


def _plain(report: Any) -> Any:
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return dataclasses.asdict(report)
    if isinstance(report, dict):
        return report
    return {"result": report}


def as_text(report: Any) -> str:
    lines: list[str] = []
    for key, value in report.items():
        if isinstance(value, list):
            lines.append(f"{cells.human(key)}: {len(value)}")
            lines.extend(f"  {cells.human(v)}" for v in value)
        else:
            lines.append(f"{cells.human(key)}: {cells.human(value)}")
    return "\n".join(lines) + "\n"
