"""`mmtop show RUN`: one run's meta, params, metrics, env and code digest, data, notes."""

from __future__ import annotations

import argparse
from typing import Any

from mmtop.tui import diffing
from mmtop.tui.cli import cells
from mmtop.tui.cli.common import open_store, output, resolve
from mmtop.tui.cli.errors import EXIT_OK
from mmtop.tui.cli.runfiles import Extras, read_extras
from mmtop.tui.formatting import fmt_bytes, fmt_duration, run_time, shell_command
from mmtop.tui.safe_text import clean


def run(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    info = st.run(resolve(st, ns.run))
    extras = read_extras(info)
    with output(ns.output) as out:
        if ns.format == "json":
            out.write((cells.json_dumps(as_json(info, extras)) + "\n").encode())
        else:
            out.write(as_text(info, extras).encode())
    return EXIT_OK


def as_json(info: Any, extras: Extras) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "experiment": info.experiment,
        "name": info.name,
        "status": info.status,
        "created": info.created,
        "ended": info.ended,
        "duration_s": info.duration_s,
        "last_step": info.last_step,
        "host": info.host,
        "user": info.user,
        "pid": info.pid,
        "command": info.command,
        "tags": info.tags,
        "path": str(info.path),
        "error": info.error,
        "imported": info.meta.get("imported"),
        "reproduces": info.meta.get("reproduces"),
        "reproduced_by": reproduced_by(info),
        "world_size": info.world_size,
        "writers": info.writers,
        "params": info.params,
        "summary": info.summary,
        "values": info.values,
        **extras.as_json(),
    }


def as_text(info: Any, extras: Extras) -> str:
    lines: list[str] = []
    _pairs(
        lines,
        [
            ("run", info.run_id),
            ("experiment", info.experiment),
            ("name", info.name),
            ("status", info.status),
            ("created", run_time(info, "created")),
            ("ended", run_time(info, "ended")),
            ("duration", fmt_duration(info.duration_s) if info.duration_s else None),
            ("last step", info.last_step),
            ("host", info.host),
            ("user", info.user),
            ("pid", info.pid),
            ("command", shell_command(info.command) if info.command else None),
            ("tags", ", ".join(info.tags) if info.tags else None),
            ("path", str(info.path)),
            ("imported from", _imported(info.meta.get("imported"))),
            ("reproduces", _text_or_none(info.meta.get("reproduces"))),
            ("reproduced by", ", ".join(reproduced_by(info)) or None),
        ],
    )
    if info.error:
        err = info.error if isinstance(info.error, dict) else {"message": info.error}
        _section(lines, "error")
        _pairs(
            lines,
            [("type", err.get("type")), ("message", err.get("message")), ("rank", err.get("rank"))],
            indent=2,
        )
    if info.world_size:
        _writers(lines, info.world_size, info.writers)
    _section(lines, "params")
    _pairs(lines, list(diffing.flatten(info.params).items()), indent=2, empty="(none)")
    _metrics(lines, info)
    _env(lines, extras.env)
    _code(lines, extras)
    inputs = [{**e, "version": _dataset_ref(e)} for e in extras.inputs]
    _listing(lines, "data", inputs, "name", ("version", "kind", "uri", "fingerprint", "rows"))
    _tables(lines, extras.tables)
    _listing(lines, "artifacts", extras.artifacts, "name", ("kind", "path", "size", "sha256"))
    if extras.notes:
        _section(lines, "notes")
        lines.extend(("  " + clean(line)).rstrip() for line in extras.notes.strip().splitlines())
    if extras.comments or extras.console_bytes:
        _section(lines, "more")
        _pairs(
            lines,
            [
                ("comments", extras.comments or None),
                ("console.log", fmt_bytes(extras.console_bytes) or None),
            ],
            indent=2,
        )
    if extras.problems:
        _section(lines, "skipped files")
        lines.extend("  " + cells.human(p) for p in extras.problems)
    return "\n".join(lines) + "\n"


def _imported(imported: Any) -> str | None:
    """`mlflow run 47a6...` for a run brought in by `mmtop import`: the source's own id."""
    if not isinstance(imported, dict):
        return None
    return f"{imported.get('source')} run {imported.get('id')}"


