"""`mmtop ls`: the runs table, filtered, sorted and limited, in any output format."""

from __future__ import annotations

import argparse

from mmtop.tui import csv_out
from mmtop.tui.cli import formats, frames
from mmtop.tui.cli.common import is_stdout, open_store, output
from mmtop.tui.cli.errors import EXIT_OK
from mmtop.tui.safe_text import clean


def selected(ns: argparse.Namespace, *, default_sort: tuple[str, ...] = ()) -> frames.Flat:
    """The runs that --where picks, flattened, sorted, limited, with the --columns asked for."""
    st = open_store(ns)
    table = getattr(ns, "format", None) in ("table", "md")
    runs = st.runs(where=ns.where)
    if table and not ns.columns:
        runs = runs.select(frames.table_sources(runs.columns, ns.sort or []))
    flat = frames.flatten(runs)
    flat = frames.sort_limit(flat, ns.sort or list(default_sort), ns.limit)
    return flat.select(frames.choose_columns(flat, ns.columns, default_table=table))


def write(flat: frames.Flat, fmt: str, path: str | None) -> None:
    """Write a flat runs frame in `fmt` to FILE or stdout."""
    with output(path, binary_format="Parquet" if fmt == "parquet" else None) as out:
        if fmt == "csv":
            csv_out.write_csv(flat.frame, out)
        elif fmt == "parquet":
            formats.write_parquet(flat.frame, out)
        elif fmt in ("json", "jsonl"):
            formats.write_json(flat, out, lines=fmt == "jsonl")
        elif fmt == "md":
            formats.write_markdown(flat.frame, out)
        else:
            formats.write_table(flat.frame, out, to_terminal=is_stdout(path))


def run(ns: argparse.Namespace) -> int:
    if ns.quiet:
        ns.columns = "run_id"
    # Newest first, like `docker ps`: `--limit 5` shows the five latest runs.
    flat = selected(ns, default_sort=("-created",))
    if ns.quiet:
        with output(ns.output) as out:
            ids = flat.frame["run_id"]
            out.writelines(f"{clean(run_id, single_line=True)}\n".encode() for run_id in ids)
        return EXIT_OK
    write(flat, ns.format, ns.output)
    return EXIT_OK
