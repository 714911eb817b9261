"""The compare screen's pure parts: diff-only params, metric cells and deltas, env/code/data
differences, series for the charts, and reading runs from a real store."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import polars as pl
import pytest

from mmtop import store
from mmtop.tui import diffing
from mmtop.tui.compare_data import read_compare, run_labels
from mmtop.tui.compare_series import group_series, run_series
from mmtop.tui.grouping import GroupStat
from mmtop.tui.widgets.compare_env import data_banner, env_cell, env_diff, summary_lines
from mmtop.tui.widgets.compare_metrics import delta_text, metric_cell, shown_rows, value_text
from mmtop.tui.widgets.compare_params import DIFFERS_STYLE, cell, param_table

NESTED: list[dict[str, Any]] = [
    {"lr": 0.1, "opt": {"name": "sgd", "betas": [0.9, 0.99], "wd": {"l2": 0.0}}, "bs": 32},
    {"lr": 0.1, "opt": {"name": "sgd", "betas": [0.9, 0.99], "wd": {"l2": 1e-4}}, "bs": 32},
    {"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.999]}, "bs": 32, "extra": None},
]


def test_diff_only_rows_on_nested_params() -> None:
    rows, differing, total = param_table(NESTED)
    assert [r.key for r in rows] == ["extra", "opt.betas", "opt.name", "opt.wd.l2"]
    assert (differing, total) == (4, 6)
    wd = rows[3]
    assert wd.values == (0.0, 1e-4, diffing.MISSING)


def test_all_rows_and_filter() -> None:
    rows, _, _ = param_table(NESTED, show_all=True)
    assert [r.key for r in rows] == ["bs", "extra", "lr", "opt.betas", "opt.name", "opt.wd.l2"]
    assert [r.differs for r in rows] == [False, True, False, True, True, True]
    rows, _, _ = param_table(NESTED, show_all=True, pattern=re.compile("^opt\\."))
    assert [r.key for r in rows] == ["opt.betas", "opt.name", "opt.wd.l2"]


def test_cells_differing_from_the_baseline_are_highlighted() -> None:
    assert cell(0.1, 0.1).style == ""
    assert cell(0.2, 0.1).style == DIFFERS_STYLE
    assert cell(1, 1.0).style == ""  # same number, other type
    assert cell(True, 1).style == DIFFERS_STYLE
    missing = cell(diffing.MISSING, 0.1)
    assert (missing.plain, missing.style) == ("—", "dim")
    assert cell(None, 0.1).plain == "null"


def test_hostile_param_text_is_inert() -> None:
    text = cell("[bold]x[/]\x1b[31mred\x07", "plain")
    assert text.plain == "[bold]x[/]red␇"
    assert text.spans == []


def metric_rows(baseline: int) -> list[diffing.MetricRow]:
    stats = [
        {
            "val/loss": {"last": 0.5, "min": 0.4, "max": 2.0},
            "test/acc": {s: 0.9 for s in "last min max".split()},
        },
        {
            "val/loss": {"last": 0.4, "min": 0.3, "max": 2.5},
            "test/acc": {s: 0.8 for s in "last min max".split()},
        },
        {"val/loss": {"last": 0.6, "min": 0.45, "max": 1.5}},
    ]
    return diffing.metric_rows(stats, baseline)


def test_deltas_follow_the_baseline() -> None:
    rows = {(r.key, r.stat): r for r in metric_rows(0)}
    last = rows[("val/loss", "last")]
    assert [delta_text(c) for c in last.cells] == ["", "-0.1 (-20.0%)", "+0.1 (+20.0%)"]
    assert [c.better for c in last.cells] == [None, True, False]
    assert last.best == (1,)
    rows = {(r.key, r.stat): r for r in metric_rows(2)}
    last = rows[("val/loss", "last")]
    assert [delta_text(c) for c in last.cells] == ["-0.1 (-16.7%)", "-0.2 (-33.3%)", ""]
    assert delta_text(diffing.Cell(0.5, 0.0, 0.0, None)) == "="
    assert delta_text(diffing.Cell(0.5, 0.5, None, True)) == "+0.5"  # baseline 0: no %


def test_metric_cell_text_and_styles() -> None:
    row = {(r.key, r.stat): r for r in metric_rows(0)}[("val/loss", "last")]
    best = metric_cell(row.cells[1], best=True, baseline=False)
    assert best.plain == "★ 0.4  -0.1 (-20.0%)"
    assert "green" in [str(s.style) for s in best.spans]
    worse = metric_cell(row.cells[2], best=False, baseline=False)
    assert "red" in [str(s.style) for s in worse.spans]
    assert (
        metric_cell(diffing.Cell(None, None, None, None), best=False, baseline=False).plain == "—"
    )


def test_grouped_values_read_mean_std_and_n() -> None:
    c = diffing.Cell(0.125, None, None, None)
    assert value_text(c, GroupStat(0.125, 0.035355, 2)) == "0.125±0.035 n=2"
    assert value_text(c, GroupStat(0.125, None, 1)) == "0.125 n=1"


def test_single_values_show_only_last_and_filter_applies() -> None:
    rows = shown_rows(metric_rows(0))
    assert [(r.key, r.stat) for r in rows] == [
        ("test/acc", "last"),
        ("val/loss", "last"),
        ("val/loss", "min"),
        ("val/loss", "max"),
    ]
    rows = shown_rows(metric_rows(0), re.compile("acc"))
    assert [(r.key, r.stat) for r in rows] == [("test/acc", "last")]


def test_env_code_and_data_differences_are_surfaced() -> None:
    envs = [
        {"python": {"version": "3.11.7"}, "packages": {"numpy": "1.26.4", "torch": "2.1"}},
        {"python": {"version": "3.12.1"}, "packages": {"numpy": "2.1.0", "torch": "2.1"}},
    ]
    codes = [
        {"git": {"commit": "aaaa1111ff", "dirty": False}},
        {"git": {"commit": "bbbb", "dirty": True}},
    ]
    inputs: list[list[dict[str, Any]]] = [
        [
            {"name": "train", "fingerprint": "x1", "logged": 1.0},
            {"name": "val", "fingerprint": "v"},
        ],
        [
            {"name": "train", "fingerprint": "x2", "logged": 2.0},
            {"name": "val", "fingerprint": "v"},
        ],
    ]
    diff = env_diff(envs, codes, inputs)
    assert diff.different_data == ["train"]
    assert [r.key for r in diff.sections["data"]] == ["train.fingerprint"]  # not "logged"
    assert [r.key for r in diff.sections["python"]] == ["python.version"]
    assert [r.key for r in diff.sections["packages"]] == ["packages.numpy"]
    assert [r.key for r in diff.sections["code"]] == ["git.commit", "git.dirty"]
    banner = data_banner(diff).plain
    assert banner == " ⚠ TRAINED ON DIFFERENT DATA   datasets that differ: train"
    assert summary_lines(diff, ["a", "b"]).plain.split("\n") == [
        "git commit: 2 different: aaaa1111 (1 run), bbbb (1 run) · uncommitted changes in b",
        "python: 2 different: 3.11.7 (1 run), 3.12.1 (1 run)",
        "packages: 1 with other versions: numpy",
    ]


def test_digests_show_their_first_digits_highlighted_by_the_whole_value() -> None:
    same_start = env_cell("train.fingerprint", "blake2b:0123456789abXYZ", "blake2b:0123456789abXYW")
    assert (same_start.plain, same_start.style) == ("0123456789ab", DIFFERS_STYLE)
    assert env_cell("git.commit", "f" * 40, "f" * 40).plain == "f" * 12
    assert env_cell("python.version", "3.11.7", "3.11.7").plain == "3.11.7"


def test_same_data_and_nothing_recorded() -> None:
    same = [[{"name": "train", "fingerprint": "x", "logged": t}] for t in (1.0, 2.0)]
    diff = env_diff([None, None], [None, None], same)
    assert diff.different_data == []
    assert data_banner(diff).plain == "✓ same data: train (fingerprints match)"
    nothing = env_diff([None, None], [None, None], [[], []])
    assert data_banner(nothing).plain.startswith("no datasets recorded")
    # A dataset only one run used is different data too.
    one_sided = env_diff([None, None], [None, None], [[{"name": "extra", "fingerprint": "e"}], []])
    assert one_sided.different_data == ["extra"]


def test_labels_tell_repeated_names_apart() -> None:
    ids = ["20260101T000000Z-aaaaaa", "20260101T000000Z-bbbbbb", "20260101T000000Z-cccccc"]
    assert run_labels(ids, ["x", "y", "x"]) == ["x [aaaaaa]", "y", "x [cccccc]"]


def test_run_series_one_per_run_in_order_with_colours() -> None:
    t0 = pl.datetime(2026, 1, 1, time_zone="UTC")
    frame = pl.DataFrame(
        {
            "run_id": ["b", "a", "a", "b"],
            "key": ["k", "k", "k", "j"],
            "step": [0, 1, 0, 0],
            "value": [5.0, 2.0, 1.0, 7.0],
        }
    ).with_columns(time=t0)
    series = run_series(frame, {"a": "run-a", "b": "run-b"}, {"a": "red", "b": "blue"})
    assert list(series) == ["j", "k"]
    assert [s.name for s in series["k"]] == ["run-a", "run-b"]
    assert series["k"][0].values.tolist() == [1.0, 2.0]  # sorted by step
    assert series["k"][0].color == "red"
    assert series["k"][0].times is not None


def test_group_series_are_banded_by_one_std() -> None:
    curves = pl.DataFrame(
        {
            "group": ["g", "g"],
            "key": ["k", "k"],
            "step": [0.0, 1.0],
            "mean": [1.0, 2.0],
            "std": [0.5, None],
            "n": [2, 1],
        }
    )
    (s,) = group_series(curves, ["g"], {"g": "green"})["k"]
    assert s.band is not None
    np.testing.assert_array_equal(s.band[0], [0.5, 2.0])
    np.testing.assert_array_equal(s.band[1], [1.5, 2.0])


def test_read_compare_skips_unknown_runs(tmp_path: Any) -> None:
    with store.Run(
        experiment="e",
        name="only",
        params={"a": 1},
        root=tmp_path,
        capture_env=False,
        capture_code=False,
        capture_system=False,
    ) as run:
        run.log({"loss": 1.0}, step=0)
        run.log({"loss": 0.5}, step=1)
    data = read_compare(store.open(tmp_path), [run.run_id, "20990101T000000Z-ffffff"])
    assert data.run_ids == [run.run_id]
    assert data.missing == ["20990101T000000Z-ffffff"]
    assert data.stats == [{"loss": {"last": 0.5, "min": 0.5, "max": 1.0}}]
    assert data.counts == {"loss": 2}
    assert data.metric_keys == ["loss"]


@pytest.mark.parametrize("n", [2, 50])
def test_param_table_scales_to_many_runs(n: int) -> None:
    params = [{"lr": 10.0**-i, "fixed": 1} for i in range(n)]
    rows, differing, total = param_table(params)
    assert [r.key for r in rows] == ["lr"]
    assert (differing, total, len(rows[0].values)) == (1, 2, n)


def test_run_titles_are_inert_and_cut() -> None:
    from mmtop.tui.widgets.compare_table import COLUMN_WIDTH, header

    title = header("[bold red]boom[/]\x1b]0;pwned\x07", baseline=True)
    assert title.plain == "◆ [bold red]boom[/]"
    assert [str(span.style) for span in title.spans] == ["bold"]  # ours only, not "bold red"
    assert header("x" * 100, baseline=False).cell_len == COLUMN_WIDTH
