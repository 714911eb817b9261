"""Format versions and the Arrow schemas of the store (see docs/FORMAT.md)."""

from __future__ import annotations

import pyarrow as pa

STORE_FORMAT = "mmtop-store"
STORE_VERSION = 1
RUN_SCHEMA_VERSION = 1

# Long format shared by metrics/ and system/ parts. The key column is dictionary-encoded on
# disk: a run logs few distinct keys, many times.
POINT_SCHEMA = pa.schema(
    [
        pa.field("step", pa.int64(), nullable=False),
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("key", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
    ]
)

# Compression and encodings chosen to keep a point near 10 bytes on disk: steps and times
# are monotone within a key, so delta encoding shrinks them to a few bits.
PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": ["key"],
    "column_encoding": {"step": "DELTA_BINARY_PACKED", "time": "DELTA_BINARY_PACKED"},
    "write_statistics": ["step", "time"],
}

STATUSES = ("running", "finished", "failed", "killed", "crashed")
FINAL_STATUSES = ("finished", "failed", "killed")
