"""`mmtop models show | lineage | diff`: one version in full, its family tree, two compared."""

from __future__ import annotations

import argparse
from typing import Any

import polars as pl

from mmtop.tui import diffing
from mmtop.tui.cli import cells, frames
from mmtop.tui.cli.commands.ls import write
from mmtop.tui.cli.commands.models import version_of
from mmtop.tui.cli.common import open_store, output
from mmtop.tui.cli.errors import EXIT_OK
from mmtop.tui.formatting import fmt_float


def run(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    if ns.action == "diff":
        return _diff(ns, version_of(st, ns.refs[0]), version_of(st, ns.refs[1]))
    version = version_of(st, ns.ref)
    data = as_json(version) if ns.action == "show" else version.lineage()
    with output(getattr(ns, "output", None)) as out:
        if ns.format == "json":
            out.write((cells.json_dumps(data) + "\n").encode())
        elif ns.action == "show":
            out.write(show_text(version).encode())
        else:
            out.write(lineage_text(version).encode())
    return EXIT_OK


def as_json(version: Any) -> dict[str, Any]:
    """A version's manifest with its current aliases, description, tags and deprecation."""
    return {
        "ref": version.ref,
        "path": str(version.path),
        **version.manifest,
        "aliases": list(version.aliases),
        "description": version.description,
        "tags": version.tags,
        "deprecated": version.deprecated is not None,
        "deprecated_reason": version.deprecated,
    }


def _pairs(lines: list[str], pairs: list[tuple[str, Any]], indent: int = 0) -> None:
    shown = [(k, cells.human(v)) for k, v in pairs if v not in (None, "", [], {})]
    width = max((len(k) for k, _ in shown), default=0)
    lines.extend(f"{' ' * indent}{k.ljust(width)}  {v}".rstrip() for k, v in shown)


def overview(version: Any) -> list[tuple[str, Any]]:
    """A version's head fields, in the order `models show` and the HTML report list them."""
    m = version.manifest
    lin = m.get("lineage") or {}
    return [
        ("model", version.ref),
        ("aliases", ", ".join(version.aliases)),
        ("created", m.get("created")),
        ("by", _by(m)),
        ("flavour", m.get("flavour")),
        ("serializer", _name_version(m.get("serializer"))),
        ("frameworks", ", ".join(f"{k} {v}" for k, v in (m.get("frameworks") or {}).items())),
        ("size", m.get("size")),
        ("description", version.description),
        ("tags", version.tags),
        ("deprecated", version.deprecated if version.deprecated is not None else None),
        ("run", f"{lin.get('experiment')}/{lin.get('run_id')}" if lin.get("run_id") else None),
        ("parent", _ref(lin.get("parent"))),
        *_pointer_pairs(version),
        ("path", str(version.path)),
    ]


def _by(manifest: dict[str, Any]) -> str | None:
    user, host = manifest.get("user"), manifest.get("host")
    if host is None:  # an imported version: who, if the source said, but no machine
        return str(user) if user else None
    return f"{user}@{host}"


def _pointer_pairs(version: Any) -> list[tuple[str, Any]]:
    """Where a pointer version's files are, and where it was imported from."""
    pointer = version.pointer
    if pointer is None:
        return []
    found = version.manifest.get("imported") or {}
    origin = None
    if found.get("source"):
        origin = f"{found.get('source')} {found.get('model')} version {found.get('version')}"
        origin += f" ({found.get('uri')})" if found.get("uri") else ""
    return [
        ("files at", pointer.get("uri")),
        ("copy", pointer.get("local")),
        ("status", pointer.get("status")),
        ("imported", origin),
        ("source run", found.get("run_id")),
    ]


def show_text(version: Any) -> str:
    m = version.manifest
    lin = m.get("lineage") or {}
    lines: list[str] = []
    _pairs(lines, overview(version))
    sig = m.get("signature") or {}
    lines += ["", "signature"]
    _pairs(lines, [("inputs", _sig(sig.get("inputs"))), ("outputs", _sig(sig.get("outputs")))], 2)
    metrics = lin.get("metrics") or {}
    if metrics:
        lines += ["", "metrics at registration"]
        _pairs(lines, sorted(metrics.items()), 2)
    params = diffing.flatten(lin.get("params") or {})
    if params:
        lines += ["", "params"]
        _pairs(lines, sorted(params.items()), 2)
    lines += ["", "files"]
    if version.pointer is not None:
        lines.append(f"  none: a pointer, files at {cells.human(version.pointer.get('uri'))}")
    lines.extend(
        f"  {cells.human(f.get('path'))}  {f.get('size')} B  sha256 {cells.human(f.get('sha256'))}"
        for f in version.files
    )
    if m.get("requirements"):
        lines += ["", "requirements"]
        lines.extend(f"  {cells.human(r)}" for r in m["requirements"])
    return "\n".join(lines) + "\n"


def _name_version(value: Any) -> str | None:
    if isinstance(value, dict):
        return f"{value.get('name')} {value.get('version')}"
    return None


def _ref(parent: Any) -> str | None:
    if isinstance(parent, dict) and parent.get("name"):
        return f"{parent['name']}/{parent.get('version')}"
    return None


def _sig(sig: Any) -> str | None:
    if not isinstance(sig, dict):
        return None
    if sig.get("kind") == "tensor":
        return f"tensor {sig.get('dtype')} {sig.get('shape')}"
    if sig.get("kind") == "columns":
        return ", ".join(f"{c.get('name')}: {c.get('type')}" for c in sig.get("columns", []))
    return str(sig.get("type") or sig.get("kind"))


def lineage_text(version: Any) -> str:
    """datasets -> run -> version -> child versions, as an indented tree."""
    lin = version.lineage()
    code = lin.get("code") or {}
    lines = []
    for d in lin.get("datasets") or []:
        found = d.get("dataset") if isinstance(d.get("dataset"), dict) else {}
        used = f"{found.get('name')}@{found.get('version')}  " if found else ""
        lines.append(
            f"data     {cells.human(d.get('name'))}  {cells.human(used)}"
            f"{cells.human(d.get('fingerprint'))}"
        )
    if lin.get("run_id"):
        commit = code.get("commit")
        dirty = " (dirty)" if code.get("dirty") else ""
        at = f"  code {commit[:12]}{dirty}" if commit else ""
        run = f"{lin.get('experiment')}/{lin.get('run_id')}"
        lines.append(f"run      {cells.human(run)}  {cells.human(lin.get('run_name'))}{at}")
        if isinstance(lin.get("reproduces"), str):
            lines.append(f"         reproduces {cells.human(lin['reproduces'])}")
    if _ref(lin.get("parent")):
        why = f"  retrained: {cells.human(lin['reason'])}" if lin.get("reason") else ""
        lines.append(f"parent   {cells.human(_ref(lin.get('parent')))}{why}")
    served = [*version.aliases, *(f"serving at {t}" for t in version.deployed)]
    lines.append(f"version  {version.ref}  {cells.human(', '.join(served))}".rstrip())
    lines.extend(f"child    {cells.human(c)}" for c in lin.get("children") or [])
    return "\n".join(lines) + "\n"


def comparable(version: Any) -> dict[str, Any]:
    """The flat fields two versions are compared on."""
    m = version.manifest
    lin = m.get("lineage") or {}
    out: dict[str, Any] = {
        "flavour": m.get("flavour"),
        "serializer": _name_version(m.get("serializer")),
        "created": m.get("created"),
        "run": lin.get("run_id"),
        "parent": _ref(lin.get("parent")),
        "code.commit": (lin.get("code") or {}).get("commit"),
        "code.dirty": (lin.get("code") or {}).get("dirty"),
        "aliases": ", ".join(version.aliases),
        "size": m.get("size"),
        "signature.inputs": _sig((m.get("signature") or {}).get("inputs")),
        "signature.outputs": _sig((m.get("signature") or {}).get("outputs")),
    }
    for key, value in (m.get("frameworks") or {}).items():
        out[f"frameworks.{key}"] = value
    for key, value in diffing.flatten(lin.get("params") or {}).items():
        out[f"params.{key}"] = value
    for key, value in (lin.get("metrics") or {}).items():
        out[f"metrics.{key}"] = value
    for d in lin.get("datasets") or []:
        out[f"data.{d.get('name')}"] = d.get("fingerprint")
    for f in version.files:
        out[f"file.{f.get('path')}"] = f.get("sha256")
    return out


def _diff(ns: argparse.Namespace, a: Any, b: Any) -> int:
    left, right = comparable(a), comparable(b)
    keys = list(dict.fromkeys([*left, *right]))
    rows = [
        (k, _text(left.get(k)), _text(right.get(k)))
        for k in keys
        if ns.all or left.get(k) != right.get(k)
    ]
    right_label = b.ref if b.ref != a.ref else f"{b.ref} (again)"
    frame = pl.DataFrame(
        rows, schema={"field": pl.String, a.ref: pl.String, right_label: pl.String}, orient="row"
    )
    fmt = "table" if ns.format == "table" else ns.format
    write(frames.flatten(frame), fmt, ns.output)
    return EXIT_OK


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return fmt_float(value)
    return str(value)
