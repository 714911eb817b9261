"""The in-memory buffer behind `Run.log`: cheap appends, columnar conversion at flush time.

`Run.log` is on the training loop's hot path, so each call appends one tuple (a single,
signal-safe list append) and all per-point work happens in bulk, with numpy, when the
background thread drains the buffer into an Arrow table.
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa

from .schema import POINT_SCHEMA


@dataclass
class KeyStats:
    """Running summary of one metric key, as written to summary/<writer>.json."""

    last: float
    last_step: int
    last_time: float
    min: float
    max: float
    count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "last": self.last,
            "last_step": self.last_step,
            "last_time": self.last_time,
            "min": self.min,
            "max": self.max,
            "count": self.count,
        }


@dataclass
class Batch:
    """One drained buffer: the Arrow table of its points and its per-key statistics."""

    table: pa.Table
    stats: dict[str, KeyStats] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


class PointBuffer:
    """Thread-safe buffer of logged calls.

    `Run.log` appends one (step, time, keyset, values) tuple per call with a bound `append`:
    a single list append, so a signal can never leave half a call in the buffer.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[int, float, int, array[float]]] = []
        self.keyset_ids: dict[tuple[str, ...], int] = {}
        self._keyset_list: list[tuple[str, ...]] = []
        self._lock = threading.RLock()
        self._drain_lock = threading.Lock()  # one drain at a time: each deletes what it read

    def __len__(self) -> int:
        return len(self.calls)

    def keyset_id(self, keys: tuple[str, ...]) -> int | None:
        return self.keyset_ids.get(keys)

    def add_keyset(self, keys: tuple[str, ...]) -> int:
        with self._lock:
            found = self.keyset_ids.get(keys)
            if found is not None:
                return found
            self._keyset_list.append(keys)
            self.keyset_ids[keys] = len(self._keyset_list) - 1
            return len(self._keyset_list) - 1

    def drain(self) -> Batch | None:
        """The buffered calls as one batch, taken out of the buffer only once converted: a
        conversion that fails leaves every call in place."""
        with self._drain_lock:
            with self._lock:
                n = len(self.calls)
                if n == 0:
                    return None
                calls = self.calls[:n]
                names = list(self._keyset_list)
            # Column-wise with itemgetter: zip(*calls) on 1e5+ tuples is several times slower.
            batch = _to_batch(
                list(map(itemgetter(0), calls)),
                list(map(itemgetter(1), calls)),
                list(map(itemgetter(2), calls)),
                list(map(itemgetter(3), calls)),
                names,
            )
            # Delete the prefix, never rebind: `Run.log` holds the bound append of this list
            # and may have appended meanwhile.
            del self.calls[:n]
        return batch


def _to_batch(
    steps_c: list[int],
    times_c: list[float],
    ks_c: list[int],
    vals_c: list[array[float]],
    keysets: list[tuple[str, ...]],
) -> Batch:
    n = len(steps_c)
    ks_ids = np.fromiter(ks_c, dtype=np.int64, count=n)
    step_arr = np.fromiter(steps_c, dtype=np.int64, count=n)
    time_arr = (np.fromiter(times_c, dtype=np.float64, count=n) * 1e6).astype(np.int64)
    first = int(ks_ids[0])
    if bool((ks_ids == first).all()):
        # The usual case, one set of keys for every call: the values form an (n x width)
        # matrix, and its transpose is already ordered by key, then by call.
        names = list(keysets[first])
        width = len(names)
        matrix = np.frombuffer(b"".join(vals_c), dtype=np.float64, count=n * width)
        values = matrix.reshape(n, width).T.ravel()
        key_idx = np.repeat(np.arange(width, dtype=np.int32), n)
        steps = np.tile(step_arr, width)
        times_us = np.tile(time_arr, width)
    else:
        names, key_idx, steps, times_us, values = _mixed(
            step_arr, time_arr, ks_ids, vals_c, keysets
        )
    arrow = points_table(names, key_idx, steps, times_us, values)
    return Batch(arrow, key_stats(key_idx, steps, times_us, values, names))


