"""The names in a filter, looked up in the runs frame before polars sees them.

One rule for `runs(where=)`, `--where` and the app's filter bar:

- a bare key that is not a column means the param of that name (`lr` -> `params.lr`),
  else the one param whose path ends with it (`mom` or `optim.mom` -> `params.optim.mom`),
  else the metric of that name (`metrics.lr`); a key that ends several param paths is an
  error listing them;
- a name found nowhere is an error that says what was meant when it can tell: text
  compared with a text column wants single quotes (`status = finished` ->
  `'finished'`), a metric key with `/` wants double quotes (`metrics.val/acc` ->
  `metrics."val/acc"`), a misspelling gets the closest names (`parms.lr` -> `params.lr`).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import polars as pl

from .errors import QueryError

PARAMS = "params"
METRIC_COLUMNS = ("metrics", "metrics_min", "metrics_max")
_TEXT_COMPARISONS = ("EQ", "NEQ", "In", "Like", "ILike")

Path = tuple[str, ...]


def spell(path: Path) -> str:
    """A path as a filter writes it: parts dotted, each double-quoted unless plain."""
    return ".".join(
        p if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) else '"' + p.replace('"', '""') + '"'
        for p in path
    )


def _leaves(schema: pl.Schema) -> dict[Path, pl.DataType]:
    """Every column and struct field, in the frame's order (a struct before its fields)."""
    out: dict[Path, pl.DataType] = {}
    stack: list[tuple[Path, Any]] = [((name,), dtype) for name, dtype in reversed(schema.items())]
    while stack:
        path, dtype = stack.pop()
        out[path] = dtype
        if isinstance(dtype, pl.Struct):
            stack.extend(((*path, f.name), f.dtype) for f in reversed(dtype.fields))
    return out


def names(schema: pl.Schema) -> list[str]:
    """Every name a filter can use, spelled as a filter writes it, in the frame's order:
    what the filter bar offers while a name is typed."""
    return _Names(schema).spelled


def _path(node: Any, exp: Any) -> Path:
    """The names of a column reference: `params.optim.lr` -> (params, optim, lr)."""
    if isinstance(node, exp.Dot):
        return (*_path(node.this, exp), str(node.expression.name))
    return tuple(str(part.name) for part in node.parts)


def _is_reference(node: Any, exp: Any) -> bool:
    if isinstance(node, exp.Dot):
        return isinstance(node.this, (exp.Column, exp.Dot)) and not isinstance(node.parent, exp.Dot)
    return isinstance(node, exp.Column) and not isinstance(node.parent, exp.Dot)


class _Names:
    def __init__(self, schema: pl.Schema) -> None:
        self.types = _leaves(schema)
        self.spelled = [spell(p) for p, t in self.types.items() if not isinstance(t, pl.Struct)]

    def candidates(self, path: Path) -> list[Path]:
        """The param at `params.PATH`, else the params whose path ends with `path`, else
        the metric of that key."""
        if (PARAMS, *path) in self.types:
            return [(PARAMS, *path)]
        n = len(path)
        params = [p for p in self.types if p[0] == PARAMS and len(p) > n and p[-n:] == path]
        params = [p for p in params if not isinstance(self.types[p], pl.Struct)]
        if params:
            return params
        metric = ("metrics", ".".join(path))
        return [metric] if metric in self.types else []

    def suggest(self, path: Path) -> str:
        close = difflib.get_close_matches(spell(path), self.spelled, n=3, cutoff=0.6)
        return f"; did you mean {' or '.join(close)}?" if close else ""


def resolve(tree: Any, schema: pl.Schema, where: str) -> Any:
    """`tree` (a checked sqlglot expression) with bare keys spelled out in full; raises
    QueryError naming the first name the frame does not have, and what was meant."""
    from sqlglot import exp, parse_one

    names = _Names(schema)

    def fail(message: str) -> QueryError:
        return QueryError(f"invalid filter {where!r}: {message}")

    for div in tree.find_all(exp.Div):
        left, right = div.this, div.expression
        if isinstance(left, exp.Column) and isinstance(right, exp.Column):
            head, tail = _path(left, exp), _path(right, exp)
            if head[0] in METRIC_COLUMNS and len(head) == 2:
                key = (head[0], f"{head[1]}/{'.'.join(tail)}")
            else:  # `val/acc`, a bare metric key
                key = ("metrics", f"{'.'.join(head)}/{'.'.join(tail)}")
            if key in names.types:
                raise fail(f"metric keys with '/' need double quotes: {spell(key)}")
    for node in list(tree.walk()):
        if not _is_reference(node, exp):
            continue
        path = _path(node, exp)
        if path in names.types:
            continue
        found = names.candidates(path)
        if len(found) == 1:
            node.replace(parse_one(spell(found[0]), read="postgres"))
            continue
        if len(found) > 1:
            listed = ", ".join(spell(p) for p in sorted(found))
            raise fail(f"{spell(path)!r} could be any of {listed}: write which one")
        raise fail(f"no field {spell(path)!r}{_hint(node, path, names, exp)}")
    return tree


def _hint(node: Any, path: Path, names: _Names, exp: Any) -> str:
    parent = node.parent
    if len(path) == 1 and type(parent).__name__ in _TEXT_COMPARISONS:
        other = [c for c in parent.find_all(exp.Column) if c is not node]
        for column in other:
            dtype = names.types.get(_path(column, exp))
            if dtype is not None and dtype in (pl.String, pl.Categorical):
                return f"; text goes in single quotes: '{path[0]}'"
    return names.suggest(path)
