"""Distances between a baseline profile (store/profile.py) and current data, per column.

The three distances, each on plain arrays so any caller can use them alone:

- `psi(expected, actual)`: population stability index of two count vectors over the same bins,
  sum((a - e) * ln(a / e)) over the bins' shares, each share floored at `EPS` so an empty bin
  stays finite;
- `wasserstein(u, v)`: the exact 1-Wasserstein (earth mover's) distance between two samples,
  equal to `scipy.stats.wasserstein_distance(u, v)`; `compare` divides it by the baseline's std
  (by 1 when that std is 0) so one threshold fits every feature's scale;
- `js_distance(p, q)`: Jensen-Shannon distance in base 2 (0 = same, 1 = disjoint) of two count
  vectors, equal to `scipy.spatial.distance.jensenshannon(p, q, base=2)`.

`compare(baseline, current)` returns one row per baseline column (see its docstring). The
thresholds flag drift on distance, not on p-values: with large windows every p-value is ~0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from .profile import bin_counts, category_values, kind_of, numeric_values, sample_frame

EPS = 1e-4
# The key of a profile's "other" bucket among current category counts: no string value has it.
OTHER = "\x00other"

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Thresholds:
    """Drift is flagged when any distance is above its threshold (None turns one off)."""

    psi: float | None = 0.2
    wasserstein: float | None = 0.1
    js: float | None = 0.1

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> Thresholds:
        """Thresholds from {"psi": .., "wasserstein": .., "js": ..}; missing keys keep defaults."""
        if not values:
            return cls()
        unknown = set(values) - {"psi", "wasserstein", "js"}
        if unknown:
            raise ValueError(f"unknown drift threshold {sorted(unknown)[0]!r}")
        out: dict[str, float | None] = {}
        for key, value in values.items():
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value < 0
            ):
                raise ValueError(f"drift threshold {key!r} must be a number >= 0, not {value!r}")
            out[key] = None if value is None else float(value)
        return cls(**out)

    def to_dict(self) -> dict[str, float | None]:
        return {"psi": self.psi, "wasserstein": self.wasserstein, "js": self.js}


def _shares(counts: Any) -> FloatArray:
    arr = np.asarray(counts, dtype=np.float64)
    total = arr.sum()
    return arr / total if total > 0 else np.zeros_like(arr)


def psi(expected: Any, actual: Any, eps: float = EPS) -> float:
    """Population stability index of two count vectors over the same bins."""
    e = np.maximum(_shares(expected), eps)
    a = np.maximum(_shares(actual), eps)
    return float(np.sum((a - e) * np.log(a / e)))


def wasserstein(u: Any, v: Any) -> float:
    """Exact 1-Wasserstein distance between two samples (NaN when either is empty)."""
    us = np.sort(np.asarray(u, dtype=np.float64))
    vs = np.sort(np.asarray(v, dtype=np.float64))
    if len(us) == 0 or len(vs) == 0:
        return math.nan
    both = np.sort(np.concatenate([us, vs]))
    deltas = np.diff(both)
    u_cdf = np.searchsorted(us, both[:-1], side="right") / len(us)
    v_cdf = np.searchsorted(vs, both[:-1], side="right") / len(vs)
    return float(np.sum(np.abs(u_cdf - v_cdf) * deltas))


def js_distance(p: Any, q: Any) -> float:
    """Jensen-Shannon distance, base 2, of two count (or probability) vectors."""
    ps, qs = _shares(p), _shares(q)
    m = (ps + qs) / 2.0

    def kl(x: FloatArray) -> float:
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / m[mask])))

    return math.sqrt(max((kl(ps) + kl(qs)) / 2.0, 0.0))


COLUMNS: dict[str, Any] = {
    "column": pl.String,
    "kind": pl.String,
    "rows": pl.Int64,
    "psi": pl.Float64,
    "wasserstein": pl.Float64,
    "js": pl.Float64,
    "null_share": pl.Float64,
    "baseline_null_share": pl.Float64,
    "out_of_range_share": pl.Float64,
    "unseen_share": pl.Float64,
    "unseen": pl.List(pl.String),
    "drift": pl.Boolean,
}


def _flag(value: float | None, threshold: float | None) -> bool:
    return (
        value is not None and threshold is not None and not math.isnan(value) and value > threshold
    )


def _numeric_row(
    base: dict[str, Any], values: FloatArray, base_sample: FloatArray | None
) -> dict[str, Any]:
    edges = base.get("edges")
    row: dict[str, Any] = {"psi": None, "wasserstein": None, "out_of_range_share": None}
    if not edges or len(values) == 0:
        return row
    row["psi"] = psi(base["counts"], bin_counts(edges, values))
    outside = np.count_nonzero((values < base["min"]) | (values > base["max"]))
    row["out_of_range_share"] = outside / len(values)
    if base_sample is not None and len(base_sample):
        std = base.get("std") or 0.0
        row["wasserstein"] = wasserstein(base_sample, values) / (std if std > 0 else 1.0)
    return row


def _categorical_row(
    base: dict[str, Any], counts: dict[str, int], known: set[str]
) -> dict[str, Any]:
    names = list(base.get("categories", {}))
    expected = [base["categories"][n] for n in names] + [base.get("other", 0)]
    actual = [counts.get(n, 0) for n in names]
    actual.append(sum(counts.values()) - sum(actual))
    total = sum(counts.values())
    unseen = sorted(k for k in counts if k not in known)
    return {
        "psi": psi(expected, actual) if total else None,
        "js": js_distance(expected, actual) if total else None,
        "unseen_share": sum(counts[k] for k in unseen) / total if total else None,
        "unseen": unseen[:20],
    }


def _value_counts(values: pl.Series) -> dict[str, int]:
    counts = values.value_counts(name="n")
    return dict(zip(counts[values.name].to_list(), counts["n"].to_list(), strict=True))


def _current_numeric(
    current: pl.DataFrame | dict[str, Any], sample: pl.DataFrame | None, name: str
) -> tuple[FloatArray, float | None]:
    """The current values of a numeric column and its null share (None when no rows)."""
    if isinstance(current, dict):
        col = current.get("columns", {}).get(name)
        series = sample[name] if sample is not None and name in sample.columns else None
        values = numeric_values(series) if series is not None else np.empty(0)
        share = col.get("null_share") if col else (1.0 if current.get("rows") else None)
        return values, share
    if name not in current.columns or not current[name].dtype.is_numeric():
        return np.empty(0), 1.0 if current.height else None
    values = numeric_values(current[name])
    return values, (current.height - len(values)) / current.height if current.height else None


def _current_counts(
    current: pl.DataFrame | dict[str, Any], name: str
) -> tuple[dict[str, int], float | None]:
    """The current category counts of a column ("other" under OTHER) and its null share."""
    if isinstance(current, dict):
        col = current.get("columns", {}).get(name)
        if not col:
            return {}, 1.0 if current.get("rows") else None
        counts = {str(k): int(v) for k, v in col.get("categories", {}).items()}
        if col.get("other"):
            counts[OTHER] = int(col["other"])
        return counts, col.get("null_share")
    if name not in current.columns:
        return {}, 1.0 if current.height else None
    series = current[name]
    values = (
        category_values(series)
        if kind_of(series.dtype) == "categorical"
        else series.drop_nulls().cast(pl.String)
    )
    share = (series.len() - values.len()) / series.len() if series.len() else None
    return _value_counts(values), share


def compare(
    baseline: dict[str, Any],
    current: pl.DataFrame | dict[str, Any],
    *,
    thresholds: Thresholds | None = None,
) -> pl.DataFrame:
    """Drift of `current` (a frame, or another profile) from `baseline`, one row per column.

    Columns of the result: column, kind, rows (current rows), psi (on the baseline's bins or
    categories), wasserstein (numeric: against the baseline's sample, over the baseline std),
    js (categorical), null_share and baseline_null_share, out_of_range_share (numeric values
    outside the baseline's [min, max]), unseen_share and unseen (categories never seen in the
    baseline's counts or sample, at most 20 named), drift (any distance above `thresholds`).
    Distances are null where there is nothing to compare (no current values, no sample).

    A baseline column missing from `current` reads as all-null. When `current` is a profile,
    numeric distances use its sample (at most 10k rows), categorical ones its top-k counts
    with the rest as one "other" bucket (never unseen).
    """
    limits = thresholds or Thresholds()
    base_sample = sample_frame(baseline)
    cur_sample = sample_frame(current) if isinstance(current, dict) else None
    cur_rows = int(current.get("rows", 0)) if isinstance(current, dict) else current.height
    rows: list[dict[str, Any]] = []
    for name, base in baseline.get("columns", {}).items():
        kind = base.get("kind")
        row: dict[str, Any] = {
            "column": name,
            "kind": kind,
            "rows": cur_rows,
            "baseline_null_share": base.get("null_share"),
            "unseen": [],
        }
        if kind == "numeric":
            values, row["null_share"] = _current_numeric(current, cur_sample, name)
            sample = numeric_values(base_sample[name]) if name in base_sample.columns else None
            row |= _numeric_row(base, values, sample)
        elif kind == "categorical":
            counts, row["null_share"] = _current_counts(current, name)
            known = set(base.get("categories", {})) | {OTHER}
            if name in base_sample.columns:
                known |= set(base_sample[name].drop_nulls().to_list())
            row |= _categorical_row(base, counts, known)
        row["drift"] = (
            _flag(row.get("psi"), limits.psi)
            or _flag(row.get("wasserstein"), limits.wasserstein)
            or _flag(row.get("js"), limits.js)
        )
        rows.append({k: row.get(k) for k in COLUMNS})
    return (
        pl.DataFrame(rows, schema=COLUMNS, orient="row") if rows else pl.DataFrame(schema=COLUMNS)
    )
