"""One colour per run, the same in the runs table (a swatch), the preview, every chart and
every legend.

A run's colour is the palette colour at its place among all runs of the store in creation
order (ties by id), so runs made one after another (a sweep, seeds) differ, and a run keeps
its colour while runs are added after it. On a chart that holds two runs of one colour (more
runs than colours, or runs far apart), `distinct` gives the later ones a free colour there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from mmtop.tui.charting.model import PALETTE


def run_colours(frame: pl.DataFrame) -> dict[str, str]:
    """run_id -> colour for every run of a runs frame (run_id and created columns)."""
    if frame.height == 0 or "run_id" not in frame.columns:
        return {}
    keys = ["created", "run_id"] if "created" in frame.columns else ["run_id"]
    ids = frame.select(keys).sort(keys, nulls_last=True).get_column("run_id").to_list()
    return {str(run_id): PALETTE[i % len(PALETTE)] for i, run_id in enumerate(ids)}


def distinct(run_ids: Sequence[str], colours: Mapping[str, str]) -> dict[str, str]:
    """Colours for the runs of one chart: each its own unless a run before it in `run_ids`
    has it already (then the first free palette colour, while there is one)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for run_id in run_ids:
        colour = colours.get(run_id)
        if colour is None or colour in used:
            free = [c for c in PALETTE if c not in used]
            colour = free[0] if free else (colour or PALETTE[len(out) % len(PALETTE)])
        out[run_id] = colour
        used.add(colour)
    return out
