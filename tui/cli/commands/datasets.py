"""`mmtop datasets ls | show | diff | lineage`: dataset versions, what changed, who used them."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mmtop.tui.cli import cells, frames
from mmtop.tui.cli.commands.ls import write
from mmtop.tui.cli.common import open_store, output
from mmtop.tui.cli.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from mmtop import store
    from mmtop.store.datasets import DatasetVersion

# Shown in a table when the format is for people; files get every column.
TABLE_COLUMNS = ("name", "version", "fingerprint", "kind", "rows", "columns", "created", "labels")
SHORT_FINGERPRINT = 19  # "sha256:" and 12 hex digits


def run(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    if ns.action == "ls":
        return _ls(st, ns)
    if ns.action == "diff":
        with refs():
            found = st.dataset_diff(ns.datasets[0], ns.datasets[1], key=_keys(ns.key))
        _emit(ns, found, diff_text(found))
        return EXIT_OK
    with refs():
        version = st.dataset(ns.dataset)
    if ns.action == "show":
        _emit(ns, as_json(version), show_text(version))
    else:
        lineage = st.dataset_lineage(version.ref)
        _emit(ns, lineage, lineage_text(lineage))
    return EXIT_OK


@contextmanager
def refs() -> Iterator[None]:
    """A malformed dataset reference is a usage error (exit 2); a missing one exits 1."""
    try:
        yield
    except ValueError as exc:
        if isinstance(exc, KeyError):
            raise
        raise UsageError(str(exc)) from None


def _keys(text: str | None) -> list[str] | None:
    return [k.strip() for k in text.split(",") if k.strip()] if text else None


def _emit(ns: argparse.Namespace, data: Any, text: str) -> None:
    with output(getattr(ns, "output", None)) as out:
        if ns.format == "json":
            out.write((cells.json_dumps(data) + "\n").encode())
        else:
            out.write(text.encode())


def _ls(st: store.Store, ns: argparse.Namespace) -> int:
    with refs():
        df = st.datasets(ns.name)
    if ns.quiet:
        with output(ns.output) as out:
            for name, number in df.select("name", "version").iter_rows():
                out.write(f"{cells.human(f'{name}@{number}')}\n".encode())
        return EXIT_OK
    if ns.format in ("table", "md"):
        import polars as pl

        df = df.select(TABLE_COLUMNS).with_columns(
            pl.col("fingerprint").str.slice(0, SHORT_FINGERPRINT)
        )
    write(frames.flatten(df), ns.format, ns.output)
    return EXIT_OK


def as_json(version: DatasetVersion) -> dict[str, Any]:
    return {"ref": version.ref, "path": str(version.path), **version.manifest}


def _pairs(lines: list[str], pairs: list[tuple[str, Any]], indent: int = 0) -> None:
    shown = [(k, cells.human(v)) for k, v in pairs if v not in (None, "", [], {})]
    width = max((len(k) for k, _ in shown), default=0)
    lines.extend(f"{' ' * indent}{k.ljust(width)}  {v}".rstrip() for k, v in shown)


def _count(value: Any) -> str | None:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else None


def show_text(version: DatasetVersion) -> str:
    m = version.manifest
    run = m.get("run") if isinstance(m.get("run"), dict) else {}
    lines: list[str] = []
    _pairs(
        lines,
        [
            ("dataset", version.ref),
            ("fingerprint", version.fingerprint),
            ("kind", version.kind),
            ("rows", _count(version.rows)),
            ("columns", _count(len(version.schema)) if version.schema else None),
            ("size", _count(m.get("size"))),
            ("files", _count(m.get("files"))),
            ("uri", version.uri),
            ("key", ", ".join(version.key)),
            ("labels", version.related("labels")),
            ("parent", version.related("parent")),
            ("description", m.get("description")),
            ("tags", m.get("tags")),
            ("created", m.get("created")),
            ("by", f"{m.get('user')}@{m.get('host')}"),
            ("run", f"{run.get('experiment')}/{run.get('run_id')}" if run else None),
            ("snapshot", m.get("snapshot")),
            ("path", str(version.path)),
        ],
    )
    if version.schema:
        lines += ["", "schema"]
        _pairs(lines, list(version.schema.items()), 2)
    return "\n".join(lines) + "\n"


def diff_text(d: dict[str, Any]) -> str:
    a, b = d["a"], d["b"]
    lines = [cells.human(f"{a} -> {b}: {'same data' if d['same'] else 'different data'}")]
    rows = d["rows"]
    if rows["a"] is not None or rows["b"] is not None:
        delta = f" ({rows['delta']:+,})" if rows["delta"] is not None else ""
        lines.append(f"rows     {_count(rows['a']) or '?'} -> {_count(rows['b']) or '?'}{delta}")
    schema = d["schema"]
    changes = [f"+ {c['name']} ({c['type']})" for c in schema["added"]]
    changes += [f"- {c['name']} ({c['type']})" for c in schema["removed"]]
    changes += [f"~ {c['name']}: {c['from']} -> {c['to']}" for c in schema["changed"]]
    if changes:
        lines += [
            cells.human(("schema   " if i == 0 else "         ") + c) for i, c in enumerate(changes)
        ]
    else:
        lines.append("schema   same columns and types")
    labels = d.get("labels") or {}
    if labels.get("a") != labels.get("b"):
        lines.append(cells.human(f"labels   {labels.get('a') or '-'} -> {labels.get('b') or '-'}"))
    lines += shift_lines(d.get("shift"))
    keyed = d.get("keyed")
    if keyed:
        key = ", ".join(keyed["key"])
        if "error" in keyed:
            lines.append(cells.human(f"rows by key {key}: {keyed['error']}"))
        else:
            lines.append(
                cells.human(
                    f"rows by key {key}: {keyed['added']:,} added, {keyed['removed']:,} removed, "
                    f"{keyed['changed']:,} changed, {keyed['unchanged']:,} unchanged"
                )
            )
            if keyed["changed_columns"]:
                per = ", ".join(f"{c} {n:,}" for c, n in keyed["changed_columns"].items())
                lines.append(cells.human(f"  changed columns: {per}"))
            for what in ("added", "removed", "changed"):
                shown = keyed["examples"][what]
                if shown:
                    more = " ..." if keyed[what] > len(shown) else ""
                    lines.append(cells.human(f"  {what}: {', '.join(map(str, shown))}{more}"))
    for note in d.get("notes") or []:
        lines.append(cells.human(f"note: {note}"))
    return "\n".join(lines) + "\n"


def shift_lines(rows: list[dict[str, Any]] | None) -> list[str]:
    """One summary line, then one line per drifted column with its distances."""
    if rows is None:
        return []
    drifted = [r for r in rows if r.get("drift")]
    if not drifted:
        return [f"shift    no column drifted (of {len(rows)})"]
    out = [f"shift    {len(drifted)} of {len(rows)} columns drifted"]
    width = max(len(str(r["column"])) for r in drifted)
    for r in drifted:
        found = [
            f"{k} {r[k]:.3g}" for k in ("psi", "wasserstein", "js") if isinstance(r.get(k), float)
        ]
        out.append(cells.human(f"  {str(r['column']).ljust(width)}  " + "  ".join(found)))
    return out


def lineage_text(lin: dict[str, Any]) -> str:
    lines = [cells.human(f"{lin['ref']}  {str(lin['fingerprint'])[:SHORT_FINGERPRINT]}")]
    by = lin.get("registered_by") or {}
    pairs: list[tuple[str, Any]] = [
        ("labels", lin.get("labels")),
        ("parent", lin.get("parent")),
        ("registered by", f"{by.get('experiment')}/{by.get('run_id')}" if by else None),
    ]
    _pairs(lines, pairs, 2)
    for r in lin.get("runs") or []:
        text = f"run {r['experiment']}/{r['run_id']}  {r.get('name') or ''} ({r.get('status')})"
        lines.append(cells.human(f"  -> {text}  as {r['as']}"))
        for m in lin.get("models") or []:
            if m.get("run_id") == r["run_id"]:
                lines.append(cells.human(f"     -> model {m['ref']}"))
    for m in lin.get("models") or []:
        if m.get("run_id") not in {r["run_id"] for r in lin.get("runs") or []}:
            lines.append(cells.human(f"  -> model {m['ref']} (its run is gone)"))
    for d in lin.get("derived") or []:
        lines.append(cells.human(f"  -> dataset {d['ref']} (as {d['as']})"))
    if len(lines) == 1:
        lines.append("  no labels, parent or users recorded")
    return "\n".join(lines) + "\n"
