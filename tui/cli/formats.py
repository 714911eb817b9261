"""Writers for a flat runs frame: table, CSV, JSON, JSON lines, Markdown, Parquet.

CSV (`tui/csv_out.py`, shared with the app) and Parquet are written by polars (fast at 10k+
rows; its float text is the shortest round-trip form). Parquet is the exact-bytes format:
text in it is what the store holds. JSON goes through Python's json so NaN/inf survive and
params nest again; control and bidi characters in it are \\uXXXX escapes (`json_inert`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

import polars as pl

from mmtop.tui.cli import cells
from mmtop.tui.cli.common import colour_enabled, is_tty
from mmtop.tui.cli.frames import Flat
from mmtop.tui.csv_out import ISO_FORMAT
from mmtop.tui.safe_text import json_inert

JSON_SLICE = 20_000  # rows per polars JSON call: bounds the text held at once
STATUS_STYLES = {
    "running": "green",
    "finished": "blue",
    "failed": "red",
    "killed": "yellow",
    "crashed": "magenta",
}


def write_parquet(frame: pl.DataFrame, out: IO[bytes]) -> None:
    frame.write_parquet(out, compression="zstd")


def nested_frame(flat: Flat) -> pl.DataFrame:
    """The flat columns nested again by their paths (params.model.kind -> params{model{kind}}),
    with datetimes as ISO text, so every row is a ready JSON object."""
    tree: dict[str, Any] = {}
    for column in flat.frame.columns:
        node = tree
        path = flat.paths[column]
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = column

    def build(node: dict[str, Any]) -> list[pl.Expr]:
        exprs: list[pl.Expr] = []
        for key, child in node.items():
            if isinstance(child, dict):
                exprs.append(pl.struct(build(child)).alias(key))
            elif isinstance(flat.frame.schema[child], pl.Datetime):
                exprs.append(pl.col(child).dt.to_string(ISO_FORMAT).alias(key))
            else:
                exprs.append(pl.col(child).alias(key))
        return exprs

    return flat.frame.select(build(tree)) if tree else flat.frame


def nested_rows(flat: Flat) -> Iterable[dict[str, Any]]:
    """Rows with params and metric summaries nested again, as JSON wants them."""
    return nested_frame(flat).iter_rows(named=True)


def _all_finite(frame: pl.DataFrame) -> bool:
    floats = [c for c, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
    if not floats or not frame.height:
        return True
    return bool(
        frame.select(pl.all_horizontal(pl.col(floats).is_finite().fill_null(True)).all()).item()
    )


def json_lines(flat: Flat) -> Iterable[str]:
    """One JSON text per row. polars writes them when it can be exact (it turns NaN and
    infinities into null); otherwise Python's json, which keeps them as NaN/Infinity."""
    if _all_finite(flat.frame):
        nested = nested_frame(flat)
        for start in range(0, nested.height, JSON_SLICE):
            text = json_inert(nested.slice(start, JSON_SLICE).write_ndjson())
            yield from (line for line in text.split("\n") if line)
        return
    # The rows hold only JSON types, so the C encoder runs without a default hook.
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=True, separators=(",", ":")).encode
    yield from (json_inert(encode(obj)) for obj in nested_rows(flat))


def write_json(flat: Flat, out: IO[bytes], *, lines: bool) -> None:
    rows = json_lines(flat)
    if lines:
        for text in rows:
            out.write((text + "\n").encode())
        return
    out.write(b"[")
    for i, text in enumerate(rows):
        out.write(((",\n" if i else "\n") + text).encode())
    out.write(b"\n]\n" if flat.frame.height else b"]\n")


def write_markdown(frame: pl.DataFrame, out: IO[bytes], digits: int = 6) -> None:
    names = frame.columns
    schema = frame.schema
    numeric = [schema[c].is_numeric() for c in names]
    head = "| " + " | ".join(cells.md_cell(c) for c in names) + " |\n"
    rule = "|" + "|".join("---:" if n else "---" for n in numeric) + "|\n"
    out.write((head + rule).encode())
    columns = [cells.column_text(frame[c], digits, markdown=True) for c in names]
    out.writelines(f"| {' | '.join(row)} |\n".encode() for row in zip(*columns, strict=True))


