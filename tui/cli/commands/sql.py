"""`mmtop sql "SELECT ..."`: SQL over the store's runs, metrics and system tables."""

from __future__ import annotations

import argparse

from mmtop.tui.cli import frames
from mmtop.tui.cli.commands.ls import LS_FORMATS, write
from mmtop.tui.cli.common import format_for, open_store
from mmtop.tui.cli.errors import EXIT_OK, UsageError


def run(ns: argparse.Namespace) -> int:
    from mmtop.store import sql
    from mmtop.store.errors import QueryError

    ns.format = format_for(ns.output, ns.format, LS_FORMATS, "table")
    st = open_store(ns)
    try:
        result = sql.query(st, ns.query)
    except QueryError as exc:
        raise UsageError(f"bad SQL query: {str(exc).removeprefix('SQL: ')}") from None
    write(frames.flatten(result), ns.format, ns.output)
    return EXIT_OK
