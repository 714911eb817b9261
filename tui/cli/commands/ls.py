"""`mmtop ls`: the runs table, filtered, sorted and limited, in any output format."""

from __future__ import annotations

import argparse
import sys

from mmtop.tui import csv_out
from mmtop.tui.cli import formats, frames
from mmtop.tui.cli.common import format_for, is_stdout, is_tty, open_store, output
from mmtop.tui.cli.errors import EXIT_OK
from mmtop.tui.safe_text import clean


def selected(
    ns: argparse.Namespace, *, default_sort: tuple[str, ...] = (), fitted: bool = False
) -> frames.Flat:
    """The runs that --where picks, flattened, sorted, limited, with the --columns asked for
    (`fitted`: the terminal table's columns instead, see on_terminal)."""
    st = open_store(ns)
    table = getattr(ns, "format", None) in ("table", "md")
    runs = st.runs_keyed(where=ns.where)
    if fitted:
        runs = runs.select(frames.terminal_sources(runs.frame.columns, ns.sort or []))
    elif table and not ns.columns:
        runs = runs.select(frames.table_sources(runs.frame.columns, ns.sort or []))
    flat = frames.flatten_keyed(runs)
    flat = frames.sort_limit(flat, ns.sort or list(default_sort), ns.limit)
    if fitted:
        flat = flat.expanded()  # the column rule reads every column's values
        return flat.select(frames.terminal_columns(flat, ns.sort or []))
    return flat.select(frames.choose_columns(flat, ns.columns, default_table=table))


def on_terminal(ns: argparse.Namespace) -> bool:
    """The default table drawn on a terminal: its columns follow the app's rule and fit
    the width. --columns, other formats, pipes and files are left as they are."""
    return (
        getattr(ns, "format", None) == "table"
        and not ns.columns
        and is_stdout(getattr(ns, "output", None))
        and is_tty(sys.stdout)
    )


def write(flat: frames.Flat, fmt: str, path: str | None, *, fitted: bool = False) -> None:
    """Write a flat runs frame in `fmt` to FILE or stdout; `fitted`: the default terminal
    table, cut to the terminal's width by dropping the last columns."""
    if fmt != "table" or fitted:
        flat = flat.expanded()
    with output(path, binary_format="Parquet" if fmt == "parquet" else None) as out:
        if fmt == "csv":
            csv_out.write_csv(flat.frame, out)
        elif fmt == "parquet":
            formats.write_parquet(flat.frame, out)
        elif fmt in ("json", "jsonl"):
            formats.write_json(flat, out, lines=fmt == "jsonl")
        elif fmt == "md":
            formats.write_markdown(flat.frame, out)
        elif fitted:
            formats.write_fitted_table(flat.frame)
        else:
            formats.write_table(flat, out, to_terminal=is_stdout(path))


LS_FORMATS = ("table", "csv", "json", "jsonl", "md", "parquet")


def run(ns: argparse.Namespace) -> int:
    ns.format = format_for(ns.output, ns.format, LS_FORMATS, "table")
    if ns.quiet:
        ns.columns = "run_id"
    # Newest first, like `docker ps`: `--limit 5` shows the five latest runs.
    fitted = on_terminal(ns)
    flat = selected(ns, default_sort=("-created",), fitted=fitted)
    if ns.quiet:
        with output(ns.output) as out:
            ids = flat.frame["run_id"]
            out.writelines(f"{clean(run_id, single_line=True)}\n".encode() for run_id in ids)
        return EXIT_OK
    write(flat, ns.format, ns.output, fitted=fitted)
    return EXIT_OK
