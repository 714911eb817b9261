"""What changed between two dataset versions: schema, row counts and, when both have the
key columns, which rows were added, removed or changed (this reads both versions' data)."""

from __future__ import annotations

from typing import Any

import polars as pl

from .errors import DatasetUnavailableError
from .version import DatasetVersion

EXAMPLES = 10


def schema_diff(a: dict[str, str], b: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {
        "added": [{"name": c, "type": t} for c, t in b.items() if c not in a],
        "removed": [{"name": c, "type": t} for c, t in a.items() if c not in b],
        "changed": [
            {"name": c, "from": t, "to": b[c]} for c, t in a.items() if c in b and b[c] != t
        ],
    }


def shift(baseline: dict[str, Any], current: dict[str, Any]) -> list[dict[str, Any]]:
    """Per column of the first version: PSI, normalised Wasserstein, Jensen-Shannon, null
    shares and whether it drifted (store/drift.py's thresholds), from the two profiles."""
    from ..drift import compare

    return compare(baseline, current).drop("unseen").to_dicts()


def diff(
    a: DatasetVersion,
    b: DatasetVersion,
    key: list[str] | None = None,
    frames: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> dict[str, Any]:
    """The differences of `b` against `a`. `frames`: the two versions' data, when loaded."""
    ra, rb = a.rows, b.rows
    out: dict[str, Any] = {
        "a": a.ref,
        "b": b.ref,
        "same": a.fingerprint == b.fingerprint,
        "fingerprint": {"a": a.fingerprint, "b": b.fingerprint},
        "rows": {"a": ra, "b": rb, "delta": rb - ra if ra is not None and rb is not None else None},
        "schema": schema_diff(a.schema, b.schema),
        "labels": {"a": a.related("labels"), "b": b.related("labels")},
        "shift": None,
        "keyed": None,
        "notes": [],
    }
    pa_, pb_ = a.profile(), b.profile()
    if pa_ is not None and pb_ is not None:
        out["shift"] = shift(pa_, pb_)
    else:
        which = (
            "either version" if pa_ is None and pb_ is None else (a.ref if pa_ is None else b.ref)
        )
        out["notes"].append(f"no profile of {which}: distribution shift not computed")
    keys = key or (a.key if a.key and a.key == b.key else [])
    if not keys:
        out["notes"].append("no key column: rows added/removed/changed not compared (--key)")
        return out
    missing = [
        k for k in keys if (a.schema and k not in a.schema) or (b.schema and k not in b.schema)
    ]
    if missing:
        out["notes"].append(f"key column {missing[0]!r} is not in both versions")
        return out
    if frames is None:
        try:
            frames = (a.load(), b.load())
        except DatasetUnavailableError as exc:
            out["notes"].append(f"rows not compared: {exc}")
            return out
    out["keyed"] = keyed_diff(frames[0], frames[1], keys)
    return out


def keyed_diff(fa: pl.DataFrame, fb: pl.DataFrame, keys: list[str]) -> dict[str, Any]:
    """Rows of `fb` whose key `fa` lacks (added), the reverse (removed), and rows of equal
    key whose values in a shared column differ (changed; a null equals only a null)."""
    for label, frame in (("a", fa), ("b", fb)):
        for k in keys:
            if k not in frame.columns:
                raise ValueError(f"key column {k!r} is not in version {label}")
    dup_a = fa.select(keys).n_unique() != fa.height
    dup_b = fb.select(keys).n_unique() != fb.height
    if dup_a or dup_b:
        which = "both versions" if dup_a and dup_b else ("a" if dup_a else "b")
        return {"key": keys, "error": f"key {', '.join(keys)} is not unique in {which}"}
    fb_keys = _align_keys(fa, fb, keys)
    shared = [c for c in fa.columns if c in fb_keys.columns and c not in keys]
    # One full join on the key instead of three: each side marks its rows.
    left = fa.select(keys + shared).with_columns(pl.lit(True).alias("\0a"))
    right = fb_keys.select(keys + shared).rename({c: f"{c}\0b" for c in shared})
    joined = left.join(
        right.with_columns(pl.lit(True).alias("\0b")), on=keys, how="full", coalesce=True
    )
    added = joined.filter(pl.col("\0a").is_null()).select(keys)
    removed = joined.filter(pl.col("\0b").is_null()).select(keys)
    both = joined.filter(pl.col("\0a").is_not_null() & pl.col("\0b").is_not_null())
    per_column: dict[str, int] = {}
    masks = []
    for c in shared:
        va, vb = both[c], both[f"{c}\0b"]
        if va.dtype != vb.dtype:
            # A widened or narrowed number compares as a number; anything else as text.
            common = pl.Float64 if va.dtype.is_numeric() and vb.dtype.is_numeric() else pl.String
            va, vb = va.cast(common), vb.cast(common)
        mask = va.ne_missing(vb)
        count = int(mask.sum())
        if count:
            per_column[c] = count
        masks.append(mask)
    changed = (
        both.filter(pl.any_horizontal(masks)).select(keys) if masks else both.head(0).select(keys)
    )
    return {
        "key": keys,
        "added": added.height,
        "removed": removed.height,
        "changed": changed.height,
        "unchanged": both.height - changed.height,
        "changed_columns": per_column,
        "examples": {  # the smallest keys of each
            "added": _examples(added, keys),
            "removed": _examples(removed, keys),
            "changed": _examples(changed, keys),
        },
    }


def _align_keys(fa: pl.DataFrame, fb: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """`fb` with its key columns cast to `fa`'s types, so a retyped key still joins."""
    casts = [pl.col(k).cast(fa.schema[k]) for k in keys if fb.schema[k] != fa.schema[k]]
    return fb.with_columns(casts) if casts else fb


def _examples(frame: pl.DataFrame, keys: list[str]) -> list[Any]:
    head = frame.select(keys).sort(keys).head(EXAMPLES)
    if len(keys) == 1:
        return head[keys[0]].to_list()
    return [list(row) for row in head.iter_rows()]
