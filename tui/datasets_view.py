"""What the Datasets screen shows, built from the dataset registry without Textual: table
rows, a version's detail (source, schema, lineage) and a diff against another version."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.text import Text

from mmtop.tui.formatting import fmt_bytes
from mmtop.tui.models_view import when
from mmtop.tui.safe_text import clean, safe

COLUMNS = ("dataset", "ver", "fingerprint", "kind", "rows", "cols", "created", "labels")
SHORT_FINGERPRINT = 19  # "sha256:" and 12 hex digits


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else ""


def rows(frame: pl.DataFrame) -> list[tuple[str, list[str]]]:
    """(ref, cells) per version, in `Store.datasets()` order."""
    out = []
    for row in frame.iter_rows(named=True):
        cells = [
            clean(row["name"], single_line=True),
            str(row["version"]),
            clean(str(row["fingerprint"] or "")[:SHORT_FINGERPRINT], single_line=True),
            clean(row["kind"] or "", single_line=True),
            _count(row["rows"]),
            _count(row["columns"]),
            when(row["created"]),
            clean(row["labels"] or "", single_line=True),
        ]
        out.append((f"{row['name']}@{row['version']}", cells))
    return out


def _line(text: Text, label: str, value: Any, style: str = "") -> None:
    if value in (None, "", [], {}):
        return
    text.append(f"  {label:<12} ", "bold")
    text.append_text(safe(value, style, single_line=True))
    text.append("\n")


def detail(version: Any, lineage: dict[str, Any]) -> Text:
    """A version's source, shape, lineage (labels, parent, runs, models) and schema."""
    m = version.manifest
    run = m.get("run") if isinstance(m.get("run"), dict) else {}
    text = Text()
    text.append_text(safe(version.ref, "bold"))
    text.append("\n")
    if m.get("description"):
        text.append_text(safe(m.get("description"), "italic"))
        text.append("\n")
    _line(text, "fingerprint", version.fingerprint)
    _line(text, "kind", version.kind)
    _line(text, "rows", _count(version.rows))
    _line(text, "columns", _count(len(version.schema)) if version.schema else "")
    size = m.get("size")
    _line(text, "size", fmt_bytes(size) if isinstance(size, int) else "")
    _line(text, "uri", version.uri)
    _line(text, "key", ", ".join(version.key))
    _line(text, "snapshot", m.get("snapshot"))
    _line(text, "created", f"{str(m.get('created', ''))[:19]} by {m.get('user')}@{m.get('host')}")

    text.append("\nlineage\n", "bold underline")
    _line(text, "labels", lineage.get("labels"))
    _line(text, "parent", lineage.get("parent"))
    if run:
        _line(text, "registered", f"by run {run.get('experiment')}/{run.get('run_id')}")
    _line(text, "version", version.ref, "bold")
    for r in lineage.get("runs") or []:
        _line(text, "run", f"{r['experiment']}/{r['run_id']}  {r.get('name') or ''} as {r['as']}")
    for model in lineage.get("models") or []:
        _line(text, "model", f"{model['ref']}  from run {model.get('run_id')}")
    for d in lineage.get("derived") or []:
        _line(text, "derived", f"{d['ref']} (as {d['as']})")

    if version.schema:
        text.append("\nschema\n", "bold underline")
        for column, kind in version.schema.items():
            _line(text, str(column), kind)
    return text


def diff_text(d: dict[str, Any]) -> Text:
    """`Store.dataset_diff` as the text the CLI prints, kept inert."""
    from mmtop.tui.cli.commands.datasets import diff_text as plain

    text = Text()
    text.append_text(safe(plain(d)))
    return text
