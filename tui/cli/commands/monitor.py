"""`mmtop monitor NAME`: the monitoring report of a deployed model; exit 3 on an alert.

Exit codes: 0 healthy (or nothing logged yet), 3 when any alert fires (drift, null share,
out-of-range or unseen-category share, prediction drift, performance), 1 for runtime errors
(no such model; nothing deployed at the target: undeployed, or never deployed and nothing
logged there), 2 for usage errors. A cron job or CI step can retrain on 3.
"""

from __future__ import annotations

import argparse
from typing import IO, Any

import polars as pl

from mmtop.tui.cli import cells, formats
from mmtop.tui.cli.commands.ls import write
from mmtop.tui.cli.commands.models import refs
from mmtop.tui.cli.common import is_stdout, open_store, output
from mmtop.tui.cli.errors import EXIT_OK, CliError
from mmtop.tui.flat import flatten

EXIT_ALERT = 3
# Shown in the text report; files get every column.
TEXT_COLUMNS = (
    "window",
    "start",
    "rows",
    "versions",
    "drifted",
    "prediction_psi",
    "latency_p50",
    "latency_p95",
    "labelled",
    "accuracy",
    "f1",
    "mae",
    "rmse",
    "alert",
)


def run(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    keys = ("psi", "wasserstein", "js", "null_share", "out_of_range", "unseen")
    overrides = {k: getattr(ns, k) for k in keys if getattr(ns, k) is not None}
    with refs():
        if not st.models(ns.name).height:
            from mmtop.store import ModelNotFoundError

            raise ModelNotFoundError(f"no model named {ns.name!r} in {st.root}")
        _check_serving(st, ns.name, ns.target)
        report = st.monitoring(
            ns.name,
            ns.target,
            ns.window,
            thresholds=overrides or None,
            max_drop=ns.max_drop,
            min_labels=ns.min_labels,
        )
    if ns.format == "text":
        with output(ns.output) as out:
            _text(report, out, is_stdout(ns.output))
    elif ns.format == "json":
        with output(ns.output) as out:
            out.write((cells.json_dumps(_json(report)) + "\n").encode())
    else:
        write(flatten(report.windows), ns.format, ns.output)
    return EXIT_ALERT if report.status == "alert" else EXIT_OK


def _check_serving(st: Any, name: str, target: str) -> None:
    """A target where nothing serves is an error: undeployed (said when and by whom), or
    never deployed and nothing logged there. Predictions logged at a target that was never
    deployed (`mmtop models predict --target` with no deployment) are still reported."""
    if target in st.deployed(name):
        return
    timeline = st.deployments(name)
    ended = timeline.filter(pl.col("target") == target)
    if ended.height:
        last = ended.row(ended.height - 1, named=True)
        when = last["time"].strftime("%Y-%m-%d %H:%M UTC") if last["time"] else "?"
        raise CliError(
            f"{name}: nothing is deployed at {target!r}: v{last['from']} was undeployed "
            f"{when} by {last['user'] or '?'}"
        )
    if target not in st.targets(name):
        raise CliError(f"{name}: nothing is deployed at {target!r} and nothing was logged there")


def _json(report: Any) -> dict[str, Any]:
    return {
        "name": report.name,
        "target": report.target,
        "window": report.window,
        "status": report.status,
        "baseline_metrics": report.baseline_metrics,
        "windows": report.windows.to_dicts(),
        "alerts": report.alerts.to_dicts(),
        "drift": report.drift.filter(pl.col("drift")).to_dicts() if report.drift.height else [],
        "story": report.story,
    }


def _text(report: Any, out: IO[bytes], terminal: bool) -> None:
    def say(line: str = "") -> None:
        out.write(cells.human(line).encode() + b"\n")

    windows = report.windows
    status = report.status.upper()
    alerted = windows.filter(pl.col("alert")).height if windows.height else 0
    detail = (
        f"{report.alerts.height} alert(s) in {alerted} of {windows.height} windows"
        if windows.height
        else "no predictions logged"
    )
    say(f"{report.name} at {report.target}: {status} ({detail}; window {report.window})")
    for version, metrics in sorted(report.baseline_metrics.items()):
        shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items()))
        say(f"baseline v{version}: {shown or 'no validation metrics'}")
    if windows.height:
        say()
        keep = [c for c in TEXT_COLUMNS if c in windows.columns]
        table = windows.select(keep).with_columns(
            pl.col("versions").list.eval(pl.element().cast(pl.String)).list.join(",")
        )
        formats.write_table(table, out, to_terminal=False, digits=4)
    if report.alerts.height:
        say()
        say("alerts")
        for row in report.alerts.iter_rows(named=True):
            when = row["start"].strftime("%Y-%m-%d %H:%M") if row["start"] else "?"
            say(f"  window {row['window']} ({when}): {row['message']}")
    if report.story:
        say()
        say("deployments and retraining")
        for line in report.story:
            say(f"  {line}")
