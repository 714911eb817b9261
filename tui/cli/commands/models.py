"""`mmtop models ...`: list, show, compare, promote, deploy, retire, export and verify
versions."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mmtop.tui.cli import cells, frames
from mmtop.tui.cli.commands.ls import write
from mmtop.tui.cli.common import open_store, output
from mmtop.tui.cli.errors import EXIT_ERROR, EXIT_OK, CliError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from mmtop import store

# Shown in a table when the format is for people; files get every column.
TABLE_COLUMNS = ("name", "version", "aliases", "created", "flavour", "size", "run_id")
# The module of each action that is not in this one.
ELSEWHERE = {
    "show": "models_show",
    "lineage": "models_show",
    "diff": "models_show",
    "export": "models_export",
    "predict": "models_predict",
}


def run(ns: argparse.Namespace) -> int:
    module = ELSEWHERE.get(ns.action)
    if module is not None:
        result: int = importlib.import_module(f"mmtop.tui.cli.commands.{module}").run(ns)
        return result
    return int(globals()[f"_{ns.action}"](ns))


@contextmanager
def refs() -> Iterator[None]:
    """A malformed model reference or name is a usage error (exit 2)."""
    try:
        yield
    except ValueError as exc:
        if isinstance(exc, KeyError):  # store errors that are also lookups: exit 1
            raise
        raise UsageError(str(exc)) from None


def version_of(st: store.Store, ref: str) -> Any:
    with refs():
        return st.model(ref)


def _ls(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    with refs():
        df = st.models(ns.name)
    flat = frames.flatten(df)
    if ns.format in ("table", "md"):
        keep = [c for c in flat.frame.columns if c in TABLE_COLUMNS or c.startswith("metrics.")]
        flat = flat.select(keep)
    if ns.quiet:
        refs_ = [f"{n}/{v}" for n, v in df.select("name", "version").iter_rows()]
        with output(ns.output) as out:
            out.writelines(f"{cells.human(r)}\n".encode() for r in refs_)
        return EXIT_OK
    write(flat, ns.format, ns.output)
    return EXIT_OK


def _history(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    with refs():
        df = st.model_history(ns.name)
    return _write_events(ns, st, df)


def _alias(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    with refs():
        event = st.set_alias(ns.name, ns.alias, ns.number)
    _say(f"{ns.name}@{ns.alias}", event, f"already version {ns.number}")
    return EXIT_OK


def _unalias(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    with refs():
        event = st.remove_alias(ns.name, ns.alias)
    _say(f"{ns.name}@{ns.alias}", event, "was not set")
    return EXIT_OK


def _say(what: str, event: dict[str, Any] | None, unchanged: str) -> None:
    if event is None:
        text = f"{what}: {unchanged} (nothing recorded)\n"
    else:
        old = "(none)" if event["from"] is None else event["from"]
        new = "(removed)" if event["to"] is None else event["to"]
        text = f"{what}: {old} -> {new} (event {event['seq']})\n"
    with output(None) as out:
        out.write(cells.human(text.rstrip("\n")).encode() + b"\n")


def _verify(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    version = version_of(st, ns.ref)
    report = version.verify()
    result = {
        "ref": version.ref,
        "ok": report.ok,
        "checked": report.checked,
        "mismatched": report.mismatched,
        "missing": report.missing,
        "pointer": report.pointer,
    }
    with output(None) as out:
        if ns.format == "json":
            out.write((cells.json_dumps(result) + "\n").encode())
        else:
            state = "ok" if report.ok else "FAILED"
            ref = cells.human(version.ref)
            out.write(f"{ref}: {state}: {cells.human(str(report))}\n".encode())
    return EXIT_OK if report.ok else EXIT_ERROR


def _deploy(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    with refs():
        event = st.deploy(ns.ref, ns.target, note=ns.note)
        name = st.model(ns.ref).name
    _say(f"{name} at {ns.target}", event, "already serving there")
    return EXIT_OK


def _rollback(ns: argparse.Namespace) -> int:
    from mmtop.store.registry.layout import check_model_name, check_target

    st = open_store(ns)
    with refs():
        check_model_name(ns.name)
        check_target(ns.target)
    try:
        event = st.rollback(ns.name, ns.target, note=ns.note)
    except ValueError as exc:  # nothing to roll back to: the store's state, not the command
        raise CliError(str(exc)) from None
    _say(f"{ns.name} at {ns.target}", event, "")
    return EXIT_OK


def _undeploy(ns: argparse.Namespace) -> int:
    from mmtop.store.registry.layout import check_model_name, check_target

    st = open_store(ns)
    with refs():
        check_model_name(ns.name)
        check_target(ns.target)
    if not st.models(ns.name).height:
        from mmtop.store import ModelNotFoundError

        raise ModelNotFoundError(f"no model named {ns.name!r} in {st.root}")
    try:
        event = st.undeploy(ns.name, ns.target, note=ns.note)
    except ValueError as exc:  # nothing serves there: the store's state, not the command
        raise CliError(str(exc)) from None
    _say(f"{ns.name} at {ns.target}", event, "")
    return EXIT_OK


def _retire(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    version = version_of(st, ns.ref)
    with refs():
        events = st.retire(version.ref, ns.reason)
    lines = [
        f"{version.name} at {event['target']}: {event['from']} -> (removed) (event {event['seq']})"
        if event["action"] == "deployed"
        else f"{version.ref}: deprecated (event {event['seq']})"
        for event in events
    ] or [f"{version.ref}: serves nowhere and is deprecated already (nothing recorded)"]
    with output(None) as out:
        out.writelines(cells.human(line).encode() + b"\n" for line in lines)
    return EXIT_OK


def _deployments(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    with refs():
        df = st.deployments(ns.name)
        return _write_events(ns, st, df)


def _write_events(ns: argparse.Namespace, st: store.Store, df: pl.DataFrame) -> int:
    """A model's history or deployments: an unknown model is an error, an empty frame of a
    known one is not; a table leaves out the columns no event fills."""
    if not df.height and not st.models(ns.name).height:
        from mmtop.store import ModelNotFoundError

        raise ModelNotFoundError(f"no model named {ns.name!r} in {st.root}")
    if ns.format in ("table", "md") and df.height:
        df = df.drop([c for c in df.columns if df[c].null_count() == df.height])
    write(frames.flatten(df), ns.format, ns.output)
    return EXIT_OK
