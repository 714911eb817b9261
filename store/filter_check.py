"""What a filter may say: a boolean expression over the runs frame, and nothing else.

polars' SQL runs subqueries and table functions (`read_csv`, `read_parquet`, a quoted file
name as a table) while it translates an expression, so a filter could read local files or
fetch URLs. Every filter is parsed here first, with sqlglot, and only the node kinds and
functions listed below pass. polars is then handed the SQL that sqlglot writes back from
the checked tree, not the text as typed: what runs is exactly what was checked, so a
difference between the two parsers (comments, quoting) cannot hide a call.

sqlglot is imported on the first filter only: `mmtop ls` without `--where` never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import QueryError

if TYPE_CHECKING:
    import polars as pl

# Said when an operator is refused, so that the error shows what does work.
OPERATORS = "= != <> < <= > >= and or not + - * / % in between is like ilike ~ ~* !~"

# Functions a filter may call: pure, row-wise, over values of the runs frame. Upper case,
# as sqlglot names them.
FUNCTIONS = frozenset(
    {
        # numbers
        "ABS",
        "CEIL",
        "CEILING",
        "FLOOR",
        "ROUND",
        "SIGN",
        "SQRT",
        "CBRT",
        "EXP",
        "LN",
        "LOG",
        "LOG2",
        "LOG10",
        "POW",
        "POWER",
        "MOD",
        "GREATEST",
        "LEAST",
        "ISNAN",
        # text
        "LOWER",
        "UPPER",
        "LENGTH",
        "CHAR_LENGTH",
        "CHARACTER_LENGTH",
        "OCTET_LENGTH",
        "TRIM",
        "LTRIM",
        "RTRIM",
        "STARTS_WITH",
        "ENDS_WITH",
        "STRPOS",
        "SUBSTR",
        "SUBSTRING",
        "LEFT",
        "RIGHT",
        "REPLACE",
        "REVERSE",
        "CONCAT",
        "CONCAT_WS",
        "INITCAP",
        "REGEXP_LIKE",
        # lists (tags)
        "ARRAY_CONTAINS",
        "ARRAY_LENGTH",
        "ARRAY_SIZE",
        # nulls, conditions, types
        "COALESCE",
        "NULLIF",
        "IFNULL",
        "CASE",
        "IF",
        "CAST",
        "TRY_CAST",
    }
)


def _nodes(exp: Any) -> tuple[type, ...]:
    """Operators and operands that only combine values of the row they are given."""
    return (
        exp.Column,
        exp.Dot,
        exp.Identifier,
        exp.Bracket,
        exp.Literal,
        exp.RawString,
        exp.Boolean,
        exp.Null,
        exp.Paren,
        exp.Neg,
        exp.Not,
        exp.And,
        exp.Or,
        exp.Xor,
        exp.EQ,
        exp.NEQ,
        exp.GT,
        exp.GTE,
        exp.LT,
        exp.LTE,
        exp.NullSafeEQ,
        exp.NullSafeNEQ,
        exp.Is,
        exp.In,
        exp.Between,
        exp.Like,
        exp.ILike,
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Div,
        exp.Mod,
        exp.DataType,
        exp.DataTypeParam,
    )


def _what(node: Any, exp: Any) -> str:
    """The rejected construct in a user's words."""
    if isinstance(node, (exp.Subquery, exp.Select, exp.Query, exp.Exists)):
        return "a subquery"
    if isinstance(node, (exp.Table, exp.From, exp.With, exp.CTE)):
        return "a table"
    if isinstance(node, exp.Func):
        return f"function {_func_name(node, exp).lower()}"
    return f"operator {str(node.key).replace('_', ' ')!r} (operators that work: {OPERATORS})"


def _func_name(node: Any, exp: Any) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).upper()
    return str(node.sql_name()).upper()


def checked_sql(where: str, schema: pl.Schema | None = None) -> str:
    """The filter as SQL for polars, after checking every node; raises QueryError.

    With the runs frame's `schema`, names are looked up in it first (filter_names.py):
    bare keys are spelled out, unknown names are errors that say what was meant."""
    import sqlglot
    from sqlglot import exp

    try:
        # Postgres reads what polars' SQL reads: `~` regex operators, `::` casts, $$text$$.
        trees = sqlglot.parse(where, read="postgres")
    except RecursionError:
        raise QueryError(f"invalid filter {_short(where)}: nested too deeply") from None
    except sqlglot.errors.ParseError as exc:
        raise QueryError(f"invalid filter {where!r}: {_parse_error(exc)}") from None
    except sqlglot.errors.TokenError:
        raise QueryError(f"invalid filter {where!r}: unclosed quote or bad character") from None
    except sqlglot.errors.SqlglotError as exc:
        raise QueryError(f"invalid filter {where!r}: {_first(exc)}") from None
    if len(trees) != 1 or trees[0] is None:
        raise QueryError(f"invalid filter {where!r}: give one expression, not statements")
    tree = trees[0]
    allowed = _nodes(exp)
    for node in tree.walk():
        if isinstance(node, exp.In) and (node.args.get("query") or node.args.get("unnest")):
            raise QueryError(f"invalid filter {where!r}: not allowed in a filter: a subquery")
        if type(node) in allowed:
            continue
        if isinstance(node, exp.Func) and _func_name(node, exp) in FUNCTIONS:
            continue
        if isinstance(node, (exp.RegexpLike, exp.RegexpILike)):
            continue
        raise QueryError(f"invalid filter {where!r}: not allowed in a filter: {_what(node, exp)}")
    if schema is not None:
        from .filter_names import resolve

        tree = resolve(tree, schema, where)
    try:
        tree = tree.transform(lambda n: _polars_spelling(n, exp))
        return str(tree.sql(comments=False))
    except RecursionError:
        raise QueryError(f"invalid filter {_short(where)}: nested too deeply") from None


def preload() -> None:
    """Load the parser ahead of the first filter (the app calls this from a worker, so the
    first keystroke in its filter bar does not wait a quarter second for the import)."""
    import sqlglot

    sqlglot.parse("1", read="postgres")


def _polars_spelling(node: Any, exp: Any) -> Any:
    # `a ~* 'x'` is a case-insensitive match; polars spells it with the `i` flag.
    if isinstance(node, exp.RegexpILike):
        return exp.Anonymous(
            this="REGEXP_LIKE",
            expressions=[node.this, node.expression, exp.Literal.string("i")],
        )
    return node


def _parse_error(exc: Any) -> str:
    """sqlglot's first complaint in a user's words, with the column where it broke."""
    if not exc.errors:
        return _first(exc)
    err = exc.errors[0]
    where = f"(column {err.get('col')})"
    description = str(err.get("description") or "")
    near = str(err.get("highlight") or "")
    if description.startswith("Required keyword"):
        return f"incomplete expression after {near!r} {where}"
    if description.startswith("Expecting "):
        return f"expected {description.removeprefix('Expecting ')} after {near!r} {where}"
    return f"{description.split(' <class', 1)[0]} near {near!r} {where}"


def _short(where: str) -> str:
    return repr(where if len(where) <= 80 else where[:77] + "...")


def _first(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