def points_table(
    names: list[str],
    key_idx: np.ndarray[Any, Any],
    steps: np.ndarray[Any, Any],
    times_us: np.ndarray[Any, Any],
    values: np.ndarray[Any, Any],
) -> pa.Table:
    """Points as a part's table (POINT_SCHEMA): key `names[key_idx[i]]`, step, time (µs since
    the epoch, UTC) and value of point i, from numpy arrays without a Python object per point."""
    return pa.Table.from_arrays(
        [
            _from_numpy(steps, np.int64, pa.int64()),
            _from_numpy(times_us, np.int64, pa.timestamp("us", tz="UTC")),
            pa.DictionaryArray.from_arrays(
                _from_numpy(key_idx, np.int32, pa.int32()), _strings(names)
            ),
            _from_numpy(values, np.float64, pa.float64()),
        ],
        schema=POINT_SCHEMA,
    )


# Arrays are built from raw buffers: `pa.array` probes every input for pandas, importing it
# (a third of a second and tens of MB) into the training process on the first flush.
def _from_numpy(values: np.ndarray[Any, Any], dtype: Any, kind: pa.DataType) -> pa.Array:
    data = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])


def _strings(names: list[str]) -> pa.Array:
    encoded = [n.encode("utf-8") for n in names]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(e) for e in encoded])
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


def _mixed(
    step_arr: np.ndarray[Any, Any],
    time_arr: np.ndarray[Any, Any],
    ks_ids: np.ndarray[Any, Any],
    vals_c: list[array[float]],
    keysets: list[tuple[str, ...]],
) -> tuple[
    list[str],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
]:
    """Calls with different key sets: expand each call into its points, then sort by key."""
    values = np.frombuffer(b"".join(vals_c), dtype=np.float64)
    # A global key index for every key of every keyset, then a padded (keyset x slot) table
    # so that one fancy-index expands every call into its points, in call order.
    names: dict[str, int] = {}
    width = max(len(k) for k in keysets)
    table = np.full((len(keysets), width), -1, dtype=np.int32)
    for i, ks in enumerate(keysets):
        for j, key in enumerate(ks):
            table[i, j] = names.setdefault(key, len(names))
    lengths = (table >= 0).sum(axis=1)[ks_ids]
    per_call = table[ks_ids]
    key_idx = per_call[per_call >= 0]
    steps = np.repeat(step_arr, lengths)
    times_us = np.repeat(time_arr, lengths)
    # Stable, so steps stay in call order within a key: small deltas on disk.
    order = np.argsort(key_idx, kind="stable")
    return list(names), key_idx[order], steps[order], times_us[order], values[order]


def key_stats(
    key_idx: np.ndarray[Any, Any],
    steps: np.ndarray[Any, Any],
    times_us: np.ndarray[Any, Any],
    values: np.ndarray[Any, Any],
    names: list[str],
) -> dict[str, KeyStats]:
    """Per-key last/min/max/count of a key-sorted batch; NaN is data but never a min or max."""
    starts = np.flatnonzero(np.r_[True, key_idx[1:] != key_idx[:-1]])
    ends = np.r_[starts[1:], len(key_idx)] - 1
    with np.errstate(invalid="ignore"):
        mins = np.fmin.reduceat(values, starts)
        maxs = np.fmax.reduceat(values, starts)
    out: dict[str, KeyStats] = {}
    for s, e, lo, hi in zip(
        starts.tolist(), ends.tolist(), mins.tolist(), maxs.tolist(), strict=True
    ):
        out[names[int(key_idx[s])]] = KeyStats(
            last=float(values[e]),
            last_step=int(steps[e]),
            last_time=float(times_us[e]) / 1e6,
            min=float(lo),
            max=float(hi),
            count=e - s + 1,
        )
    return out


def merge_stats(into: dict[str, KeyStats], new: dict[str, KeyStats]) -> None:
    """Fold a batch's statistics into a writer's running summary (newer batch wins `last`)."""
    for key, st in new.items():
        old = into.get(key)
        if old is None:
            into[key] = st
            continue
        old.min = _fmin(old.min, st.min)
        old.max = _fmax(old.max, st.max)
        old.count += st.count
        old.last, old.last_step, old.last_time = st.last, st.last_step, st.last_time


def _fmin(a: float, b: float) -> float:
    return b if a != a else a if b != b else min(a, b)  # NaN-ignoring, like np.fmin


def _fmax(a: float, b: float) -> float:
    return b if a != a else a if b != b else max(a, b)
