"""The runs table's model: filter, narrow, sort and pick columns over a loaded runs frame.

Pure polars, no Textual, so it is tested and benchmarked without a terminal. A view is a
permutation of row indices into the flat frame plus the columns to show; the table widget
renders only the rows on screen from it, which keeps 100k runs cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from mmtop.tui.columns import (
    AGG_PREFIX,
    Column,
    ColumnChoice,
    candidates,
    choose,
    measure,
)
from mmtop.tui.filtering import FilterError, classify, field_names, mask, search_column
from mmtop.tui.flat import flatten
from mmtop.tui.run_colours import run_colours

SORT_AGGS = ("last", "min", "max")


@dataclass
class ViewState:
    """Everything the user chose about the table; it survives reloads."""

    filter_text: str = ""
    experiment: str | None = None
    sort_key: str = "created"
    descending: bool = True
    metric_agg: str = "last"
    choice: ColumnChoice = field(default_factory=ColumnChoice)


@dataclass(frozen=True)
class View:
    order: pl.Series  # indices into RunsModel.flat, display order
    columns: list[Column]
    sort_column: str  # the flat column actually sorted on (metrics_min.x when agg is min)

    def __len__(self) -> int:
        return len(self.order)


def _empty_frame() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "run_id": pl.String,
            "experiment": pl.String,
            "name": pl.String,
            "status": pl.String,
            "created": pl.Datetime("us", "UTC"),
            "duration_s": pl.Float64,
            "last_step": pl.Int64,
            "tags": pl.List(pl.String),
        }
    )


class RunsModel:
    def __init__(self, raw: pl.DataFrame | None = None) -> None:
        self.raw = _empty_frame()
        self.flat = self.raw
        self.search: pl.Series | None = None
        self.fields: list[str] = []
        self.colours: dict[str, str] = {}
        self._widths: dict[str, Column] = {}
        self._masks: dict[str, pl.Series | None] = {}
        self._columns: dict[tuple[str, str | None, ColumnChoice, tuple[str, ...]], list[str]] = {}
        self.loaded_at = datetime.now(UTC)
        if raw is not None:
            self.load(raw)

    def load(self, raw: pl.DataFrame) -> None:
        self.raw = raw
        self.flat = flatten(raw).frame
        self.search = raw.select(search_column(raw)).to_series() if raw.height else None
        self.fields = field_names(raw)
        self.colours = run_colours(raw)
        self._widths.clear()
        self._masks.clear()
        self._columns.clear()
        self.loaded_at = datetime.now(UTC)

    # -- counts for the status bar and sidebar ------------------------------------------

    @property
    def total(self) -> int:
        return self.raw.height

    def running(self) -> int:
        if "status" not in self.raw.columns:
            return 0
        return int((self.raw.get_column("status") == "running").sum())

    def experiments(self) -> list[tuple[str, int]]:
        if self.raw.height == 0:
            return []
        counts = self.raw.group_by("experiment").len().sort("experiment")
        return [(str(e), int(n)) for e, n in counts.iter_rows()]

    # -- view -----------------------------------------------------------------------------

    def filter_mask(self, text: str) -> pl.Series | None:
        """Cached per filter text; raises FilterError with a one-line message."""
        if text not in self._masks:
            self._masks[text] = mask(self.raw, self.search, classify(text))
        return self._masks[text]

    def check_filter(self, text: str) -> str | None:
        """None when `text` is a usable filter, else why not."""
        try:
            self.filter_mask(text)
        except FilterError as exc:
            return str(exc)
        return None

    def sort_column(self, state: ViewState) -> str:
        key = state.sort_key
        if key.startswith("metrics.") and state.metric_agg != "last":
            alt = AGG_PREFIX[state.metric_agg] + key[len("metrics.") :]
            if alt in self.flat.columns:
                return alt
        return key if key in self.flat.columns else "created"

    def compute(self, state: ViewState) -> View:
        n = self.flat.height
        keep = self.filter_mask(state.filter_text)
        if state.experiment is not None and n:
            in_exp = self.flat.get_column("experiment") == state.experiment
            keep = in_exp if keep is None else keep & in_exp
        rows = pl.int_range(0, n, dtype=pl.UInt32, eager=True)
        if keep is not None:
            rows = rows.filter(keep)
        sort_col = self.sort_column(state)
        order = self._sort(rows, sort_col, state.descending)
        # The metric the table is sorted by leads the metrics: the user chose it.
        first = (state.sort_key,) if state.sort_key.startswith("metrics.") else ()
        ckey = (state.filter_text, state.experiment, state.choice, first)
        if ckey not in self._columns:
            shown = self.flat[rows] if keep is not None else self.flat
            self._columns[ckey] = choose(self.flat, shown, state.choice, first)
        columns = [self.column(k) for k in self._columns[ckey]]
        return View(order=order, columns=columns, sort_column=sort_col)

    def compute_empty(self) -> View:
        return View(order=pl.Series("rows", [], dtype=pl.UInt32), columns=[], sort_column="")

    def _sort(self, rows: pl.Series, key: str, descending: bool) -> pl.Series:
        if key not in self.flat.columns or len(rows) == 0:
            return rows
        dtype = self.flat.schema[key]
        values = self.flat.get_column(key).gather(rows)
        if isinstance(dtype, pl.List):
            values = values.list.join(",") if dtype.inner == pl.String else values.cast(pl.String)
        elif isinstance(dtype, (pl.Struct, pl.Array, pl.Object, pl.Null)):
            values = values.cast(pl.String, strict=False)
        ties = self.flat.get_column("run_id").gather(rows)
        frame = pl.DataFrame({"v": values, "t": ties})
        perm = frame.select(
            # Ties (same experiment, same lr) list the newest run first in either direction.
            pl.arg_sort_by(["v", "t"], descending=[descending, True], nulls_last=True)
        ).to_series()
        return rows.gather(perm)

    def column(self, key: str) -> Column:
        if key not in self._widths:
            self._widths[key] = measure(self.flat, key)
        return self._widths[key]

    def candidates(self) -> list[str]:
        return candidates(self.flat)

    # -- rows -----------------------------------------------------------------------------

    def rows(self, view: View, start: int, stop: int, keys: list[str]) -> list[tuple[object, ...]]:
        """Raw values of `keys` for display rows start..stop: only what is on screen."""
        idx = view.order[start:stop]
        if len(idx) == 0:
            return []
        unique = list(dict.fromkeys(keys))
        rows = self.flat.select([pl.col(k).gather(idx) for k in unique]).rows()
        if len(unique) == len(keys):
            return rows
        where = [unique.index(k) for k in keys]
        return [tuple(r[i] for i in where) for r in rows]

    def run_id_at(self, view: View, position: int) -> str | None:
        if not 0 <= position < len(view.order):
            return None
        return str(self.flat.get_column("run_id")[int(view.order[position])])

    def status_at(self, view: View, position: int) -> str | None:
        if not 0 <= position < len(view.order):
            return None
        return str(self.flat.get_column("status")[int(view.order[position])])

    def position_of(self, view: View, run_id: str) -> int | None:
        """Display position of a run in `view`, for keeping the cursor across reloads."""
        if not run_id or len(view.order) == 0:
            return None
        ids = self.flat.get_column("run_id").gather(view.order)
        hits = (ids == run_id).arg_true()
        return int(hits[0]) if len(hits) else None

    def record(self, run_id: str) -> dict[str, object] | None:
        """One run's row of the raw frame as a dict (for the preview pane)."""
        if self.raw.height == 0:
            return None
        hit = self.raw.filter(pl.col("run_id") == run_id)
        return hit.row(0, named=True) if hit.height else None

    def ids(self, view: View) -> list[str]:
        return self.flat.get_column("run_id").gather(view.order).to_list()


__all__ = ["FilterError", "RunsModel", "SORT_AGGS", "View", "ViewState"]
