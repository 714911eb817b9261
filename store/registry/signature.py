"""Input examples (stored as Parquet) and the signature of a model's inputs and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..tables import to_arrow

MAX_EXAMPLE_ROWS = 100


def _as_array(value: Any) -> np.ndarray[Any, Any] | None:
    """A numpy array from an array-like (numpy, torch tensor, list); None for frames."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # torch tensors
        return np.asarray(value.detach().cpu().numpy())
    if isinstance(value, list | tuple):
        return np.asarray(value)
    return None


def describe(value: Any) -> dict[str, Any] | None:
    """A tensor's dtype and shape (batch axis as -1), or a frame's column types."""
    if value is None:
        return None
    array = _as_array(value)
    if array is not None:
        shape = [-1, *array.shape[1:]] if array.ndim else []
        return {"kind": "tensor", "dtype": str(array.dtype), "shape": shape}
    try:
        table = to_arrow(value)
    except TypeError:
        return {"kind": "object", "type": type(value).__name__}
    return {
        "kind": "columns",
        "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
    }


def write_example(value: Any, target: Path) -> None:
    """Store the first rows of an input example as Parquet; tensors become columns 0..k-1."""
    array = _as_array(value)
    if array is not None:
        rows = array[:MAX_EXAMPLE_ROWS]
        flat = rows.reshape(rows.shape[0], -1) if rows.ndim > 1 else rows.reshape(-1, 1)
        table = pa.table({str(i): flat[:, i] for i in range(flat.shape[1])})
        table = table.replace_schema_metadata(
            {"mmtop.shape": ",".join(str(d) for d in rows.shape[1:]), "mmtop.kind": "tensor"}
        )
    else:
        table = to_arrow(value).slice(0, MAX_EXAMPLE_ROWS)
    pq.write_table(table, target, compression="zstd")


def read_example(path: Path) -> Any:
    """The stored example: a numpy array for a tensor example, else a pyarrow Table."""
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    if meta.get(b"mmtop.kind") != b"tensor":
        return table
    text = meta.get(b"mmtop.shape", b"").decode()
    shape = [int(d) for d in text.split(",") if d]
    flat = np.column_stack([c.to_numpy() for c in table.columns])
    return flat.reshape(table.num_rows, *shape)
