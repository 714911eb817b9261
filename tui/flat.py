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
import polars.selectors as cs

Path = tuple[str, ...]


@dataclass(frozen=True)
class Flat:
    """A flat frame, and for each of its columns the path of keys it came from."""

    frame: pl.DataFrame
    paths: dict[str, Path]

    def select(self, columns: list[str]) -> Flat:
        if columns == self.frame.columns:  # a wide frame pays per column even to copy it
            return self
        return Flat(self.frame.select(columns), {c: self.paths[c] for c in columns})

    def with_frame(self, frame: pl.DataFrame) -> Flat:
        return Flat(frame, {c: self.paths[c] for c in frame.columns})


def _leaf_paths(schema: pl.Schema) -> list[Path]:
    """Every leaf's path in schema order; a struct without fields has none."""
    out: list[Path] = []
    stack: list[tuple[Path, object]] = [((n,), t) for n, t in reversed(schema.items())]
    while stack:
        path, dtype = stack.pop()
        if isinstance(dtype, pl.Struct):
            stack.extend(((*path, f.name), f.dtype) for f in reversed(dtype.fields))
        else:
            out.append(path)
    return out


def column_names(leaves: list[Path]) -> list[str]:
    """The flat column name of each leaf path, colliding dotted names told apart (see above)."""
    names = [".".join(path) for path in leaves]
    taken = set(names)
    if len(taken) == len(names):
        return names
    groups: defaultdict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        groups[name].append(i)
    for base, group in groups.items():
        if len(group) == 1:
            continue
        ranked = sorted(group, key=lambda i: leaves[i])
        n = 2
        for i in ranked[1:]:
            while f"{base}#{n}" in taken:
                n += 1
            names[i] = f"{base}#{n}"
            taken.add(names[i])
    return names


def flatten(runs: pl.DataFrame) -> Flat:
    """One column per leaf of every struct column; other columns unchanged, in place."""
    try:
        frame, leaves = _unnest(runs)
        names = column_names(leaves)
        frame.columns = names
    except pl.exceptions.DuplicateError:  # a key holding the separator: rename as we go
        leaves = _leaf_paths(runs.schema)
        names = column_names(leaves)
        frame = _unnest_renamed(runs, runs.schema, dict(zip(leaves, names, strict=True)))
    return Flat(frame, dict(zip(names, leaves, strict=True)))


# Joins path parts while unnesting; names are replaced by the flat ones at the end. Keys
# holding it can collide (polars then refuses): the slower renaming unnest below is used.
_SEP = "\x00"


def _unnest(runs: pl.DataFrame) -> tuple[pl.DataFrame, list[Path]]:
    """Every struct unnested, a whole level per polars call, and the path of each column.

    Never asks for the frame's schema: turning 300k struct fields into Python types costs
    more than all the rest. Field names and struct-ness come from polars directly."""
    path_of: dict[str, Path] = {name: (name,) for name in runs.columns}
    frame = runs
    level = runs.select(cs.struct()).columns
    while level:
        for column in level:
            parent = path_of[column]
            for name in frame.get_column(column).struct.fields:
                path_of[f"{column}{_SEP}{name}"] = (*parent, name)
        frame = frame.unnest(level, separator=_SEP)
        level = frame.select(cs.struct()).columns
    return frame, [path_of[c] for c in frame.columns]


def _unnest_renamed(runs: pl.DataFrame, schema: pl.Schema, names: dict[Path, str]) -> pl.DataFrame:
    """As _unnest, renaming each struct's fields to their final names before unnesting."""
    level: list[tuple[str, Path, object]] = [(n, (n,), t) for n, t in schema.items()]
    frame = runs
    inner = 0
    while True:
        renames: list[pl.Expr] = []
        unnest: list[str] = []
        empty: list[str] = []
        below: list[tuple[str, Path, object]] = []
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
