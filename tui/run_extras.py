"""What a run logged besides metrics (env, code, tables, artifacts, notes, ...), read safely.

The store exposes these as attributes or methods of `RunInfo`; older stores or runs that
logged nothing simply lack them. Every read here is guarded so the detail screen can say
"nothing logged" for one tab, or show why a file could not be read, and never crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import polars as pl

    from mmtop.store.tables import ConfusionMatrix

CONSOLE_TAIL = 500
_ATTRS = ("env", "code", "patch", "artifacts", "inputs", "notes", "comments")


# What reading one logged table gives: a confusion matrix, a frame, or nothing.
TableData: TypeAlias = "ConfusionMatrix | pl.DataFrame | None"


@dataclass
class TableRef:
    name: str  # the full stored name (what `table(name)` reads)
    kind: str  # "confusion" | "predictions" | "table"
    of: str | None = None  # the logical name typed readers take (`confusion_matrix(of, step)`)
    step: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # the table's sidecar, as logged


@dataclass
class RunExtras:
    env: Any = None
    code: Any = None
    patch: str | None = None
    artifacts: Any = None
    inputs: Any = None
    notes: str | None = None
    comments: list[Any] = field(default_factory=list)
    tables: list[TableRef] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    # The processes of a shared run (rank, host, status, last step); empty otherwise.
    writers: list[dict[str, Any]] = field(default_factory=list)


def _read(info: Any, name: str, errors: dict[str, str], *args: Any) -> Any:
    value = getattr(info, name, None)
    if callable(value):
        try:
            return value(*args)
        except Exception as exc:  # noqa: BLE001 - a corrupt file costs one tab, not the screen
            errors[name] = f"{type(exc).__name__}: {exc}"
            return None
    return value


def table_kind(name: str, meta: Any = None) -> str:
    """Kind from the table's metadata when it says, else from its name."""
    kind = ""
    if isinstance(meta, dict):
        kind = str(meta.get("kind") or meta.get("type") or "")
    text = f"{kind} {name}".lower()
    if "confusion" in text:
        return "confusion"
    if "prediction" in text:
        return "predictions"
    return "table"


def _table_refs(listing: Any) -> list[TableRef]:
    refs: list[TableRef] = []
    if isinstance(listing, dict):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in listing.items()]
    elif isinstance(listing, (list, tuple)):
        items = []
        for item in listing:
            if isinstance(item, dict):
                items.append((str(item.get("name", "")), item))
            else:
                items.append((str(getattr(item, "name", item)), getattr(item, "kind", None)))
    else:
        return refs
    for name, meta in items:
        if not name:
            continue
        if isinstance(meta, str):
            meta = {"kind": meta}
        of = meta.get("of") if isinstance(meta, dict) else None
        step = meta.get("step") if isinstance(meta, dict) else None
        refs.append(
            TableRef(
                name,
                table_kind(name, meta),
                str(of) if of is not None else None,
                step if isinstance(step, int) else None,
                meta if isinstance(meta, dict) else {},
            )
        )
    return refs


def gather(info: Any) -> RunExtras:
    """Everything a run logged besides metrics: the one reader behind the detail screen and
    `mmtop show`/`mmtop diff`, so both list the same tables, notes and files."""
    errors: dict[str, str] = {}
    got = {name: _read(info, name, errors) for name in _ATTRS}
    comments = got["comments"]
    return RunExtras(
        env=got["env"],
        code=got["code"],
        patch=got["patch"] if isinstance(got["patch"], str) else None,
        artifacts=got["artifacts"],
        inputs=got["inputs"],
        notes=got["notes"] if isinstance(got["notes"], str) else None,
        comments=list(comments) if isinstance(comments, (list, tuple)) else [],
        tables=_table_refs(_read(info, "tables", errors)),
        errors=errors,
        writers=_writers(info, errors),
    )


def _writers(info: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    if not getattr(info, "world_size", None):
        return []
    got = _read(info, "writers", errors)
    return [w for w in got if isinstance(w, dict)] if isinstance(got, list) else []


def read_table(info: Any, ref: TableRef) -> tuple[TableData, str | None]:
    """(data, error) for one table, through the most specific reader the store has."""
    errors: dict[str, str] = {}
    method = {"confusion": "confusion_matrix", "predictions": "predictions"}.get(ref.kind, "table")
    if ref.of is None or not callable(getattr(info, method, None)):
        method = "table"
    args = (ref.name,) if method == "table" else (ref.of, ref.step)
    data = _read(info, method, errors, *args)
    return data, errors.get(method)


def console_tail(info: Any, lines: int = CONSOLE_TAIL) -> tuple[list[str], str | None]:
    """The console's last lines; in a shared run each rank's log, under a `── rank N ──` line."""
    errors: dict[str, str] = {}
    ranks = sorted({w["rank"] for w in _writers(info, errors) if isinstance(w.get("rank"), int)})
    if len(ranks) > 1:
        out: list[str] = []
        for rank in ranks:
            text = _read(info, "console_tail", errors, lines, rank)
            if isinstance(text, str) and text:
                out += [f"── rank {rank} ──", *text.splitlines()]
        return out, errors.get("console_tail") if not out else None
    got = _read(info, "console_tail", errors, lines)
    if got is None:
        return [], errors.get("console_tail")
    if isinstance(got, str):
        return got.splitlines(), None
    return [str(line) for line in got], None
