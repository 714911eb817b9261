"""Reading a target's prediction and label parts back as polars frames.

Parts are listed like a run's metric parts (store/parts.py: a compacted part hides the ones
it covers), read (every column, or only those a caller keeps), and concatenated with their
columns unified (a feature or class seen in one part only is null elsewhere). A part that
cannot be read is skipped and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from ..errors import CorruptPartError
from ..parts import list_parts, read_part
from ..records import Problem
from . import layout


def read_parts(
    folder: Path,
    problems: list[Problem] | None = None,
    columns: Callable[[str], bool] | None = None,
) -> pl.DataFrame:
    """Every row of the parts in `folder`, in (writer, part) order; empty when none. Only
    the columns `columns` keeps, when given."""
    frames: list[pl.DataFrame] = []
    for part in sorted(list_parts(folder), key=lambda p: (p.writer, p.first)):
        try:
            table = read_part(part.path, columns=columns)
        except FileNotFoundError:
            continue  # compacted away meanwhile: the compacted part is read instead
        except (OSError, CorruptPartError) as exc:
            if problems is not None:
                problems.append(Problem(str(part.path), f"unreadable part: {exc}"))
            continue
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        frames.append(frame)
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames, how="diagonal_relaxed")


def predictions(
    root: Path,
    name: str,
    target: str,
    problems: list[Problem] | None = None,
    *,
    probabilities: bool = True,
) -> pl.DataFrame:
    """Every logged prediction of `name` at `target`, sorted by time (stable); without the
    class probabilities (`proba.*`, never decoded) when `probabilities` is False."""
    keep = None if probabilities else _not_proba
    return _by_time(read_parts(layout.predictions_dir(root, name, target), problems, keep))


def _not_proba(column: str) -> bool:
    return not column.startswith(layout.PROBA_PREFIX)


def labels(
    root: Path,
    name: str,
    target: str,
    problems: list[Problem] | None = None,
    *,
    ordered: bool = True,
) -> pl.DataFrame:
    """The latest label per id of `name` at `target`: columns id, label, time; in the order
    of each id's latest label, or in no particular order (cheaper) with `ordered=False`."""
    frame = _by_time(read_parts(layout.labels_dir(root, name, target), problems))
    if not frame.height:
        return frame
    return frame.unique(layout.ID, keep="last", maintain_order=ordered)


def _by_time(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` sorted by time, stable; one writer's parts usually are already (a sort of a
    million rows and every column costs more than the check)."""
    if not frame.height or frame[layout.TIME].is_sorted():
        return frame
    return frame.sort(layout.TIME, maintain_order=True)
