"""`mmtop export`: the runs table, or full metric histories streamed run batch by run batch."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl

from mmtop.tui.cli import frames, streams
from mmtop.tui.cli.commands import ls
from mmtop.tui.cli.common import format_for, open_store, output
from mmtop.tui.cli.errors import EXIT_OK, UsageError
from mmtop.tui.cli.progress import Progress

if TYPE_CHECKING:
    from mmtop import store

EXPORT_FORMATS = ("csv", "parquet", "json", "jsonl")
# Points fetched per store read; the batch of runs adapts to reach about this many.
BATCH_POINTS = 1_000_000
FIRST_BATCH_RUNS = 1
MAX_BATCH_RUNS = 512
RUN_COLUMNS = ("run_id", "experiment", "name")
WIDE_INDEX = ("run_id", "experiment", "name", "step", "time")
LONG_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "experiment": pl.String(),
    "name": pl.String(),
    "key": pl.String(),
    "step": pl.Int64(),
    "time": pl.Datetime("us", "UTC"),
    "value": pl.Float64(),
}


def run(ns: argparse.Namespace) -> int:
    dest = _destination(ns)
    fmt = format_for(dest, ns.format, EXPORT_FORMATS, "csv")
    if not ns.history:
        for flag, given in (("--keys", ns.keys), ("--wide", ns.wide), ("--system", ns.system)):
            if given:
                raise UsageError(f"{flag} needs --history")
        ls.write(ls.selected(ns), fmt, dest)
        return EXIT_OK
    if ns.columns:
        raise UsageError("--columns picks runs-table columns; with --history use --keys REGEX")
    key_re = _regex(ns.keys)
    st = open_store(ns)
    flat = frames.sort_limit(frames.flatten(st.runs(where=ns.where)), ns.sort, ns.limit)
    meta = flat.frame.select(RUN_COLUMNS).with_row_index("_order")
    ids = meta["run_id"].to_list()
    keys: list[str] | None = None
    if not ns.system:
        keys = [
            c.removeprefix("metrics.")
            for c in flat.frame.columns
            if c.startswith("metrics.") and flat.frame[c].null_count() < flat.frame.height
        ]
        keys = [k for k in keys if key_re is None or key_re.search(k)]
    elif ns.wide:
        keys = _system_keys(st, ids, key_re)
    wide_names = _wide_names(keys or []) if ns.wide else {}
    template = _wide_template(wide_names) if ns.wide else pl.DataFrame(schema=LONG_SCHEMA)
    progress = Progress(len(ids), "export")
    with output(dest, binary_format="Parquet" if fmt == "parquet" else None) as out:
        writer = streams.open_writer(fmt, out, template)
        points = 0
        for done, batch in _batches(st, ids, keys, ns.system, key_re):
            points += batch.height
            if batch.height:
                chunk = _wide(batch, meta, wide_names) if ns.wide else _long(batch, meta)
                writer.write(chunk)
                del chunk
            progress.update(done, points)
            del batch
        writer.close()
    progress.update(len(ids), points, force=True)
    progress.close()
    return EXIT_OK


def _destination(ns: argparse.Namespace) -> str:
    if ns.dest and ns.output not in (None, "-"):
        raise UsageError("give the output once: -o FILE or FILE, not both")
    return str(ns.dest or ns.output or "-")


def _regex(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--keys: bad regex {pattern!r} ({exc})") from None


def _batches(
    st: store.Store,
    ids: list[str],
    keys: list[str] | None,
    system: bool,
    key_re: re.Pattern[str] | None,
) -> Iterator[tuple[int, pl.DataFrame]]:
    """(runs done, points of the next batch of runs), sized to about BATCH_POINTS each."""
    if keys is not None and not keys:
        return  # --keys matched nothing: no point to read
    size = FIRST_BATCH_RUNS
    done = 0
    total_points = 0
    while done < len(ids):
        batch_ids = ids[done : done + size]
        df = st.history(batch_ids, keys=keys, system=system)
        if system and key_re is not None and df.height:
            wanted = [k for k in df["key"].unique().to_list() if key_re.search(k)]
            df = df.filter(pl.col("key").is_in(wanted))
        done += len(batch_ids)
        total_points += df.height
        per_run = total_points / done
        size = max(1, min(MAX_BATCH_RUNS, int(BATCH_POINTS / max(per_run, 1.0))))
        yield done, df


def _system_keys(st: store.Store, ids: list[str], key_re: re.Pattern[str] | None) -> list[str]:
    """System keys are not in the runs frame: a first pass over the runs collects them."""
    found: set[str] = set()
    for _, df in _batches(st, ids, None, True, key_re):
        found.update(df["key"].unique().to_list())
    return sorted(found)


def _long(batch: pl.DataFrame, meta: pl.DataFrame) -> pl.DataFrame:
    """Add experiment and name; keep the runs in the order asked for (the store sorts by id)."""
    ids = meta["run_id"]
    run = pl.col("run_id")
    frame = batch.with_columns(
        run.replace_strict(ids, meta["experiment"], return_dtype=pl.String).alias("experiment"),
        run.replace_strict(ids, meta["name"], return_dtype=pl.String).alias("name"),
    ).select(list(LONG_SCHEMA))
    present = batch["run_id"].unique(maintain_order=True)
    wanted = ids.filter(ids.is_in(present.implode()))
    if present.to_list() != wanted.to_list():
        order = run.replace_strict(ids, meta["_order"], return_dtype=pl.UInt32)
        frame = frame.sort(order, maintain_order=True)
    return frame


def _wide_names(keys: list[str]) -> dict[str, str]:
    """Column name per key; a key named like an index column gets a suffix."""
    names: dict[str, str] = {}
    for key in keys:
        name = key
        while name in WIDE_INDEX or name in names.values():
            name += " (metric)"
        names[key] = name
    return names


def _wide_template(names: dict[str, str]) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {c: LONG_SCHEMA[c] for c in WIDE_INDEX}
    schema.update({name: pl.Float64() for name in names.values()})
    return pl.DataFrame(schema=schema)


def _wide(batch: pl.DataFrame, meta: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """One row per run and step, one column per key (the last value logged at that step)."""
    batch = batch.filter(pl.col("key").is_in(list(names)))
    batch = batch.with_columns(pl.col("key").replace_strict(names, return_dtype=pl.String))
    values = batch.pivot(
        on="key", index=["run_id", "step"], values="value", aggregate_function="last"
    )
    times = batch.group_by(["run_id", "step"]).agg(pl.col("time").min())
    frame = values.join(times, on=["run_id", "step"]).join(meta, on="run_id", how="left")
    missing = [n for n in names.values() if n not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(n) for n in missing)
    frame = frame.sort(["_order", "step"])
    return frame.select([*WIDE_INDEX, *names.values()])
