"""Per-column profile of a polars frame: what a baseline or a dataset version looked like.

`profile(frame)` returns a plain dict that `json.dumps` takes as is:

    {"format": "mmtop-profile", "version": 1, "rows": n,
     "columns": {name: column profile, ...},
     "sample": {"rows": k, "seed": s, "columns": {name: [values...]}}}

A numeric column (integers, floats) profiles as
    {"kind": "numeric", "dtype", "count" (non-null), "nulls", "null_share",
     "mean", "std" (ddof=1), "min", "max", "edges", "counts"}
where `edges` are the distinct linear-interpolated quantiles at 0, 1/bins, ..., 1 (numpy's
default `np.quantile`) and `counts[i]` counts values in bin i of `bin_index(edges, values)`:
the outer bins are open-ended, so a later value below the minimum falls in the first bin and
one above the maximum in the last. NaN and +-inf count as null: they have no place in a
distribution.

A categorical column (strings, categoricals, enums, booleans) profiles as
    {"kind": "categorical", "dtype", "count", "nulls", "null_share", "distinct",
     "categories": {value: count} (the `top_k` most frequent, ties by value), "other": count}
with values as strings (booleans as "true"/"false").

Any other dtype (dates, lists, structs...) gets {"kind": "other", "dtype", "count", "nulls",
"null_share"}. The sample is a uniform random draw of at most `sample_rows` rows (all rows
when there are fewer), in the frame's order, column-oriented; `sample_frame` reads it back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

FORMAT = "mmtop-profile"
VERSION = 1
BINS = 10
TOP_K = 20
SAMPLE_ROWS = 10_000

NumArray = np.ndarray[Any, np.dtype[np.float64]]


def kind_of(dtype: pl.DataType) -> str:
    """ "numeric", "categorical" or "other": how a column of this dtype is profiled."""
    if dtype.is_numeric():
        return "numeric"
    if dtype == pl.Boolean or dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        return "categorical"
    return "other"


def numeric_values(series: pl.Series) -> NumArray:
    """The finite values of a numeric column as float64, in order (NaN, inf, null dropped)."""
    values = series.drop_nulls().cast(pl.Float64)
    return values.filter(values.is_finite()).to_numpy()


def category_values(series: pl.Series) -> pl.Series:
    """The non-null values of a categorical column as strings."""
    values = series.drop_nulls()
    if values.dtype == pl.Boolean:
        return values.cast(pl.String).str.to_lowercase()
    return values.cast(pl.String)


def bin_index(edges: list[float], values: NumArray) -> np.ndarray[Any, np.dtype[np.intp]]:
    """The bin of each value: bin i holds [edges[i], edges[i+1]), outer bins open-ended.

    There are max(len(edges) - 1, 1) bins: a constant column has one edge and one bin.
    """
    inner = np.asarray(edges[1:-1], dtype=np.float64)
    return np.searchsorted(inner, values, side="right")


def bin_counts(edges: list[float], values: NumArray) -> list[int]:
    """How many of `values` fall in each bin of `edges` (see `bin_index`)."""
    n_bins = max(len(edges) - 1, 1)
    return [int(c) for c in np.bincount(bin_index(edges, values), minlength=n_bins)]


def _numeric(series: pl.Series, bins: int) -> dict[str, Any]:
    values = numeric_values(series)
    nulls = len(series) - len(values)
    out: dict[str, Any] = {
        "kind": "numeric",
        "dtype": str(series.dtype),
        "count": len(values),
        "nulls": nulls,
        "null_share": nulls / len(series) if len(series) else 0.0,
    }
    if len(values) == 0:
        return out | {"mean": None, "std": None, "min": None, "max": None}
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)))
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    edge_list = [float(e) for e in edges]
    return out | {
        "mean": float(np.mean(values)),
        "std": std,
        "min": float(values.min()),
        "max": float(values.max()),
        "edges": edge_list,
        "counts": bin_counts(edge_list, values),
    }


def _categorical(series: pl.Series, top_k: int) -> dict[str, Any]:
    values = category_values(series)
    nulls = len(series) - len(values)
    counts = values.value_counts(name="n").sort(["n", values.name], descending=[True, False])
    top = counts.head(top_k)
    kept = dict(zip(top[values.name].to_list(), top["n"].to_list(), strict=True))
    return {
        "kind": "categorical",
        "dtype": str(series.dtype),
        "count": len(values),
        "nulls": nulls,
        "null_share": nulls / len(series) if len(series) else 0.0,
        "distinct": counts.height,
        "categories": {str(k): int(v) for k, v in kept.items()},
        "other": int(len(values) - sum(kept.values())),
    }


def profile_column(series: pl.Series, *, bins: int = BINS, top_k: int = TOP_K) -> dict[str, Any]:
    """The profile of one column (see the module docstring for its keys)."""
    kind = kind_of(series.dtype)
    if kind == "numeric":
        return _numeric(series, bins)
    if kind == "categorical":
        return _categorical(series, top_k)
    nulls = series.null_count()
    return {
        "kind": "other",
        "dtype": str(series.dtype),
        "count": len(series) - nulls,
        "nulls": nulls,
        "null_share": nulls / len(series) if len(series) else 0.0,
    }


def draw_sample(frame: pl.DataFrame, rows: int = SAMPLE_ROWS, seed: int = 0) -> pl.DataFrame:
    """A uniform random draw of at most `rows` rows, kept in the frame's order."""
    if frame.height <= rows:
        return frame
    picked = np.sort(np.random.default_rng(seed).choice(frame.height, rows, replace=False))
    return frame[picked]


def _sample_values(series: pl.Series) -> list[Any]:
    kind = kind_of(series.dtype)
    if kind == "numeric":
        return [
            None if v is None or not math.isfinite(v) else v
            for v in series.cast(pl.Float64).to_list()
        ]
    if kind == "categorical" and series.dtype == pl.Boolean:
        return series.cast(pl.String).to_list()
    return [None if v is None else str(v) for v in series.to_list()]


def profile(
    frame: pl.DataFrame,
    *,
    bins: int = BINS,
    top_k: int = TOP_K,
    sample_rows: int = SAMPLE_ROWS,
    seed: int = 0,
) -> dict[str, Any]:
    """The profile of every column of `frame` plus a bounded random sample (module docstring).

    `bins` quantile bins per numeric column (fewer when quantiles coincide), the `top_k`
    categories per categorical column, at most `sample_rows` sampled rows drawn with `seed`.
    """
    if bins < 1 or top_k < 1 or sample_rows < 0:
        raise ValueError("profile: bins and top_k must be >= 1 and sample_rows >= 0")
    sample = draw_sample(frame, sample_rows, seed)
    return {
        "format": FORMAT,
        "version": VERSION,
        "rows": frame.height,
        "columns": {
            name: profile_column(frame[name], bins=bins, top_k=top_k) for name in frame.columns
        },
        "sample": {
            "rows": sample.height,
            "seed": seed,
            "columns": {name: _sample_values(sample[name]) for name in sample.columns},
        },
    }


def sample_frame(prof: dict[str, Any]) -> pl.DataFrame:
    """The profile's sample as a frame: numeric columns float64, the others strings."""
    columns = prof.get("sample", {}).get("columns", {})
    kinds = {name: col.get("kind") for name, col in prof.get("columns", {}).items()}
    return pl.DataFrame(
        {
            name: pl.Series(
                name, values, dtype=pl.Float64 if kinds.get(name) == "numeric" else pl.String
            )
            for name, values in columns.items()
        }
    )
