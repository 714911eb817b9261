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

from .profile import category_values, kind_of, numeric_values, sample_frame

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
    return wasserstein_sorted(
        np.sort(np.asarray(u, dtype=np.float64)), np.sort(np.asarray(v, dtype=np.float64))
    )


def wasserstein_sorted(us: FloatArray, vs: FloatArray) -> float:
    """`wasserstein` of two already sorted samples: their merge and CDFs in linear time
    (a sort of the current window is the whole cost of a drift report's Wasserstein)."""
    m, n = len(us), len(vs)
    if m == 0 or n == 0:
        return math.nan
    # Where each u lands among the v's: the merged order without sorting the union again.
    at = np.searchsorted(vs, us, side="left") + np.arange(m)
    is_u = np.zeros(m + n, dtype=bool)
    is_u[at] = True
    merged = np.empty(m + n, dtype=np.float64)
    merged[at] = us
    merged[~is_u] = vs
    # Counts so far in merged order; inside a run of ties they lag the CDF, but there the
    # gap to the next value is 0, so the sum is the same as with the CDFs themselves.
    u_cdf = np.cumsum(is_u[:-1]) / m
    v_cdf = (np.arange(1, m + n) - np.cumsum(is_u[:-1])) / n
    return float(np.sum(np.abs(u_cdf - v_cdf) * np.diff(merged)))


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
    base: dict[str, Any], vs: FloatArray, base_sorted: FloatArray | None
) -> dict[str, Any]:
    """Distances of one numeric column from its current values `vs`, sorted."""
    edges = base.get("edges")
    row: dict[str, Any] = {"psi": None, "wasserstein": None, "out_of_range_share": None}
    if not edges or len(vs) == 0:
        return row
    n = len(vs)
    # Bin i holds [edges[i], edges[i+1]): the values below each inner edge, differenced.
    below = np.searchsorted(vs, np.asarray(edges[1:-1], dtype=np.float64), side="left")
    row["psi"] = psi(base["counts"], np.diff(np.concatenate([[0], below, [n]])))
    low = np.searchsorted(vs, base["min"], side="left")
    high = n - np.searchsorted(vs, base["max"], side="right")
    row["out_of_range_share"] = float(low + high) / n
    if base_sorted is not None and len(base_sorted):
        std = base.get("std") or 0.0
        row["wasserstein"] = wasserstein_sorted(base_sorted, vs) / (std if std > 0 else 1.0)
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


def _sorted_columns(frame: pl.DataFrame, names: list[str]) -> dict[str, FloatArray]:
    """The finite values of numeric columns of `frame`, each sorted: one polars call sorts
    them all (in parallel), nulls and NaN last, infinities cut off the ends."""
    if not names or frame.height == 0:
        return {name: np.empty(0) for name in names}
    ordered = frame.select(pl.col(names).cast(pl.Float64).fill_nan(None).sort(nulls_last=True))
    out: dict[str, FloatArray] = {}
    for name in names:
        series = ordered[name]
        values = series[: series.len() - series.null_count()].to_numpy()
        lo = np.searchsorted(values, -np.inf, side="right")
        hi = np.searchsorted(values, np.inf, side="left")
        out[name] = values[lo:hi]
    return out


def _current_numeric(
    current: pl.DataFrame | dict[str, Any], sample: pl.DataFrame | None, names: list[str]
) -> dict[str, tuple[FloatArray, float | None]]:
    """Per numeric column: its current finite values, sorted, and its null share (None when
    there are no rows)."""
    if isinstance(current, dict):
        out = {}
        rows = current.get("rows")
        for name in names:
            col = current.get("columns", {}).get(name)
            series = sample[name] if sample is not None and name in sample.columns else None
            values = np.sort(numeric_values(series)) if series is not None else np.empty(0)
            out[name] = (values, col.get("null_share") if col else (1.0 if rows else None))
        return out
    present = [n for n in names if n in current.columns and current[n].dtype.is_numeric()]
    found = _sorted_columns(current, present)
    height = current.height
    return {
        name: (
            found.get(name, np.empty(0)),
            (height - len(found.get(name, ()))) / height if height else None,
        )
        for name in names
    }


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


@dataclass(frozen=True)
class Prepared:
    """A baseline profile made ready for many `compare` calls (one per window): its sample's
    numeric columns sorted and its known categories collected once."""

    profile: dict[str, Any]
    sorted_samples: dict[str, FloatArray]
    known: dict[str, set[str]]


def prepare(baseline: dict[str, Any]) -> Prepared:
    """`baseline` ready for `compare`; pass the result instead of the dict to reuse it."""
    sample = sample_frame(baseline)
    sorted_samples: dict[str, FloatArray] = {}
    known: dict[str, set[str]] = {}
    for name, base in baseline.get("columns", {}).items():
        kind = base.get("kind")
        present = name in sample.columns
        if kind == "numeric" and present:
            sorted_samples[name] = np.sort(numeric_values(sample[name]))
        elif kind == "categorical":
            known[name] = set(base.get("categories", {})) | {OTHER}
            if present:
                known[name] |= set(sample[name].drop_nulls().to_list())
    return Prepared(baseline, sorted_samples, known)


def compare(
    baseline: dict[str, Any] | Prepared,
    current: pl.DataFrame | dict[str, Any],
    *,
    thresholds: Thresholds | None = None,
) -> pl.DataFrame:
    """Drift of `current` (a frame, or another profile) from `baseline` (a profile, or one
    made ready with `prepare`), one row per baseline column.

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
    ready = baseline if isinstance(baseline, Prepared) else prepare(baseline)
    cur_sample = sample_frame(current) if isinstance(current, dict) else None
    cur_rows = int(current.get("rows", 0)) if isinstance(current, dict) else current.height
    rows: list[dict[str, Any]] = []
    numeric = [n for n, b in ready.profile.get("columns", {}).items() if b.get("kind") == "numeric"]
    current_numeric = _current_numeric(current, cur_sample, numeric)
    for name, base in ready.profile.get("columns", {}).items():
        kind = base.get("kind")
        row: dict[str, Any] = {
            "column": name,
            "kind": kind,
            "rows": cur_rows,
            "baseline_null_share": base.get("null_share"),
            "unseen": [],
        }
        if kind == "numeric":
            values, row["null_share"] = current_numeric[name]
            row |= _numeric_row(base, values, ready.sorted_samples.get(name))
        elif kind == "categorical":
            counts, row["null_share"] = _current_counts(current, name)
            row |= _categorical_row(base, counts, ready.known.get(name, {OTHER}))
        row["drift"] = (
            _flag(row.get("psi"), limits.psi)
            or _flag(row.get("wasserstein"), limits.wasserstein)
            or _flag(row.get("js"), limits.js)
        )
        rows.append({k: row.get(k) for k in COLUMNS})
    return (
        pl.DataFrame(rows, schema=COLUMNS, orient="row") if rows else pl.DataFrame(schema=COLUMNS)
    )
