"""What a dataset source is and how to read it: frames and arrays as Arrow tables, files and
folders by their bytes (hashed as streams) and, when asked for, as tables.

Reading a file as a table (a snapshot, a diff) is only done on request; describing a file
(rows, columns) reads a Parquet footer, or streams a CSV block by block.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..tables import to_arrow
from . import fingerprint

TABULAR_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv")
# Profiling reads the data into memory: files and folders larger than this are registered
# without a profile, so registering a big dataset keeps its bounded memory.
PROFILE_MAX_BYTES = 256 << 20


def is_path(source: Any) -> bool:
    return isinstance(source, str | os.PathLike)


def as_table(source: Any) -> pa.Table:
    """A pyarrow Table from a polars/pandas/pyarrow frame, a dict of columns or a numpy array
    (1-D: one column `0`; more dimensions: one column per value of a row, `0..k-1`)."""
    import numpy as np

    if isinstance(source, np.ndarray):
        width = int(np.prod(source.shape[1:])) if source.ndim > 1 else 1
        flat = source.reshape(source.shape[0] if source.ndim else 1, width)
        return pa.table({str(i): flat[:, i] for i in range(flat.shape[1])})
    if type(source).__module__.startswith("pandas") and hasattr(source, "to_frame"):
        source = source.to_frame()  # a Series
    if type(source).__module__.startswith("polars") and hasattr(source, "to_frame"):
        source = source.to_frame()
    return to_arrow(source)


def describe(source: Any) -> dict[str, Any]:
    """kind, fingerprint, size/files, rows and schema of a source, without loading a file."""
    if is_path(source):
        path = Path(source)
        if path.is_file():
            digest = fingerprint.hash_file(path)
            out: dict[str, Any] = {
                "kind": "file",
                "fingerprint": fingerprint.PREFIX + digest,
                "size": path.stat().st_size,
                "uri": str(path.resolve()),
            }
            out.update(file_shape(path))
            return out
        if path.is_dir():
            digest, files = fingerprint.hash_folder(path)
            out = {
                "kind": "folder",
                "fingerprint": fingerprint.PREFIX + digest,
                "size": sum(int(f["size"]) for f in files),
                "files": len(files),
                "uri": str(path.resolve()),
            }
            out.update(folder_shape(path, files))
            return out
        raise FileNotFoundError(f"dataset source does not exist: {path}")
    table = as_table(source)
    return {
        "kind": "frame",
        "fingerprint": fingerprint.PREFIX + fingerprint.hash_table(table),
        "rows": table.num_rows,
        "schema": schema_of(table.schema),
        "uri": None,
    }


def schema_of(schema: pa.Schema) -> dict[str, str]:
    return {f.name: str(f.type) for f in schema}


def file_shape(path: Path) -> dict[str, Any]:
    """Rows and schema of a Parquet (from its footer) or CSV file (streamed); {} otherwise."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            meta = pq.read_metadata(path)
            return {"rows": meta.num_rows, "schema": schema_of(meta.schema.to_arrow_schema())}
        if suffix in (".csv", ".tsv"):
            reader = _csv_reader(path)
            rows = sum(batch.num_rows for batch in reader)
            return {"rows": rows, "schema": schema_of(reader.schema)}
    except (OSError, pa.ArrowException):
        return {}  # not what its name says: the bytes' fingerprint stands alone
    return {}


def folder_shape(folder: Path, files: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows and schema of a folder of Parquet or CSV files that share one schema; else {}."""
    rows = 0
    schema: dict[str, str] | None = None
    for f in files:
        shape = file_shape(folder / str(f["path"]))
        if not shape:
            return {}
        if schema is not None and shape["schema"] != schema:
            return {}
        schema = shape["schema"]
        rows += int(shape["rows"])
    return {"rows": rows, "schema": schema} if schema is not None else {}


def _csv_reader(path: Path) -> Any:
    import pyarrow.csv as pcsv

    parse = pcsv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    return pcsv.open_csv(path, parse_options=parse)


def read_table(path: Path) -> pa.Table:
    """A Parquet or CSV file, or a folder of them, as one table (this does load it)."""
    if path.is_dir():
        files = [p for p in fingerprint.folder_files(path) if p.suffix.lower() in TABULAR_SUFFIXES]
        if not files:
            raise ValueError(f"{path}: no Parquet or CSV files in the folder")
        return pa.concat_tables([read_table(p) for p in files], promote_options="default")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if suffix in (".csv", ".tsv"):
        return _csv_reader(path).read_all()
    raise ValueError(f"{path}: not a Parquet or CSV file, cannot read it as a table")


def write_snapshot(source: Any, target: Path) -> None:
    """`source` as one Parquet file at `target` (streamed for CSV, copied for Parquet)."""
    import shutil

    import pyarrow.parquet as pq

    if not is_path(source):
        pq.write_table(as_table(source), target, compression="zstd")
        return
    path = Path(source)
    suffix = path.suffix.lower()
    if path.is_file() and suffix in (".parquet", ".pq"):
        shutil.copyfile(path, target)
    elif path.is_file() and suffix in (".csv", ".tsv"):
        reader = _csv_reader(path)
        with pq.ParquetWriter(target, reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
    else:
        pq.write_table(read_table(path), target, compression="zstd")


def profile_of(source: Any, info: dict[str, Any]) -> dict[str, Any] | None:
    """The per-column profile (store/profile.py) of a frame, or of a Parquet/CSV file or folder
    of them up to PROFILE_MAX_BYTES; None for anything else, or data it cannot profile."""
    import polars as pl

    from ..profile import profile

    try:
        if is_path(source):
            size = info.get("size")
            if info.get("schema") is None or not isinstance(size, int) or size > PROFILE_MAX_BYTES:
                return None
            table = read_table(Path(source))
        else:
            table = as_table(source)
        frame = pl.from_arrow(table)
        if not isinstance(frame, pl.DataFrame):
            return None
        return profile(frame)
    except (pa.ArrowException, pl.exceptions.PolarsError, ValueError, TypeError, OSError):
        return None  # a profile describes the data; its absence must not refuse the data
