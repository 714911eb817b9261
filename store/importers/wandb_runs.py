"""W&B runs from their `.wandb` files: `wandb/offline-run-*/run-<id>.wandb`, and the same
file in an online run's `wandb/run-*` folder.

Read without wandb and without its service process: the file is framed as LevelDB's log
(wandb_log.py) and holds protobuf `Record` messages, decoded with `protobuf` and the small
descriptor in wandb_proto.py. wandb 0.31 has no reader of its own in Python (its Go core
writes and reads these files), and depending on wandb would bring its service binary,
OpenTelemetry and pydantic into a command that needs none of them.

Mapped: the run record (name, project, tags, notes, group, job type, host, start time, git),
config as params, every history row's numeric values with the row's `_step` and
`_timestamp`, summary values that are not the last logged value, and the exit record (exit
code, runtime) as status and end. Values arrive as JSON text per item; media, tables,
histograms (anything with a `_type`), text, lists and nulls are left out and counted.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import first_line
from ..safe_files import MAX_DEPTH, check_depth, loads
from .model import ImportError_, Pending, Points, SourceRun
from .wandb_log import CorruptLog, read_records
from .wandb_proto import record_class

SOURCE = "wandb"
RUN_FILE = re.compile(r"run-(?P<id>[^/]+)\.wandb")
RUN_FOLDER = re.compile(r"(?:offline-)?run-(?P<time>\d{8}_\d{6})-")
# Columns every W&B history row carries: the step and time become the point's, the runtime
# (seconds since the start) is the time less `created`, so it is not kept as a metric.
STEP, TIME, RUNTIME = "_step", "_timestamp", "_runtime"
_HIDDEN = "_wandb"
_MEDIA = object()  # marks a media folder in _nested's tree (never an item's name)


def scan(location: str, problems: list[dict[str, str]]) -> list[Pending]:
    root = Path(location)
    if not root.exists():
        raise ImportError_(f"no W&B runs at {str(root)!r}: no such file or folder")
    record_class()
    files = [root] if root.is_file() else _run_files(root)
    if not files:
        raise ImportError_(f"no W&B runs at {str(root)!r}: no run-*.wandb file under it")
    found: list[Pending] = []
    seen: set[Path] = set()
    for path in files:
        real = path.resolve()
        if real in seen:
            continue
        seen.add(real)
        try:
            size = real.stat().st_size
        except OSError as exc:  # a dangling link, among others: this run only
            problems.append({"path": str(path), "reason": first_line(exc)})
            continue
        run_id, created = _head(real)
        found.append(
            Pending(
                source_id=run_id,
                created=created,
                where=str(real),
                load=_loader(real, problems),
                fingerprint=_size(size),
            )
        )
    return found


def _run_files(root: Path) -> list[Path]:
    """Every `run-*.wandb` under `root`; symlinks (wandb's `latest-run`) are not followed."""
    out: list[Path] = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        out.extend(Path(dirpath) / f for f in sorted(files) if RUN_FILE.fullmatch(f))
    return out


def _head(path: Path) -> tuple[str, float]:
    """The W&B run id and start time, from the run record near the file's start (the first
    64 KiB); the file and folder names when that cannot be read, so that a damaged run still
    gets an id to be reported under."""
    match = RUN_FILE.fullmatch(path.name)
    run_id = match["id"] if match else path.stem
    created = _folder_time(path.parent.name)
    try:
        with path.open("rb") as f:
            head = f.read(2 * 32 * 1024)
        record = record_class()
        for raw in read_records(head).records[:16]:
            rec = record.FromString(raw)
            if rec.WhichOneof("record_type") == "run":
                run = rec.run
                if run.run_id:
                    run_id = run.run_id
                if run.HasField("start_time"):
                    created = run.start_time.seconds + run.start_time.nanos / 1e9
                break
    # A damaged head is reported when the run is read; its id and time are only fallbacks.
    except Exception:  # noqa: BLE001
        pass
    return run_id, created


def _folder_time(name: str) -> float:
    match = RUN_FOLDER.match(name)
    if match is None:
        return 0.0
    # The folder's time is the writer's local time; only a fallback, and stable.
    try:
        stamp = dt.datetime.strptime(match["time"], "%Y%m%d_%H%M%S")
    except ValueError:
        return 0.0
    return stamp.replace(tzinfo=dt.UTC).timestamp()


def _loader(path: Path, problems: list[dict[str, str]]) -> Any:
    def load() -> SourceRun:
        return read_run(path, problems)

    return load


class _Series:
    __slots__ = ("steps", "times", "values")

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.times: list[int] = []
        self.values: list[float] = []


def read_run(path: Path, problems: list[dict[str, str]]) -> SourceRun:
    data = path.read_bytes()
    try:
        framed = read_records(data)
    except CorruptLog as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    if framed.torn_at is not None:
        problems.append(
            {
                "path": str(path),
                "reason": f"ends mid-record at byte {framed.torn_at}: "
                "the records before it were imported",
            }
        )
    record = record_class()
    run: Any = None
    exit_: Any = None
    config: dict[str, Any] = {}
    summary = _Summary()
    series: dict[str, _Series] = {}
    left_out: Counter[str] = Counter()
    first_time: float | None = None
    last_time: float | None = None
    for k, raw in enumerate(framed.records):
        try:
            rec = record.FromString(raw)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError, among others
            raise ValueError(f"{path.name}: record {k} does not parse ({exc})") from None
        kind = rec.WhichOneof("record_type")
        if kind == "history":
            t = _history(rec.history, series, left_out, last_time)
            last_time = t if t is not None else last_time
            first_time = last_time if first_time is None else first_time
        elif kind == "summary":
            _apply(summary, rec.summary)
        elif kind == "config":
            _config(config, rec.config)
        elif kind == "run":
            run = rec.run if run is None else run
            _config(config, rec.run.config)
            _apply(summary, rec.run.summary)
        elif kind == "exit":
            exit_ = rec.exit
    if run is None:
        raise ValueError(f"{path.name}: no run record")
    if run.HasField("start_time"):
        created = run.start_time.seconds + run.start_time.nanos / 1e9
    else:  # not known to happen; the first row's time is the next best
        created = first_time if first_time is not None else _folder_time(path.parent.name)
    built = _build(path, run, exit_, created, config, summary, series, left_out, last_time)
    built.fingerprint = _size(len(data))
    return built


def _size(size: int) -> str:
    """A `.wandb` file only grows (records are appended), so its size tells what was read."""
    return f"{size} bytes"


def _path(item: Any) -> tuple[str, ...]:
    nested = item.nested_key
    return tuple(nested) if nested else (item.key,)


def _value(text: str) -> Any:
    """A `value_json` as Python: JSON with NaN and ±Infinity, as W&B writes them; None (left
    out as a null) for an empty or broken one."""
    try:
        return float(text)  # the common case, and exact: the same double json would give
    except ValueError:
        pass
    try:
        return loads(text)  # refuses absurd nesting (a ValueError) before parsing it
    except ValueError:
        return None


def _history(
    history: Any, series: dict[str, _Series], left_out: Counter[str], last: float | None
) -> float | None:
    step = history.step.num
    when: float | None = None
    flat: list[tuple[str, str]] = []
    deep: list[tuple[tuple[str, ...], str]] = []
    for item in history.item:
        nested = item.nested_key
        parts = len(nested)
        if parts > 1:
            deep.append((tuple(nested), item.value_json))
            continue
        key = nested[0] if parts else item.key
        text = item.value_json
        if key == STEP:
            step = int(text) if text.isdigit() else int(_value(text))
        elif key == TIME:
            when = float(_value(text))
        elif key != RUNTIME and key != _HIDDEN:
            flat.append((key, text))
    if deep:
        flat.extend(_nested(deep, left_out))
    if when is None:
        when = last if last is not None else 0.0
    time_us = round(when * 1_000_000)
    for key, text in flat:
        try:
            number = float(text)  # the common case, and exact: the double json would give
        except ValueError:
            for sub, value in _numbers(key, _value(text), left_out):
                _append(series, sub, step, time_us, value)
            continue
        _append(series, key, step, time_us, number)
    return when


def _append(series: dict[str, _Series], key: str, step: int, time_us: int, value: float) -> None:
    s = series.get(key)
    if s is None:
        s = series[key] = _Series()
    s.steps.append(step)
    s.times.append(time_us)
    s.values.append(value)


def _numbers(key: str, value: Any, left_out: Counter[str]) -> list[tuple[str, float]]:
    """The numbers in a decoded value: itself, or a nested dict's as `key.sub` (older wandb
    wrote a dict as one item); media, tables, histograms, text, lists and nulls are counted."""
    if isinstance(value, bool | int | float):
        return [(key, float(value))]
    if isinstance(value, dict):
        kind = value.get("_type")
        if kind is not None:
            left_out[kind if isinstance(kind, str) else "media"] += 1
            return []
        return [n for k, v in value.items() for n in _numbers(f"{key}.{k}", v, left_out)]
    left_out[_kind(value)] += 1
    return []


def _nested(
    items: list[tuple[tuple[str, ...], str]], left_out: Counter[str]
) -> list[tuple[str, str]]:
    """Values logged as nested dicts, keyed `a.b`; a dict with a `_type` (media, tables,
    histograms) is left out whole and counted by its type."""
    media = {p[: p.index("_type")]: t for p, t in items if "_type" in p[1:]}
    for text in media.values():
        kind = _value(text)
        left_out[kind if isinstance(kind, str) else "media"] += 1
    # The media folders as a tree, so that each path is checked in the time of its length.
    tree: dict[Any, Any] = {}
    for folder in media:
        node = tree
        for name in folder:
            node = node.setdefault(name, {})
        node[_MEDIA] = True
    return [
        (".".join(path), text)
        for path, text in items
        if path[0] != _HIDDEN and not _under(tree, path)
    ]


def _under(tree: dict[Any, Any], path: tuple[str, ...]) -> bool:
    node = tree
    for name in path:
        child = node.get(name)
        if child is None:
            return False
        if _MEDIA in child:
            return True
        node = child
    return False


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    return "object"


class _Summary:
    """Summary paths and their value JSON, as a tree: setting a path replaces what was under
    it and a value above it, removing one drops what is under it, each in the time of the
    path's length (a file of crafted updates and removals must not take quadratic time)."""

    def __init__(self) -> None:
        self.root: dict[str, Any] = {}  # name -> value JSON (a leaf) or a dict (a folder)

    def set(self, path: tuple[str, ...], text: str) -> None:
        node = self.root
        for name in path[:-1]:
            child = node.get(name)
            if not isinstance(child, dict):
                child = node[name] = {}
            node = child
        node[path[-1]] = text

    def remove(self, path: tuple[str, ...]) -> None:
        node: Any = self.root
        for name in path[:-1]:
            node = node.get(name)
            if not isinstance(node, dict):
                return
        node.pop(path[-1], None)

    def leaves(self) -> list[tuple[tuple[str, ...], str]]:
        """Every value's path and JSON, without media: a folder with a `_type` (below the
        top) is one logged object (an image, a table), left out whole."""
        out: list[tuple[tuple[str, ...], str]] = []
        todo: list[tuple[tuple[str, ...], dict[str, Any]]] = [((), self.root)]
        while todo:
            where, node = todo.pop()
            if where and "_type" in node:
                continue
            for name, child in node.items():
                if isinstance(child, dict):
                    todo.append(((*where, name), child))
                else:
                    out.append(((*where, name), child))
        return out


def _apply(state: _Summary, items: Any) -> None:
    """Summary updates and removals onto `state` (value JSON, decoded once at the end:
    W&B writes a summary update beside every history row)."""
    for item in items.update:
        nested = item.nested_key
        parts = len(nested)
        state.set(
            (nested[0],) if parts == 1 else tuple(nested) if parts else (item.key,), item.value_json
        )
    for item in items.remove:
        state.remove(_path(item))


def _config(config: dict[str, Any], items: Any) -> None:
    for item in items.update:
        *parents, leaf = _path(item)
        if parents and parents[0] == _HIDDEN or leaf == _HIDDEN:
            continue
        # params.json nests the config in one object; deeper than MAX_DEPTH in all, the
        # reader would refuse the whole file (every param), so a deeper value is a null.
        room = MAX_DEPTH - 1 - len(parents)
        if room < 1:
            continue
        node = config
        for p in parents:
            child = node.get(p)
            node = node[p] = child if isinstance(child, dict) else {}
        try:
            check_depth(item.value_json, room)
            node[leaf] = json.loads(item.value_json)
        except ValueError:
            node[leaf] = None
    for item in items.remove:
        *parents, leaf = _path(item)
        node = config
        for p in parents:
            child = node.get(p)
            node = child if isinstance(child, dict) else {}
        node.pop(leaf, None)


def _summary_values(summary: _Summary, series: dict[str, _Series]) -> dict[str, float]:
    """Summary numbers that the history does not already end with: values set on
    `run.summary`, and `define_metric`'s summaries (`loss.max`)."""
    out: dict[str, float] = {}
    numbers: list[tuple[str, float]] = []
    for path, text in summary.leaves():
        if path[0].startswith("_"):
            continue
        numbers.extend(_numbers(".".join(path), _value(text), Counter()))
    for key, number in numbers:
        s = series.get(key)
        if s is not None:
            last = s.values[max(range(len(s.steps)), key=lambda i: (s.steps[i], s.times[i]))]
            if last == number or (math.isnan(last) and math.isnan(number)):
                continue
        out[key] = number
    return out


def _build(
    path: Path,
    run: Any,
    exit_: Any,
    created: float,
    config: dict[str, Any],
    summary: _Summary,
    series: dict[str, _Series],
    left_out: Counter[str],
    last_time: float | None,
) -> SourceRun:
    error: dict[str, Any] | None = None
    ended = last_time
    if exit_ is None:
        status = "killed"
        message = "the W&B run had not finished (no exit record) when it was imported"
        error = {"type": "ImportedUnfinished", "message": message, "traceback": ""}
    else:
        status = "finished" if exit_.exit_code == 0 else "failed"
        if exit_.exit_code != 0:
            message = f"the W&B run exited with code {exit_.exit_code}"
            error = {"type": "ExitCode", "message": message, "traceback": ""}
        ended = max(ended or created, created + exit_.runtime)
    extra = {
        "entity": run.entity,
        "project": run.project,
        "group": run.run_group,
        "job_type": run.job_type,
        "sweep_id": run.sweep_id,
        "host": run.host,
    }
    tags = list(run.tags)
    tags += [f"{k}={v}" for k, v in (("group", run.run_group), ("job_type", run.job_type)) if v]
    code = None
    if run.git.commit or run.git.remote_url:
        code = {
            "command": None,
            "executable": None,
            "cwd": None,
            "git": {
                "commit": run.git.commit or None,
                "branch": None,
                "remote_url": run.git.remote_url or None,
            },
        }
    return SourceRun(
        source=SOURCE,
        source_id=run.run_id,
        experiment=run.project or "wandb",
        name=run.display_name or run.run_id,
        status=status,
        created=created,
        ended=ended,
        params=config,
        tags=tags,
        source_tags={k: v for k, v in extra.items() if v},
        notes=run.notes or None,
        code=code,
        error=error,
        metrics={
            key: Points(
                step=np.array(s.steps, dtype=np.int64),
                time_us=np.array(s.times, dtype=np.int64),
                value=np.array(s.values, dtype=np.float64),
            )
            for key, s in series.items()
        },
        values=_summary_values(summary, series),
        left_out=dict(left_out),
        uri=str(path),
    )
