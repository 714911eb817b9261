"""The runs frame made flat: one column per leaf of its struct columns, for the app and the CLI.

The store nests params, metric summaries and datasets in struct columns. Tables, sorting, CSV
and Parquet want one column per leaf (`params.model.kind`, `metrics.val/acc`); JSON wants the
nesting back, so each flat column remembers the path of keys it came from.

Two paths can join to the same dotted name: a param key with a dot in it (`{"a.b": 1}`)
beside a nested one (`{"a": {"b": 2}}`). The rule (docs/FORMAT.md, "Flat column names"):
the colliding paths are taken in key order, compared level by level, so `a` > `b` comes
before `a.b`; the first keeps the name (`params.a.b`), the next get `#2`, `#3`, ...
(`params.a.b#2`), skipping any name a real key already has.

Linear in the number of leaves: names come from one walk of the schema, and the frame is
unnested a whole level at a time (one polars call per level, whatever the width).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import polars as pl

Path = tuple[str, ...]


@dataclass(frozen=True)
class Flat:
    """A flat frame, and for each of its columns the path of keys it came from."""

    frame: pl.DataFrame
    paths: dict[str, Path]

    def select(self, columns: list[str]) -> Flat:
        return Flat(self.frame.select(columns), {c: self.paths[c] for c in columns})

    def with_frame(self, frame: pl.DataFrame) -> Flat:
        return Flat(frame, {c: self.paths[c] for c in frame.columns})


def _leaf_paths(schema: pl.Schema) -> list[Path]:
    """Every leaf's path in schema order; a struct without fields has none."""
    out: list[Path] = []
    stack: list[tuple[Path, pl.DataType]] = [((n,), t) for n, t in reversed(schema.items())]
    while stack:
        path, dtype = stack.pop()
        if isinstance(dtype, pl.Struct):
            stack.extend(((*path, f.name), f.dtype) for f in reversed(dtype.fields))
        else:
            out.append(path)
    return out


def column_names(leaves: list[Path]) -> dict[Path, str]:
    """The flat column name of each leaf path, colliding dotted names told apart (see above)."""
    groups: defaultdict[str, list[Path]] = defaultdict(list)
    for path in leaves:
        groups[".".join(path)].append(path)
    names: dict[Path, str] = {}
    clashes: list[tuple[str, list[Path]]] = []
    for base, group in groups.items():
        if len(group) == 1:
            names[group[0]] = base
        else:
            clashes.append((base, sorted(group)))
    taken = set(groups)
    for base, group in clashes:
        names[group[0]] = base
        n = 2
        for path in group[1:]:
            while f"{base}#{n}" in taken:
                n += 1
            names[path] = f"{base}#{n}"
            taken.add(names[path])
    return names


def flatten(runs: pl.DataFrame) -> Flat:
    """One column per leaf of every struct column; other columns unchanged, in place."""
    schema = runs.schema
    leaves = _leaf_paths(schema)
    names = column_names(leaves)
    try:
        frame = _unnest(runs, schema)
    except pl.exceptions.DuplicateError:  # a key holding the separator: rename as we go
        frame = _unnest_renamed(runs, schema, names)
    else:
        frame.columns = [names[path] for path in leaves]
    return Flat(frame, {names[path]: path for path in leaves})


# Joins path parts while unnesting; names are replaced by the flat ones at the end. A key
# holding it could collide: then the slower renaming unnest below is used.
_SEP = "\x00"


def _unnest(runs: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Every struct unnested, level by level: leaf columns in schema order (paths joined by
    _SEP). Whole levels at a time, with polars naming the columns: a few calls, any width."""
    levels: list[list[str]] = []
    stack: list[tuple[str, pl.DataType, int]] = [(n, t, 0) for n, t in schema.items()]
    while stack:
        name, dtype, depth = stack.pop()
        if isinstance(dtype, pl.Struct):
            if len(levels) <= depth:
                levels.append([])
            levels[depth].append(name)
            stack.extend((f"{name}{_SEP}{f.name}", f.dtype, depth + 1) for f in dtype.fields)
    frame = runs
    for level in levels:
        frame = frame.unnest(level, separator=_SEP)
    return frame


def _unnest_renamed(runs: pl.DataFrame, schema: pl.Schema, names: dict[Path, str]) -> pl.DataFrame:
    """As _unnest, renaming each struct's fields to their final names before unnesting."""
    level = [(name, (name,), dtype) for name, dtype in schema.items()]
    frame = runs
    inner = 0
    while True:
        renames: list[pl.Expr] = []
        unnest: list[str] = []
        empty: list[str] = []
        below: list[tuple[str, Path, pl.DataType]] = []
        for column, path, dtype in level:
            if not isinstance(dtype, pl.Struct):
                continue
            if not dtype.fields:
                empty.append(column)
                continue
            fields: list[str] = []
            for f in dtype.fields:
                sub = (*path, f.name)
                if isinstance(f.dtype, pl.Struct):
                    name, inner = f"{_SEP}{inner}", inner + 1
                    below.append((name, sub, f.dtype))
                else:
                    name = names[sub]
                fields.append(name)
            renames.append(pl.col(column).struct.rename_fields(fields))
            unnest.append(column)
        if not (unnest or empty):
            return frame
        frame = frame.drop(empty)
        if unnest:
            frame = frame.with_columns(renames).unnest(unnest)
        level = below
