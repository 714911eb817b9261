"""Format versions and the Arrow schema of the store's Parquet parts (see docs/FORMAT.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

STORE_FORMAT = "mmtop-store"
STORE_VERSION = 1
RUN_SCHEMA_VERSION = 1

FINAL_STATUSES = ("finished", "failed", "killed")

# Compression and encodings chosen to keep a point near 10 bytes on disk: steps and times
# are monotone within a key, so delta encoding shrinks them to a few bits.
PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": ["key"],
    "column_encoding": {"step": "DELTA_BINARY_PACKED", "time": "DELTA_BINARY_PACKED"},
    "write_statistics": ["step", "time"],
    # A CRC per page: pyarrow (and other engines that check them) notice a flipped byte.
    "write_page_checksum": True,
}

POINT_SCHEMA: pa.Schema


def _point_schema() -> pa.Schema:
    """Long format shared by metrics/ and system/ parts. The key column is dictionary-encoded
    on disk: a run logs few distinct keys, many times."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("step", pa.int64(), nullable=False),
            pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("key", pa.dictionary(pa.int32(), pa.string()), nullable=False),
            pa.field("value", pa.float64(), nullable=False),
        ]
    )


def __getattr__(name: str) -> Any:
    # Built on first use, so that reading run.json (which needs the versions above) does not
    # import pyarrow.
    if name == "POINT_SCHEMA":
        globals()["POINT_SCHEMA"] = schema = _point_schema()
        return schema
    raise AttributeError(f"module 'mmtop.store.schema' has no attribute {name!r}")