def text_rows(flat: Flat, digits: int = 6) -> list[list[str]]:
    """Cell text row by row; a block (tui/flat.py) is formatted as one long column."""
    frame = flat.frame
    parts: list[tuple[int, list[str]]] = []  # (0: one column | a block's width, its text)
    for name in frame.columns:
        width = len(flat.blocks.get(name, ()))
        if name not in flat.blocks:
            parts.append((0, cells.column_text(frame[name], digits)))
        elif width:
            long = frame[name].reshape((frame.height * width,)).alias("")
            parts.append((width, cells.column_text(long, digits)))
    if all(width == 0 for width, _ in parts):
        return [list(row) for row in zip(*(text for _, text in parts), strict=True)]
    rows: list[list[str]] = []
    for r in range(frame.height):
        row: list[str] = []
        for width, text in parts:
            if width:
                row.extend(text[r * width : (r + 1) * width])
            else:
                row.append(text[r])
        rows.append(row)
    return rows


def write_plain_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool], out: IO[bytes]
) -> None:
    """Aligned columns, two spaces apart, numbers right-aligned; no colour, no box."""
    shown = cells.column_text(pl.Series(header, dtype=pl.String))  # as `human`, at once
    widths = [len(h) for h in shown]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip() + "\n"

    out.write(line(shown).encode())
    for row in rows:
        out.write(line(row).encode())


def min_widths(
    header: Sequence[str], rows: Sequence[Sequence[str]], caps: Sequence[int]
) -> list[int]:
    """Per column, the width Rich may not squeeze below: the longest cell, up to a cap."""
    widths = [0] * len(header)
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    return [min(w, cap) for w, cap in zip(widths, caps, strict=True)]


