"""`mmtop diff RUN RUN...`: params, metrics (with deltas vs a baseline), env, code and data."""

from __future__ import annotations

import argparse
import re
from typing import Any

from mmtop.tui import diffing
from mmtop.tui.cli import diffview
from mmtop.tui.cli.common import is_stdout, open_store, output, resolve, split_list
from mmtop.tui.cli.errors import EXIT_OK, UsageError
from mmtop.tui.cli.runfiles import read_extras

SECTIONS = ("params", "metrics", "env", "code", "data")


def run(ns: argparse.Namespace) -> int:
    stats = tuple(split_list(ns.stats, diffing.STATS, "--stats"))
    sections = split_list(ns.sections, SECTIONS, "--sections")
    overrides = _overrides(ns.lower_better, ns.higher_better)
    st = open_store(ns)
    refs = list(ns.runs)
    ids = [resolve(st, ref) for ref in refs]
    baseline = 0
    if ns.baseline:
        base_id = resolve(st, ns.baseline)
        if base_id not in ids:
            ids.insert(0, base_id)  # the baseline is compared too, shown first
        baseline = ids.index(base_id)
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise UsageError(f"run given more than once: {', '.join(dupes)}")
    if len(ids) < 2:
        raise UsageError("diff needs at least two runs")
    infos = [st.run(run_id) for run_id in ids]
    extras = [read_extras(info) for info in infos]
    report = diffview.Report(
        runs=[_run_entry(info) for info in infos],
        labels=diffview.labels([(i.run_id, i.name) for i in infos]),
        baseline=baseline,
        sections=sections,
    )
    every = bool(ns.all)
    if "params" in sections:
        report.rows["params"] = diffing.diff_rows([i.params for i in infos], all_rows=every)
        report.totals["params"] = _count([i.params for i in infos])
    if "metrics" in sections:
        per_run = [diffing.stats_of(i.summary, i.values) for i in infos]
        report.metrics = diffing.metric_rows(
            per_run, baseline, stats=stats, overrides=overrides, all_rows=every
        )
        report.totals["metrics"] = len({k for r in per_run for k in r})
    if "env" in sections:
        envs = [e.env for e in extras]
        report.rows["env"] = diffing.env_rows(envs, all_rows=every)
        report.totals["env"] = len(diffing.diff_rows(envs, all_rows=True, expand_lists=True))
    if "code" in sections:
        codes = [_code(e) for e in extras]
        report.rows["code"] = diffing.code_rows(codes, all_rows=every)
        report.totals["code"] = _count(codes)
    if "data" in sections:
        inputs = [e.inputs for e in extras]
        report.rows["data"] = diffing.data_rows(inputs, all_rows=every)
        report.totals["data"] = len(diffing.data_rows(inputs, all_rows=True))
        report.different_data = diffing.different_data(inputs)
    with output(ns.output) as out:
        diffview.render(report, ns.format, out, to_terminal=is_stdout(ns.output))
    return EXIT_OK


def _overrides(lower: list[str], higher: list[str]) -> list[tuple[re.Pattern[str], Any]]:
    rules: list[tuple[re.Pattern[str], Any]] = []
    for flag, patterns, way in (
        ("--lower-better", lower, "lower"),
        ("--higher-better", higher, "higher"),
    ):
        for pattern in patterns:
            try:
                rules.append((re.compile(pattern), way))
            except re.error as exc:
                raise UsageError(f"{flag}: bad regex {pattern!r} ({exc})") from None
    return rules


def _run_entry(info: Any) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "experiment": info.experiment,
        "name": info.name,
        "status": info.status,
    }


def _code(extras: Any) -> dict[str, Any] | None:
    code = dict(extras.code) if extras.code else {}
    git = code.get("git")
    git = git if isinstance(git, dict) else {}
    if extras.patch_sha256 and not git.get("patch_sha256"):
        # Older code.json files carry no digest: tell different patches apart by their bytes.
        code["patch"] = {"bytes": extras.patch_bytes, "sha256": extras.patch_sha256}
    return code or None


def _count(mappings: list[Any]) -> int:
    return len(diffing.diff_rows(mappings, all_rows=True))
