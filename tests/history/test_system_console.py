"""System samples, timing and the console of a run, captured by `store.Run` and read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mmtop import store


def test_system_samples_become_a_history_and_peak_rss(
    new_run: Any, root: Path, wait_until: Any
) -> None:
    with new_run(capture_system=True, system_every=0.05, flush_every=0.05) as run:
        s = store.open(root)

        def rss_points() -> int:
            return s.history(run.run_id, keys="sys/proc_rss_mb", system=True).height

        wait_until(lambda: rss_points() >= 3, what="three RSS samples on disk")
        run.log({"loss": 0.5})
    info = s.run(run.run_id)
    history = info.system_history()
    assert history.equals(s.history(run.run_id, system=True))
    assert history.columns == ["run_id", "key", "step", "time", "value"]
    rss = history.filter(pl.col("key") == "sys/proc_rss_mb")
    assert rss.height >= 3
    assert rss["step"].to_list() == list(range(rss.height))  # one step per sample
    assert (rss["value"] > 0).all()
    assert {"sys/proc_rss_mb", "sys/cpu_pct", "sys/mem_used_pct", "sys/proc_cpu_pct"} <= set(
        history["key"].unique().to_list()
    )
    # System keys stay out of the training metrics.
    assert s.history(run.run_id)["key"].unique().to_list() == ["loss"]
    peak = s.runs()["peak_rss_mb"].to_list()
    assert peak == [rss["value"].max()]
    assert peak[0] > 0


def test_without_system_capture_no_samples_and_no_peak(new_run: Any, root: Path) -> None:
    with new_run(capture_system=False) as run:
        run.log({"loss": 0.5})
    s = store.open(root)
    assert s.history(run.run_id, system=True).height == 0
    assert s.runs()["peak_rss_mb"].to_list() == [None]
    assert not (run.path / "system").exists() or not any((run.path / "system").iterdir())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"system_every": 0}, r"system_every must be > 0 seconds, got 0"),
        ({"system_every": -1.0}, r"system_every must be > 0 seconds, got -1\.0"),
        ({"system_every": float("nan")}, r"system_every must be > 0 seconds, got nan"),
        ({"flush_every": 0}, r"flush_every must be > 0 seconds, got 0"),
    ],
)
def test_bad_intervals_are_refused_before_anything_is_written(
    new_run: Any, root: Path, kwargs: dict[str, Any], message: str
) -> None:
    """A refused run must not linger as `running` (then `crashed`), and an interval of 0 must
    not become a busy loop in a background thread."""
    with pytest.raises(ValueError, match=message):
        new_run(capture_system=True, **kwargs)
    assert not root.exists()


def test_duration_is_ended_minus_created(new_run: Any, root: Path) -> None:
    with new_run() as run:
        run.log({"loss": 0.5})
    s = store.open(root)
    row = s.runs().row(0, named=True)
    assert row["ended"] >= row["created"]
    assert row["duration_s"] == (row["ended"] - row["created"]).total_seconds()
    assert s.run(run.run_id).duration_s == row["duration_s"]


CONSOLE_SCRIPT = r"""
import sys
from mmtop import store
with store.Run(experiment="console", root=sys.argv[1], capture_console=True,
               capture_env=False, capture_code=False, capture_system=False) as run:
    print(run.run_id)
    print("epoch 1")
    for pct in (0, 25, 50, 75, 100):
        sys.stdout.write(f"\rtraining [{'#' * (pct // 25):<4}] {pct:3d}%")
        sys.stdout.flush()
    sys.stdout.write("\n")
    print("warning: lr is high", file=sys.stderr)
    sys.stdout.write("\rabcdef\rxy\n")
    print("done")
print("after the run")
"""


def test_console_with_a_progress_bar(run_bytes: Any, root: Path) -> None:
    done = run_bytes(CONSOLE_SCRIPT, str(root))
    assert done.returncode == 0, done.stderr
    out, err = done.stdout.decode(), done.stderr.decode()
    run_id = out.splitlines()[0]
    # The terminal got every byte, `\r`s included, and what came after the run too.
    assert out == (
        f"{run_id}\nepoch 1\n"
        "\rtraining [    ]   0%\rtraining [#   ]  25%\rtraining [##  ]  50%"
        "\rtraining [### ]  75%\rtraining [####] 100%\n"
        "\rabcdef\rxy\ndone\nafter the run\n"
    )
    assert err == "warning: lr is high\n"
    info = store.open(root).run(run_id)
    assert info.console_tail() == "\n".join(
        [
            run_id,
            "epoch 1",
            "training [####] 100%",
            "warning: lr is high",
            "xycdef",
            "done",
        ]
    )
    assert info.console_tail(2) == "xycdef\ndone"
    raw = (info.path / "console.log").read_bytes()
    assert b"\rtraining [##  ]  50%" in raw  # stored raw; rendered only when read
    assert b"after the run" not in raw


def test_console_not_captured_by_default(new_run: Any, root: Path) -> None:
    with new_run() as run:
        print("not kept")
    assert not (run.path / "console.log").exists()
    assert store.open(root).run(run.run_id).console_tail() == ""
