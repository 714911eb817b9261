"""What the Models screen shows, built from the registry without Textual: table rows and the
text of a version's detail (manifest, lineage, metrics, alias history, files)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from rich.text import Text

from mmtop.store.registry.events import concerns, describe
from mmtop.tui.formatting import fmt_bytes, fmt_float
from mmtop.tui.safe_text import clean, safe

COLUMNS = ("model", "ver", "aliases", "created", "flavour", "run")
MAX_METRIC_COLUMNS = 3


def metric_keys(frame: pl.DataFrame) -> list[str]:
    """The metrics shown as columns: the first few keys the versions were registered with."""
    if "metrics" not in frame.columns or not isinstance(frame.schema["metrics"], pl.Struct):
        return []
    fields = [f.name for f in frame.schema["metrics"].fields]
    return sorted(fields)[:MAX_METRIC_COLUMNS]


def when(value: Any, now: dt.datetime | None = None) -> str:
    if not isinstance(value, dt.datetime):
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def rows(frame: pl.DataFrame) -> list[tuple[str, list[str]]]:
    """(ref, cells) per version, newest model versions last as in `Store.models()`."""
    keys = metric_keys(frame)
    out = []
    for row in frame.iter_rows(named=True):
        metrics = row.get("metrics") or {}
        cells = [
            clean(row["name"], single_line=True),
            str(row["version"]),
            clean(", ".join(row["aliases"] or []), single_line=True),
            when(row["created"]),
            clean(row["flavour"] or "", single_line=True),
            clean(row["run_id"] or "", single_line=True),
            *[_num(metrics.get(k)) for k in keys],
        ]
        if row.get("deprecated"):
            cells[1] += " (deprecated)"
        out.append((f"{row['name']}/{row['version']}", cells))
    return out


def _num(value: Any) -> str:
    return "" if value is None else fmt_float(value, 4)


def _size(n: Any) -> str:
    return fmt_bytes(n) if isinstance(n, int) else "?"


def _sig(sig: Any) -> str:
    if not isinstance(sig, dict):
        return "-"
    if sig.get("kind") == "tensor":
        return f"{sig.get('dtype')} {sig.get('shape')}"
    if sig.get("kind") == "columns":
        return ", ".join(f"{c.get('name')}: {c.get('type')}" for c in sig.get("columns", []))
    return str(sig.get("type") or sig.get("kind"))


def _line(text: Text, label: str, value: Any, style: str = "") -> None:
    text.append(f"  {label:<10} ", "bold")
    text.append_text(safe(value, style, single_line=True))
    text.append("\n")


def detail(version: Any, history: pl.DataFrame) -> Text:
    """A version's manifest summary, lineage, metrics, alias history and files."""
    m = version.manifest
    lin = version.lineage()
    text = Text()
    text.append(version.ref, "bold")
    for alias in version.aliases:
        text.append("  @")
        text.append_text(safe(alias, "green"))
    if version.deprecated is not None:
        text.append_text(safe(f"  deprecated: {version.deprecated}", "red"))
    text.append("\n")
    if version.description:
        text.append_text(safe(version.description, "italic"))
        text.append("\n")
    pointer = version.pointer
    if pointer is not None:
        found = m.get("imported") or {}
        origin = f" from {found.get('source')}" if found.get("source") else ""
        _line(text, "flavour", f"pointer{origin} ({pointer.get('status')})")
        by = f" by {m.get('user')}" if m.get("user") else ""
        _line(text, "created", f"{str(m.get('created', ''))[:19]}{by}")
        _line(text, "files at", pointer.get("uri"))
        if pointer.get("local"):
            _line(text, "copy", pointer.get("local"))
    else:
        serializer = m.get("serializer") or {}
        _line(
            text,
            "flavour",
            f"{m.get('flavour')} ({serializer.get('name')} {serializer.get('version')})",
        )
        _line(text, "created", f"{m.get('created', '')[:19]} by {m.get('user')}@{m.get('host')}")
        _line(text, "size", f"{_size(m.get('size'))} in {len(version.files)} files")
    sig = m.get("signature") or {}
    _line(text, "inputs", _sig(sig.get("inputs")))
    _line(text, "outputs", _sig(sig.get("outputs")))

    text.append("\nlineage\n", "bold underline")
    for d in lin.get("datasets") or []:
        found = d.get("dataset") if isinstance(d.get("dataset"), dict) else {}
        used = f"{found.get('name')}@{found.get('version')}  " if found else ""
        _line(text, "data", f"{d.get('name')}  {used}{d.get('fingerprint')}")
    if lin.get("run_id"):
        commit = (lin.get("code") or {}).get("commit")
        code = f"  code {commit[:10]}" if commit else ""
        _line(
            text,
            "run",
            f"{lin.get('experiment')}/{lin.get('run_id')}  {lin.get('run_name') or ''}{code}",
        )
    parent = lin.get("parent")
    if parent:
        _line(text, "parent", f"{parent.get('name')}/{parent.get('version')}")
    _line(text, "version", version.ref, "bold")
    for child in lin.get("children") or []:
        _line(text, "child", child)

    metrics = lin.get("metrics") or {}
    if metrics:
        text.append("\nmetrics at registration\n", "bold underline")
        for key, value in sorted(metrics.items()):
            _line(text, str(key), _num(value) if isinstance(value, int | float) else value)

    text.append("\nhistory\n", "bold underline")
    for event in history.iter_rows(named=True):
        if not concerns(event, version.version):
            continue
        text.append(f"  {when(event['time'])}  ", "dim")
        text.append_text(safe(describe(event), single_line=True))
        text.append_text(safe(f"  {event.get('user') or ''}", "dim", single_line=True))
        text.append("\n")

    text.append("\nfiles\n", "bold underline")
    if pointer is not None:
        _line(text, "none", f"a pointer: files at {pointer.get('uri')}")
    for f in version.files:
        digest = str(f.get("sha256") or "")[:12]
        _line(text, _size(f.get("size")), f"{f.get('path')}  sha256 {digest}…")
    return text