def _writers(lines: list[str], world_size: int, writers: list[dict[str, Any]]) -> None:
    """One line per process of a shared run: rank, host, pid, status, last step."""
    _section(lines, f"writers ({len(writers)} of world_size {world_size})")
    head = ("rank", "host", "pid", "status", "last step", "writer")
    rows = [head] + [
        tuple(
            "" if w.get(k) is None else cells.human(w.get(k))
            for k in ("rank", "host", "pid", "status", "last_step", "writer")
        )
        for w in sorted(writers, key=lambda w: (w.get("rank") is None, w.get("rank") or 0))
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines.extend(
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _section(lines: list[str], title: str) -> None:
    lines.extend(["", title])


def _pairs(
    lines: list[str], pairs: list[tuple[str, Any]], indent: int = 0, empty: str | None = None
) -> None:
    shown = [(cells.human(k), _text(v)) for k, v in pairs if v is not None and v != ""]
    if not shown:
        if empty:
            lines.append(" " * indent + empty)
        return
    width = max(len(k) for k, _ in shown)
    lines.extend(f"{' ' * indent}{k.ljust(width)}  {v}".rstrip() for k, v in shown)


def _text(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return cells.human(cells.json_dumps(value))
    return cells.human(value)


def _metrics(lines: list[str], info: Any) -> None:
    _section(lines, "metrics")
    stats = diffing.stats_of(info.summary, info.values)
    if not stats:
        lines.append("  (none)")
        return
    head = ["key", "last", "min", "max", "count", "last step"]
    rows = []
    for key in sorted(stats):
        st = info.summary.get(key, {})
        rows.append(
            [cells.human(key)]
            + [cells.human(stats[key].get(s)) for s in ("last", "min", "max")]
            + [cells.human(st.get("count")), cells.human(st.get("last_step"))]
        )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        cells_ = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  " + "  ".join(cells_).rstrip())


def _env(lines: list[str], env: dict[str, Any] | None) -> None:
    if not env:
        return
    _section(lines, "environment")
    py, plat, cpu = _obj(env.get("python")), _obj(env.get("platform")), _obj(env.get("cpu"))
    gpus = env.get("gpus")
    gpus = gpus if isinstance(gpus, list) else []
    packages = env.get("packages")
    memory = env.get("memory_total_bytes")
    _pairs(
        lines,
        [
            (
                "python",
                " ".join(str(v) for v in (py.get("version"), py.get("implementation")) if v),
            ),
            ("platform", " ".join(str(v) for v in plat.values() if v)),
            ("host", env.get("hostname")),
            ("cpu", _cpu(cpu)),
            ("memory", fmt_bytes(memory if isinstance(memory, int) else None) or None),
            ("gpus", ", ".join(str(g.get("name", "?")) for g in gpus if isinstance(g, dict))),
            ("packages", f"{len(packages)} recorded" if isinstance(packages, dict) else None),
            (
                "env vars",
                ", ".join(env["env_vars"]) if isinstance(env.get("env_vars"), dict) else None,
            ),
        ],
        indent=2,
    )


def _obj(value: Any) -> dict[str, Any]:
    """A JSON object from a file we did not write, or {} when it is something else."""
    return value if isinstance(value, dict) else {}


def _cpu(cpu: dict[str, Any]) -> str | None:
    if not cpu:
        return None
    counts = f"{cpu.get('logical')} threads" if cpu.get("logical") else ""
    return " ".join(v for v in (str(cpu.get("model") or ""), f"({counts})" if counts else "") if v)


def _code(lines: list[str], extras: Extras) -> None:
    code = extras.code
    if not code and not extras.patch_bytes:
        return
    _section(lines, "code")
    git = _obj((code or {}).get("git"))
    dirty = git.get("dirty")
    if isinstance(dirty, list):
        dirty = f"{len(dirty)} changed files" if dirty else "clean"
    patch = None
    if extras.patch_bytes:
        patch = f"code.patch, {fmt_bytes(extras.patch_bytes)}, sha256 {extras.patch_sha256}"
    _pairs(
        lines,
        [
            ("commit", git.get("commit")),
            ("branch", git.get("branch")),
            ("remote", git.get("remote_url")),
            ("dirty", dirty),
            ("patch", patch),
            ("cwd", (code or {}).get("cwd")),
        ],
        indent=2,
        empty="(no git checkout)",
    )


def _listing(
    lines: list[str], title: str, items: list[dict[str, Any]], name_key: str, keys: tuple[str, ...]
) -> None:
    if not items:
        return
    _section(lines, title)
    for item in items:
        extra = "  ".join(f"{k}={_value(k, item[k])}" for k in keys if item.get(k) is not None)
        lines.append(f"  {_text(item.get(name_key, '?'))}  {extra}".rstrip())


def _dataset_ref(entry: dict[str, Any]) -> str | None:
    """`name@version` of the registered dataset version an input names (docs/FORMAT.md)."""
    found = entry.get("dataset")
    if isinstance(found, dict) and isinstance(found.get("version"), int):
        return f"{found.get('name')}@{found['version']}"
    return None


def _value(key: str, value: Any) -> str:
    return fmt_bytes(value) if key == "size" and isinstance(value, int) else _text(value)


def _tables(lines: list[str], tables: list[dict[str, Any]]) -> None:
    if not tables:
        return
    _section(lines, "tables")
    for t in tables:
        shape = f"{t['rows']} rows x {t['columns']} columns" if "rows" in t else "unreadable"
        lines.append(f"  {_text(t['name'])}  {shape}")


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def reproduced_by(info: Any) -> list[str]:
    """Runs of the same experiment that `mmtop reproduce` made from this one.

    A rebuild always starts after its original, and run ids sort by time, so only the
    run.json files of later runs are read.
    """
    from mmtop.store import paths
    from mmtop.store.safe_files import json_cap, read_json, store_root_of

    folder = info.path
    root = store_root_of(folder)
    found: list[str] = []
    try:
        siblings = sorted(p for p in folder.parent.iterdir() if p.name > info.run_id)
    except OSError:
        return found
    for sibling in siblings:
        try:
            meta = read_json(sibling / paths.RUN_JSON, json_cap(paths.RUN_JSON), root)
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("reproduces") == info.run_id:
            found.append(sibling.name)
    return found