def fit_widths(natural: Sequence[int], floor: Sequence[int], room: int) -> list[int]:
    """Column widths within `room`: every column at least min(natural, floor), the rest of
    the room shared in proportion to how much more each column would take."""
    if sum(natural) <= room:
        return list(natural)
    base = [min(n, f) for n, f in zip(natural, floor, strict=True)]
    spare = room - sum(base)
    want = [n - b for n, b in zip(natural, base, strict=True)]
    if spare <= 0 or not sum(want):
        return base
    total = sum(want)
    return [b + w * spare // total for b, w in zip(base, want, strict=True)]


def write_rich_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: Sequence[bool],
    styles: Sequence[Sequence[str]] | None = None,
    title: str | None = None,
    floor: Sequence[int] | None = None,
) -> None:
    """A Rich table on the terminal; every cell is inert Text, colour only when allowed.

    `floor` holds per-column minimum widths, so ids and numbers stay whole while long
    headers and free text give way (with an ellipsis) on a narrow terminal.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from mmtop.tui.safe_text import safe

    console = Console(file=sys.stdout, no_color=not colour_enabled(sys.stdout), highlight=False)
    table = Table(
        box=box.SIMPLE_HEAD,
        title=safe(title, "bold", single_line=True) if title else None,
        title_justify="left",
        pad_edge=False,
    )
    natural = min_widths(header, [header, *rows], [10_000] * len(header))
    # Rich's own squeeze takes the same from every no-wrap column, ids included: share the
    # room out ourselves, floors first, then in proportion to what each column would like.
    overhead = 3 * len(header) + 2
    widths = fit_widths(natural, floor or [0] * len(header), console.width - overhead)
    for name, is_right, width in zip(header, right, widths, strict=True):
        table.add_column(
            safe(name, single_line=True),
            justify="right" if is_right else "left",
            overflow="ellipsis",
            no_wrap=True,
            width=max(width, 1),
        )
    for r, row in enumerate(rows):
        row_styles = styles[r] if styles else [""] * len(row)
        table.add_row(*(safe(c, s, single_line=True) for c, s in zip(row, row_styles, strict=True)))
    console.print(table)


# Columns kept whole on a terminal, and how much of the rest is kept at least.
WHOLE_COLUMNS = {"run_id": 40, "status": 8}
NUMBER_FLOOR = 9
TEXT_FLOOR = 10


def terminal_label(column: str) -> str:
    """Shorter headers for people: `metrics.val/acc` -> `val/acc` (the last value)."""
    return column.removeprefix("metrics.")


def write_table(
    table: Flat | pl.DataFrame, out: IO[bytes], *, to_terminal: bool, digits: int = 6
) -> None:
    """An aligned table; a plain frame (no struct columns) is taken as it is."""
    flat = table if isinstance(table, Flat) else Flat(table, {c: (c,) for c in table.columns})
    header = flat.names
    right: list[bool] = []
    for name, dtype in flat.frame.schema.items():
        if name in flat.blocks:
            assert isinstance(dtype, pl.Array)
            right.extend([dtype.inner.is_numeric()] * len(flat.blocks[name]))
        else:
            right.append(dtype.is_numeric())
    rows = text_rows(flat, digits)
    if to_terminal and is_tty(sys.stdout):
        caps = [
            WHOLE_COLUMNS.get(c, NUMBER_FLOOR if r else TEXT_FLOOR)
            for c, r in zip(header, right, strict=True)
        ]
        floor = min_widths(header, rows, caps)
        styles = None
        if "status" in header:
            idx = header.index("status")
            styles = [
                ["" if i != idx else STATUS_STYLES.get(row[idx], "") for i in range(len(row))]
                for row in rows
            ]
        labels = [terminal_label(c) for c in header]
        write_rich_table(labels, rows, right, styles, floor=floor)
        return
    write_plain_table(header, rows, right, out)


# The fitted terminal table (`mmtop ls` with no --columns): columns this far apart, and how
# narrow free text may get before its column is dropped instead.
FITTED_GAP = 2
NAME_FLOOR = 20


def _floor(column: str, natural: int, numeric: bool) -> int:
    if numeric or column in WHOLE_COLUMNS or column == "created":
        return natural  # numbers, ids, times: whole or not at all
    return min(natural, NAME_FLOOR if column == "name" else TEXT_FLOOR)


def fitted_label(column: str) -> str:
    """`metrics.val/acc` -> `val/acc`, `params.optim.lr` -> `optim.lr`, as in the app."""
    for prefix in ("metrics.", "params."):
        if column.startswith(prefix):
            return column[len(prefix) :]
    return column


def write_fitted_table(frame: pl.DataFrame, digits: int = 4) -> None:
    """The runs on a terminal, in as many of the frame's columns, first ones first, as fit
    its width (tui/column_rule.fit): no column is half drawn, numbers and ids are whole,
    free text ends in `…`; numbers with 4 significant digits, as in the app. A line on
    stderr counts the columns left out."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.text import Text

    from mmtop.tui.column_rule import fit
    from mmtop.tui.formatting import fit as fit_text

    console = Console(file=sys.stdout, no_color=not colour_enabled(sys.stdout), highlight=False)
    names = frame.columns
    schema = frame.schema
    # Cells are worked out a column at a time, only until the floors fill the width: a run
    # with 100k metric keys costs what a screenful of columns costs.
    numeric: list[bool] = []
    header: list[str] = []
    texts: list[list[str]] = []
    natural: list[int] = []
    floors: list[int] = []
    used = -FITTED_GAP
    for name in names:
        column_cells = cells.column_text(frame.get_column(name), digits)
        is_number = schema[name].is_numeric()
        label = fitted_label(name)
        width = max([cell_len(label), *(cell_len(c) for c in column_cells)])
        floor = _floor(name, width, is_number)
        used += floor + FITTED_GAP
        if used > console.width:
            break
        numeric.append(is_number)
        header.append(label)
        texts.append(column_cells)
        natural.append(width)
        floors.append(floor)
    widths = fit(natural, floors, console.width, FITTED_GAP)
    rows = [list(row) for row in zip(*texts, strict=True)] if texts else []
    status = names.index("status") if "status" in names[: len(widths)] else -1

    def line(row: Sequence[str], style: str = "", row_status: str = "") -> Text:
        text = Text(style=style, no_wrap=True, overflow="crop", end="\n")
        for i, width in enumerate(widths):
            cell = fit_text(row[i], width)
            pad = " " * (width - cell_len(cell))
            if i:
                text.append(" " * FITTED_GAP)
            cell_style = STATUS_STYLES.get(row_status, "") if i == status else ""
            text.append(pad + cell if numeric[i] else cell + pad, style=cell_style)
        text.rstrip()
        return text

    console.print(line(header, "bold"), crop=True)
    console.print(Text("─" * (sum(widths) + FITTED_GAP * max(0, len(widths) - 1))), crop=True)
    for row in rows:
        console.print(line(row, row_status=row[status] if status >= 0 else ""), crop=True)
    left_out = len(names) - len(widths)
    if left_out:
        print(
            f"{left_out} more column{'s' if left_out > 1 else ''} on a wider terminal, "
            "or pick them with --columns",
            file=sys.stderr,
        )
