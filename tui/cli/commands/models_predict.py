"""`mmtop models predict REF INPUT -o OUTPUT [--target T]`: a batch deployment from a shell."""

from __future__ import annotations

import argparse
from pathlib import Path

from mmtop.tui.cli import cells
from mmtop.tui.cli.commands.models import refs, version_of
from mmtop.tui.cli.common import open_store, output
from mmtop.tui.cli.errors import EXIT_OK, CliError, UsageError


def run(ns: argparse.Namespace) -> int:
    from mmtop.store.monitoring.predict import run_batch
    from mmtop.store.registry.layout import check_target

    st = open_store(ns)
    version = version_of(st, ns.ref)
    source, dest = Path(ns.input), Path(ns.output)
    for path, what in ((source, "INPUT"), (dest, "-o OUTPUT")):
        if path.suffix.lower() not in (".parquet", ".csv"):
            raise UsageError(f"{what} must be a .parquet or .csv file: {str(path)!r}")
    if not source.is_file():
        raise CliError(f"no input file {str(source)!r}")
    target = ns.target
    if target is None:
        # NAME@prod names a deployment: its predictions are logged there.
        _, _, at = ns.ref.partition("@")
        target = at if at and at in st.deployed(version.name) else None
    with refs():
        if target is not None:
            check_target(target)
    # On object storage the predictions go to the bucket (store.monitor on the s3:// root).
    root = getattr(st, "url", None) or st.root
    try:
        done = run_batch(root, version, source, dest, target, ns.id_column)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    logged = f" (logged at {done['target']})" if done["target"] else ""
    line = f"{version.ref}: {done['rows']:,} predictions -> {dest}{logged}"
    with output(None) as out:
        out.write(cells.human(line).encode() + b"\n")
    return EXIT_OK
