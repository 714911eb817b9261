"""Comparing runs: what differs in params, metrics, environment, code and data.

Pure Python (no Textual, no polars), shared by `mmtop diff` and the compare screen. Every
function takes one entry per run, in display order, and returns rows whose `values` /
`cells` line up with those runs.

- Params, env, code and data are nested JSON; `flatten` turns them into dotted keys and
  `diff_rows` keeps the keys whose values differ (all keys with `all_rows=True`).
- Metrics: per key and statistic (last, min, max), each run's value with its delta against
  a baseline run, absolute and in percent, judged better/worse by the key's direction
  (`direction`: loss-like lower is better, accuracy-like higher; caller overrides first).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["lower", "higher"] | None
STATS: tuple[str, ...] = ("last", "min", "max")

LOWER_BETTER = frozenset(
    {"loss", "error", "err", "mse", "mae", "rmse", "perplexity", "ppl", "wer", "cer"}
)
HIGHER_BETTER = frozenset(
    {
        "acc",
        "accuracy",
        "f1",
        "auc",
        "precision",
        "recall",
        "iou",
        "map",
        "bleu",
        "rouge",
        "r2",
    }
)
# A key is cut at separators ("val/loss", "train_acc", "mAP@50", "rouge-L"); a piece that is
# not itself a known word is cut again at camelCase humps and digits ("valLoss", "top1Acc").
_PIECES = re.compile(r"[A-Za-z0-9]+")
_HUMPS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


class _Missing:
    """A run that lacks a key (not the same as a key whose value is null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Row:
    """One flattened key across runs; `values[i]` is MISSING when run i lacks it."""

    key: str
    values: tuple[Any, ...]
    differs: bool


@dataclass(frozen=True)
class Cell:
    """One run's statistic of one metric, compared with the baseline run's."""

    value: float | None  # None: the run did not log this key
    delta: float | None  # value - baseline; None for the baseline itself or when undefined
    pct: float | None  # delta / |baseline| * 100; None when the baseline is 0 or not finite
    better: bool | None  # None: equal, direction unknown, or nothing to compare


@dataclass(frozen=True)
class MetricRow:
    key: str
    stat: str
    direction: Direction
    cells: tuple[Cell, ...]
    best: tuple[int, ...]  # runs holding the best value; empty when direction is unknown
    differs: bool


# ----------------------------------------------------------------------------- flattening
def flatten(obj: Any, prefix: str = "", *, expand_lists: bool = False) -> dict[str, Any]:
    """Nested dicts -> {"a.b.c": leaf}. Lists stay whole unless `expand_lists` (a.0.b)."""
    out: dict[str, Any] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif expand_lists and isinstance(value, (list, tuple)) and value:
            for i, v in enumerate(value):
                walk(v, f"{key}.{i}" if key else str(i))
        elif key:
            out[key] = value

    walk(obj, prefix)
    return out


def same(a: Any, b: Any) -> bool:
    """Equality for comparison: NaN equals NaN, True is not 1, 1 equals 1.0."""
    if a is MISSING or b is MISSING:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - exotic objects that refuse comparison differ
        return False


def diff_rows(
    mappings: Sequence[Mapping[str, Any] | None],
    *,
    all_rows: bool = False,
    expand_lists: bool = False,
) -> list[Row]:
    """Flattened keys (sorted) with one value per run; only differing keys unless all_rows."""
    flats = [flatten(m or {}, expand_lists=expand_lists) for m in mappings]
    keys = sorted({k for f in flats for k in f})
    rows: list[Row] = []
    for key in keys:
        values = tuple(f.get(key, MISSING) for f in flats)
        differs = any(not same(values[0], v) for v in values[1:])
        if differs or all_rows:
            rows.append(Row(key, values, differs))
    return rows


# ----------------------------------------------------------------------------- metrics
def direction(
    key: str, overrides: Iterable[tuple[str | re.Pattern[str], Direction]] = ()
) -> Direction:
    """ "lower" / "higher" is better for a metric key, or None when the name does not say.

    `overrides` are (regex, direction) pairs tried first (re.search). Otherwise the last
    word of the key that is loss-like or accuracy-like decides ("val/loss" -> lower).
    """
    for pattern, verdict in overrides:
        if re.search(pattern, key):
            return verdict
    for piece in reversed(_PIECES.findall(key)):
        for word in [piece, *reversed(_HUMPS.findall(piece))]:
            w = word.lower()
            if w in LOWER_BETTER:
                return "lower"
            if w in HIGHER_BETTER:
                return "higher"
    return None


def stats_of(
    summary: Mapping[str, Mapping[str, Any]], values: Mapping[str, Any] | None = None
) -> dict[str, dict[str, float]]:
    """A run's metric statistics {key: {last, min, max}}; single summary values count too."""
    out: dict[str, dict[str, float]] = {}
    for key, st in summary.items():
        nums = {s: _num(st.get(s)) for s in STATS}
        out[key] = {s: v for s, v in nums.items() if v is not None}
    for key, value in (values or {}).items():
        v = _num(value)
        if v is not None and key not in out:
            out[key] = {s: v for s in STATS}
    return out


def metric_rows(
    runs: Sequence[Mapping[str, Mapping[str, float]]],
    baseline: int = 0,
    *,
    stats: Sequence[str] = STATS,
    overrides: Iterable[tuple[str | re.Pattern[str], Direction]] = (),
    all_rows: bool = True,
) -> list[MetricRow]:
    """One row per (key, stat): each run's value, delta vs `runs[baseline]`, best runs.

    `runs[i]` maps key -> {"last": .., "min": .., "max": ..} (see `stats_of`). Without
    `all_rows`, rows where every run has the same value are dropped.
    """
    if runs and not 0 <= baseline < len(runs):
        raise IndexError(f"baseline {baseline} is not one of {len(runs)} runs")
    rules = list(overrides)
    keys = sorted({k for r in runs for k in r})
    rows: list[MetricRow] = []
    for key in keys:
        way = direction(key, rules)
        for stat in stats:
            values = [_num(r.get(key, {}).get(stat)) for r in runs]
            base = values[baseline]
            cells = tuple(
                _cell(v, base, way) if i != baseline else Cell(v, None, None, None)
                for i, v in enumerate(values)
            )
            differs = any(not same(_or_missing(values[0]), _or_missing(v)) for v in values[1:])
            if differs or all_rows:
                rows.append(MetricRow(key, stat, way, cells, _best(values, way), differs))
    return rows


def _cell(value: float | None, base: float | None, way: Direction) -> Cell:
    if value is None or base is None or not math.isfinite(value) or not math.isfinite(base):
        return Cell(value, None, None, None)
    delta = value - base
    pct = delta / abs(base) * 100.0 if base != 0 else None
    better: bool | None = None
    if way is not None and delta != 0:
        better = (delta < 0) == (way == "lower")
    return Cell(value, delta, pct, better)


def _best(values: Sequence[float | None], way: Direction) -> tuple[int, ...]:
    finite = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if way is None or len(finite) < 2:
        return ()
    target = min(v for _, v in finite) if way == "lower" else max(v for _, v in finite)
    return tuple(i for i, v in finite if v == target)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _or_missing(value: float | None) -> Any:
    return MISSING if value is None else value


# ----------------------------------------------------------------------------- env, code, data
def env_rows(envs: Sequence[Mapping[str, Any] | None], *, all_rows: bool = False) -> list[Row]:
    """Environment differences: `packages.<name>` versions, python.version, gpus.0.name, ..."""
    return diff_rows(envs, all_rows=all_rows, expand_lists=True)


def code_rows(codes: Sequence[Mapping[str, Any] | None], *, all_rows: bool = False) -> list[Row]:
    """Code differences: git.commit, git.branch, git.dirty, command, patch digest, ..."""
    return diff_rows(codes, all_rows=all_rows)


# When a dataset was logged says nothing about the data: it would differ between any two runs.
VOLATILE_INPUT_KEYS = frozenset({"name", "logged"})


def inputs_by_name(inputs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """[{"name": "train", "fingerprint": ...}, ...] -> {"train": {"fingerprint": ...}}."""
    out: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(inputs):
        name = str(item.get("name") or item.get("uri") or f"input{i}")
        out[name] = {k: v for k, v in item.items() if k not in VOLATILE_INPUT_KEYS}
    return out


def data_rows(
    inputs: Sequence[Sequence[Mapping[str, Any]]], *, all_rows: bool = False
) -> list[Row]:
    """Dataset differences keyed `<dataset>.<field>` (fingerprint, uri, rows, schema...)."""
    return diff_rows([inputs_by_name(i) for i in inputs], all_rows=all_rows)


def different_data(inputs: Sequence[Sequence[Mapping[str, Any]]]) -> list[str]:
    """Datasets the runs did not share: used by only some runs, or with other fingerprints.

    An empty list means every run was trained on the same recorded data (or none recorded).
    """
    named = [inputs_by_name(i) for i in inputs]
    if not any(named):
        return []
    names = sorted({n for d in named for n in d})
    out: list[str] = []
    for name in names:
        prints = [d[name].get("fingerprint", MISSING) if name in d else MISSING for d in named]
        if any(not same(prints[0], p) for p in prints[1:]):
            out.append(name)
    return out
