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
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import polars as pl
import polars.selectors as cs

if TYPE_CHECKING:
    from mmtop.store.keyed import Keyed

Path = tuple[str, ...]


@dataclass(frozen=True)
class Flat:
    """A flat frame, and for each of its columns the path of keys it came from.

    `blocks` (from `flatten_keyed`) holds array columns of the frame that stand for many
    flat columns each (a run's 100k metric keys): array column -> the flat names of its
    cells, in order. `names` lists the flat columns with blocks spread out; `expanded()`
    makes them real columns, for writers that want every column in the frame.
    """

    frame: pl.DataFrame
    paths: dict[str, Path]  # of the frame's columns (a block's cells: see `path`)
    blocks: dict[str, list[str]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        if not self.blocks:
            return self.frame.columns
        out: list[str] = []
        for column in self.frame.columns:
            out.extend(self.blocks.get(column, [column]))
        return out

    @cached_property
    def _cells(self) -> dict[str, tuple[str, int]]:
        """Each flat name held in a block: (the block, its position there)."""
        return {n: (b, i) for b, names in self.blocks.items() for i, n in enumerate(names)}

    def column(self, name: str) -> pl.Expr:
        """The flat column `name`, also when it is one cell of a block."""
        if name in self.paths:
            return pl.col(name)
        cell = self._cells.get(name)
        if cell is None:
            return pl.col(name)
        return pl.col(cell[0]).arr.get(cell[1]).alias(name)

    def path(self, name: str) -> Path:
        """The path of keys of the flat column `name`, also of a block's cell."""
        found = self.paths.get(name)
        if found is not None:
            return found
        block = self._cells[name][0]
        return (block, name[len(block) + 1 :])

    def select(self, columns: list[str]) -> Flat:
        if columns == self.names:  # a wide frame pays per column even to copy it
            return self
        if not self.blocks:
            return Flat(self.frame.select(columns), {c: self.paths[c] for c in columns})
        exprs: list[pl.Expr] = []
        blocks: dict[str, list[str]] = {}
        i = 0
        while i < len(columns):
            block = self._cells.get(columns[i], ("", 0))[0]
            whole = self.blocks.get(block, [])
            if whole and columns[i : i + len(whole)] == whole:
                exprs.append(pl.col(block))  # the whole block, in order: kept as it is
                blocks[block] = whole
                i += len(whole)
                continue
            exprs.append(self.column(columns[i]))
            i += 1
        frame = self.frame.select(exprs)
        paths = {c: self.path(c) for c in frame.columns if c not in blocks}
        return Flat(frame, paths, blocks)

    def with_frame(self, frame: pl.DataFrame) -> Flat:
        """The same columns over other rows (filtered, sorted or cut)."""
        return Flat(frame, self.paths, self.blocks)

    def expanded(self) -> Flat:
        """Every block spread into its own columns."""
        if not self.blocks:
            return self
        frame = self.frame.with_columns(
            pl.col(b).arr.to_struct(names) for b, names in self.blocks.items() if names
        )
        empty = [b for b, names in self.blocks.items() if not names]
        frame = frame.drop(empty).unnest([b for b in self.blocks if b not in empty])
        return Flat(frame, {c: self.path(c) for c in frame.columns})


def flatten_keyed(runs: Keyed) -> Flat:
    """As `flatten`, but each keyed column (store/keyed.py) stays one array column, a block
    whose cells are the flat columns `<column>.<key>`: no frame with a column per key."""
    flat = flatten(runs.frame)
    blocks = {name: [f"{name}.{key}" for key in keys] for name, keys in runs.keys.items()}
    paths = {c: p for c, p in flat.paths.items() if c not in blocks}
    return Flat(flat.frame, paths, blocks)


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
