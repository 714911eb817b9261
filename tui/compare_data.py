"""What the compare screen's tables show, read from the store in one go (off the UI
thread): each run's params, metric summaries, env, code and inputs, in the order asked,
with labels that tell runs of the same name apart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mmtop.tui import diffing
from mmtop.tui.charting.order import interesting_first


@dataclass
class CompareData:
    """What the tables need, read from the store in one go."""

    run_ids: list[str]
    labels: list[str]
    params: list[dict[str, Any]]
    stats: list[dict[str, dict[str, float]]]
    envs: list[dict[str, Any] | None]
    codes: list[dict[str, Any] | None]
    inputs: list[list[dict[str, Any]]]
    counts: dict[str, int] = field(default_factory=dict)  # metric key -> points, all runs
    missing: list[str] = field(default_factory=list)

    @property
    def metric_keys(self) -> list[str]:
        """Keys with a history to chart (summary-only values have none), those whose values
        change first: a constant such as a fixed `lr` tells little in a chart."""
        ranges = {
            key: [(st[key].get("min"), st[key].get("max")) for st in self.stats if key in st]
            for key in self.counts
        }
        return interesting_first(list(self.counts), ranges)


def run_labels(ids: Sequence[str], names: Sequence[str]) -> list[str]:
    """Run names, with an id suffix where a name repeats, so every column is told apart."""
    seen = Counter(names)
    return [n if seen[n] == 1 else f"{n} [{i[-6:]}]" for i, n in zip(ids, names, strict=True)]


def read_compare(st: Any, run_ids: Sequence[str]) -> CompareData:
    """Everything but histories, for the given runs in order; unknown ids are skipped."""
    from mmtop import store

    infos = []
    missing = []
    for ref in dict.fromkeys(run_ids):
        try:
            infos.append(st.run(ref))
        except (store.StoreError, OSError, ValueError):  # gone, or unreadable: name it
            missing.append(ref)
    counts: dict[str, int] = {}
    for info in infos:
        for key, summary in info.summary.items():
            counts[key] = counts.get(key, 0) + int(summary.get("count") or 0)
    return CompareData(
        run_ids=[i.run_id for i in infos],
        labels=run_labels([i.run_id for i in infos], [i.name for i in infos]),
        params=[i.params for i in infos],
        stats=[diffing.stats_of(i.summary, i.values) for i in infos],
        envs=[i.env for i in infos],
        codes=[i.code for i in infos],
        inputs=[i.inputs for i in infos],
        counts=counts,
        missing=missing,
    )
