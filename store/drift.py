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
    """When monitoring alerts on a feature (None turns a check off).

    Drift (`compare`'s `drift` column): any distance above its threshold, `psi`,
    `wasserstein` (normalised) or `js`. Data quality (alerts of their own in a monitoring
    report): the null share above the baseline's by more than `null_share` (absolute), more
    than `out_of_range` of a numeric feature's values outside the baseline's [min, max], or
    more than `unseen` of a categorical feature's values in categories the baseline never saw.
    """

    psi: float | None = 0.2
    wasserstein: float | None = 0.1
    js: float | None = 0.1
    null_share: float | None = 0.05
    out_of_range: float | None = 0.05
    unseen: float | None = 0.05

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> Thresholds:
        """Thresholds from {"psi": .., "null_share": .., ...}; missing keys keep defaults."""
        if not values:
            return cls()
        unknown = set(values) - set(KEYS)
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
        return {key: getattr(self, key) for key in KEYS}


KEYS = ("psi", "wasserstein", "js", "null_share", "out_of_range", "unseen")


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
    """`wasserstein` of two already sorted samples, in O(m log n + n) for a small `us`
    (a baseline's sample) and a large `vs` (a window): the integral of |F_u - F_v| taken
    over the intervals between consecutive u's, where F_u is constant and F_v crosses it at
    most once, at an order statistic of v; each side of the crossing is then a sum of v's
    over one contiguous range (one `add.reduceat` for all of them), so the window is neither
    merged with the sample nor walked point by point. Exact, like scipy's merge of both.
    """
    m, n = len(us), len(vs)
    if m == 0 or n == 0:
        return math.nan
    # Centred on the sample's median so sums of many v's lose no digits to a large offset.
    shift = us[m // 2]
    u = us - shift
    v = np.empty(n + 1, dtype=np.float64)
    np.subtract(vs, shift, out=v[:n])
    v[n] = 0.0  # reduceat needs every boundary, n included, to be an index
    # v[:pos[k]] < u[k] <= v[pos[k]:]; wherever a sum below takes its split, v's equal to
    # the split point contribute 0 on either side, so ties need no care.
    pos = np.searchsorted(vs, us, side="left")
    a, b = u[:-1], u[1:]
    level = np.arange(1, m, dtype=np.float64) * (n / m)  # n * F_u on [a, b)
    # #{v <= x} >= level exactly from x = v[need] on.
    need = np.ceil(level).astype(np.int64) - 1
    cross = np.where(need < n, v[np.minimum(need, n)], np.inf)
    mid = np.clip(cross, a, b)
    mid_at = np.where(
        cross < a, pos[:-1], np.where(cross > b, pos[1:], np.clip(need, pos[:-1], pos[1:]))
    )
    # Ranges of v: [0, pos0), then per interval [pos_k, mid_k) and [mid_k, pos_k+1), and
    # [pos_last, n): their counts and sums.
    bounds = np.empty(2 * m, dtype=np.int64)
    bounds[0] = 0
    bounds[1::2] = pos
    bounds[2::2] = mid_at
    counts = np.diff(bounds, append=n)
    sums = np.where(counts > 0, np.add.reduceat(v, bounds), 0.0)
    left = counts[0] * u[0] - sums[0]  # below the sample: F_u = 0
    right = sums[-1] - counts[-1] * u[-1]  # above it: F_u = 1
    # The integral of #{v <= x} over [x0, x1) is (v's below x0) * (x1 - x0) plus, for the
    # v's inside, x1 - v each.
    below_mid = pos[:-1] * (mid - a) + counts[1:-1:2] * mid - sums[1:-1:2]
    below_b = mid_at * (b - mid) + counts[2:-1:2] * b - sums[2:-1:2]
    inner = (level * (mid - a) - below_mid) + (below_b - level * (b - mid))
    return float((left + right + inner.sum()) / n)


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
    """The finite values of numeric columns of `frame`, each sorted, nulls last; NaN (sorted
    above +inf) and infinities cut off. One column at a time on one thread: on a busy box
    polars' parallel sorts cost more CPU (a sixth) and more wall time than they save."""
    if not names or frame.height == 0:
        return {name: np.empty(0) for name in names}
    out: dict[str, FloatArray] = {}
    for name in names:
        series = frame[name].cast(pl.Float64).sort(nulls_last=True, multithreaded=False)
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
