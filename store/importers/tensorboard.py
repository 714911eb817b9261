"""TensorBoard event files: every folder holding `events.out.tfevents.*` files is a run.

Read with tensorboardX's compiled protobufs (`pip install 'mmtop[tensorboard]'`): they need
only `protobuf`, where `tensorboard`'s own loader brings its server's dependencies and
tbparse brings tensorboard and pandas. The record framing (length, masked CRC-32C of the
length, data, CRC of the data) is read here: a length whose CRC does not match, or an event
that does not parse, fails the file; a torn last record (a writer killed mid-write) is
ignored, as TensorBoard does.

Mapped: scalars (`simple_value`, and tensor-encoded float/double/int scalars) with step and
wall time; the hparams plugin's session-start hparams as params; text summaries as notes.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .model import ImportError_, Pending, Points, SourceRun

SOURCE = "tensorboard"
EVENTS = re.compile(r"events\.out\.tfevents\.(?P<time>\d+)")
_TEXT_SUFFIX = "/text_summary"


def _protos() -> tuple[Any, Any]:
    try:
        from tensorboardX.proto import event_pb2, plugin_hparams_pb2
    except ImportError:
        raise ImportError_(
            "importing TensorBoard logs needs tensorboardX (pip install 'mmtop[tensorboard]')"
        ) from None
    return event_pb2, plugin_hparams_pb2


def scan(location: str, problems: list[dict[str, str]]) -> list[Pending]:
    root = Path(location)
    if not root.is_dir():
        raise ImportError_(f"no TensorBoard logs at {str(root)!r}: not a folder")
    _protos()
    base = root.resolve()
    found: list[Pending] = []
    for dirpath, dirs, files in os.walk(base):
        dirs.sort()
        events = sorted(f for f in files if EVENTS.match(f))
        if not events:
            continue
        folder = Path(dirpath)
        stamps = [int(m["time"]) for f in events if (m := EVENTS.match(f))]
        rel = folder.relative_to(base).as_posix()
        name = base.name if rel == "." else rel
        found.append(
            Pending(
                source_id=str(folder),
                created=float(min(stamps)),
                where=str(folder),
                load=_loader(folder, [folder / f for f in events], name, base.name),
            )
        )
    return found


def _loader(folder: Path, files: list[Path], name: str, experiment: str) -> Any:
    def load() -> SourceRun:
        return read_run(folder, files, name, experiment)

    return load


def records(path: Path) -> list[bytes]:
    """The records of one event file."""
    from tensorboardX.record_writer import masked_crc32c

    data = path.read_bytes()
    out: list[bytes] = []
    pos = 0
    while pos + 12 <= len(data):
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        if masked_crc32c(header) != crc:
            raise ValueError(f"{path}: record at byte {pos} is corrupt (length CRC mismatch)")
        end = pos + 12 + length + 4
        if end > len(data):
            break  # torn last record
        out.append(data[pos + 12 : pos + 12 + length])
        pos = end
    return out


def read_run(folder: Path, files: list[Path], name: str, experiment: str) -> SourceRun:
    event_pb2, hparams_pb2 = _protos()
    series: dict[str, tuple[list[int], list[int], list[float]]] = {}
    params: dict[str, Any] = {}
    notes: list[str] = []
    first = last = None
    for path in files:
        for raw in records(path):
            event = event_pb2.Event()
            try:
                event.ParseFromString(raw)
            except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError, among others
                raise ValueError(f"{path}: an event does not parse ({exc})") from None
            wall = event.wall_time
            first = wall if first is None else min(first, wall)
            last = wall if last is None else max(last, wall)
            if not event.HasField("summary"):
                continue
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "hparams":
                    params.update(_hparams(hparams_pb2, value.metadata.plugin_data.content))
                elif plugin == "text":
                    notes.append(_text(value, event.step))
                elif plugin in ("", "scalars"):
                    number = _scalar(value)
                    if number is not None:
                        steps, times, values = series.setdefault(value.tag, ([], [], []))
                        steps.append(event.step)
                        times.append(round(wall * 1_000_000))
                        values.append(number)
    created = float(first) if first is not None else 0.0
    return SourceRun(
        source=SOURCE,
        source_id=str(folder),
        experiment=experiment,
        name=name,
        status="finished",
        created=created,
        ended=float(last) if last is not None else None,
        params=params,
        notes="\n".join(notes) or None,
        metrics={
            key: Points(
                step=np.array(s, dtype=np.int64),
                time_us=np.array(t, dtype=np.int64),
                value=np.array(v, dtype=np.float64),
            )
            for key, (s, t, v) in series.items()
        },
        uri=str(folder),
    )


def _scalar(value: Any) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return float(value.simple_value)
    if kind != "tensor":
        return None
    tensor = value.tensor
    if any(d.size != 1 for d in tensor.tensor_shape.dim):
        return None
    for field in ("double_val", "float_val", "int64_val", "int_val"):
        values = getattr(tensor, field)
        if len(values) == 1:
            return float(values[0])
    dtypes = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8"}  # DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64
    kind_code = dtypes.get(tensor.dtype)
    if kind_code is not None and tensor.tensor_content:
        array = np.frombuffer(tensor.tensor_content, dtype=kind_code)
        if array.size == 1:
            return float(array[0])
    return None


def _hparams(hparams_pb2: Any, content: bytes) -> dict[str, Any]:
    data = hparams_pb2.HParamsPluginData()
    data.ParseFromString(content)
    if not data.HasField("session_start_info"):
        return {}
    out: dict[str, Any] = {}
    for key, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        if kind == "number_value":
            number = value.number_value
            out[key] = int(number) if number.is_integer() and abs(number) < 2**53 else number
        elif kind == "string_value":
            out[key] = value.string_value
        elif kind == "bool_value":
            out[key] = value.bool_value
    return out


def _text(value: Any, step: int) -> str:
    texts = [b.decode("utf-8", errors="replace") for b in value.tensor.string_val]
    tag = value.tag.removesuffix(_TEXT_SUFFIX)
    return f"## {tag} (step {step})\n\n" + "\n".join(texts) + "\n"
