"""`mmtop import SOURCE PATH`: bring MLflow, TensorBoard or W&B runs into the store, once each."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from mmtop.tui.cli import cells
from mmtop.tui.cli.common import output, remote_root, root_of
from mmtop.tui.cli.errors import EXIT_ERROR, EXIT_OK
from mmtop.tui.cli.progress import Progress


def run(ns: argparse.Namespace) -> int:
    from mmtop.store.importers.target import import_runs

    bar: Progress | None = None

    def progress(done: int, total: int, points: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress(total, f"importing from {ns.source}")
        bar.update(done, points, force=done == total)

    root: str | Path = remote_root(ns) or root_of(ns)
    try:
        report = import_runs(
            ns.source, ns.path, root, ns.experiment, progress, artifacts=ns.artifacts
        )
    finally:
        if bar is not None:
            bar.close()
    data: dict[str, Any] = {"root": str(root), **dataclasses.asdict(report)}
    with output(None) as out:
        if ns.format == "json":
            out.write((cells.json_dumps(data) + "\n").encode())
        else:
            out.write(as_text(data).encode())
    return EXIT_ERROR if report.problems else EXIT_OK


def as_text(data: dict[str, Any]) -> str:
    imported, skipped = len(data["imported"]), len(data["skipped"])
    lines = [
        f"{data['source']}: {data['found']} runs found, {imported} imported "
        f"({data['points']:,} points), {skipped} imported before, into {cells.human(data['root'])}"
    ]
    if data["left_out"]:
        kinds = ", ".join(f"{n:,} {cells.human(k)}" for k, n in sorted(data["left_out"].items()))
        lines.append(f"values left out (not numbers): {kinds}")
    if data["models"] or data["model_events"]:
        lines.append(
            f"models: {len(data['models'])} versions imported, "
            f"{data['model_events']} alias/tag/description changes recorded"
        )
    lines.extend(cells.human(n) for n in data.get("notes", []))
    if data["problems"]:
        lines.append(f"skipped ({len(data['problems'])}):")
        lines.extend(
            f"  {cells.human(p['path'])}: {cells.human(p['reason'])}" for p in data["problems"]
        )
    return "\n".join(lines) + "\n"
