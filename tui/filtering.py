"""The filter bar's language: SQL expressions (DESIGN.md section 4) or plain-word search.

Pure polars, no Textual. An expression goes through `store.query.parse`, the same check
and parser as `runs(where=)` and `--where`; it is never evaluated as Python. Plain words
with no operator search name, experiment and tags instead, because typing `resnet` should
just work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from mmtop.store import filter_names

# Anything that can only mean SQL: comparison operators, brackets, quotes, dotted fields,
# or keywords between words.
_SQL_HINT = re.compile(
    r"[=<>!()'\"]|\b(?:params|metrics|metrics_min|metrics_max)\.|"
    r"\b(?:and|or|not|like|ilike|in|is|between|rlike|regexp)\b",
    re.IGNORECASE,
)
SEARCH_COLUMN = "__search"


class FilterError(ValueError):
    """A filter that does not parse or names a missing field; the message is one line."""


@dataclass(frozen=True)
class Filter:
    text: str
    kind: str  # "none" | "search" | "sql"
    words: tuple[str, ...] = ()


def classify(text: str) -> Filter:
    stripped = text.strip()
    if not stripped:
        return Filter("", "none")
    # An odd quote is an apostrophe in plain words ("it's"), not the start of SQL text.
    quotes_only = not _SQL_HINT.search(re.sub(r"['\"]", " ", stripped))
    odd_quotes = stripped.count("'") % 2 == 1 or stripped.count('"') % 2 == 1
    if _SQL_HINT.search(stripped) and not (quotes_only and odd_quotes):
        return Filter(stripped, "sql")
    return Filter(stripped, "search", tuple(w.lower() for w in stripped.split()))


def search_column(df: pl.DataFrame) -> pl.Expr:
    """Lower-cased name | experiment | tags, built once per load for quick search."""
    parts: list[pl.Expr] = []
    for col in ("name", "experiment"):
        if col in df.columns:
            parts.append(pl.col(col).cast(pl.String).fill_null(""))
    if "tags" in df.columns and isinstance(df.schema["tags"], pl.List):
        parts.append(pl.col("tags").list.join(" ").fill_null(""))
    if not parts:
        return pl.lit("").alias(SEARCH_COLUMN)
    return pl.concat_str(parts, separator="\x00").str.to_lowercase().alias(SEARCH_COLUMN)


def one_line(error: BaseException) -> str:
    """polars errors can list every column of the frame; keep the part that says what broke."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = text.split("; valid columns", 1)[0]
    return text if len(text) <= 160 else text[:157] + "..."


def mask(raw: pl.DataFrame, search: pl.Series | None, flt: Filter) -> pl.Series | None:
    """Boolean row mask over `raw`, or None when nothing is filtered. Raises FilterError."""
    if flt.kind == "none":
        return None
    if flt.kind == "search":
        if search is None:
            return None
        result = pl.repeat(True, len(search), eager=True)
        for word in flt.words:
            result = result & search.str.contains(word, literal=True)
        return result
    from mmtop.store import query
    from mmtop.store.errors import QueryError

    try:
        expr = query.parse(flt.text, raw.schema)
    except QueryError as exc:
        # The store's message quotes the whole filter; the bar shows it already.
        reason = str(exc).removeprefix(f"invalid filter {flt.text!r}: ")
        raise FilterError(one_line(ValueError(reason))) from None
    try:
        out = raw.select(expr.alias("__mask")).to_series()
    except pl.exceptions.StructFieldNotFoundError as exc:
        raise FilterError(f"no field {one_line(exc)!r}") from None
    except Exception as exc:  # noqa: BLE001 - polars raises many types for bad SQL
        raise FilterError(one_line(exc)) from None
    if out.dtype != pl.Boolean:
        raise FilterError(f"filter is not a true/false expression (it gives {out.dtype})")
    return out.fill_null(False)


def field_names(raw: pl.DataFrame) -> list[str]:
    """Every name a filter can use (store/filter_names.py), for completion; internal
    `__` columns left out."""
    return [n for n in filter_names.names(raw.schema) if not n.startswith("__")]


def quote(name: str) -> str:
    """A field name as SQL needs it: bare when it is a plain identifier, else double-quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


@dataclass
class History:
    """Earlier filters, newest last; up/down walk it like a shell."""

    items: list[str] = field(default_factory=list)
    limit: int = 100
    _pos: int | None = None

    def push(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if text in self.items:
            self.items.remove(text)
        self.items.append(text)
        del self.items[: -self.limit]
        self._pos = None

    def older(self) -> str | None:
        if not self.items:
            return None
        self._pos = len(self.items) - 1 if self._pos is None else max(0, self._pos - 1)
        return self.items[self._pos]

    def newer(self) -> str | None:
        if self._pos is None:
            return None
        if self._pos >= len(self.items) - 1:
            self._pos = None
            return ""
        self._pos += 1
        return self.items[self._pos]
