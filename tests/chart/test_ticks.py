"""Tick values and their short labels: numbers, durations, clock times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mmtop.tui.charting.ticks import (
    duration_ticks,
    format_duration,
    format_number,
    format_timestamp,
    log_ticks,
    nice_ticks,
    number_labels,
    place_labels,
    wall_ticks,
)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0.0, "0"),
        (1e-3, "1e-3"),
        (0.0025, "2.5e-3"),
        (0.25, "0.25"),
        (2500.0, "2.5k"),
        (1.2e6, "1.2M"),
        (-40.0, "-40"),
        (3.5e9, "3.5G"),
        (1e15, "1e15"),
        (999_960.0, "1M"),  # 999.96k rounds up: next suffix, not "1000k"
        (12_345.6, "12.3k"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
    ],
)
def test_format_number(value: float, label: str) -> None:
    assert format_number(value) == label


def test_number_labels_use_as_many_digits_as_each_value_needs() -> None:
    assert number_labels([0.0, 0.25, 0.5, 0.75, 1.0]) == ["0", "0.25", "0.5", "0.75", "1"]
    assert number_labels([0.1 + 0.2]) == ["0.3"]
    assert number_labels([1_234_567.0]) == ["1.234567M"]


def test_nice_ticks() -> None:
    assert nice_ticks(0.0, 1.0, 4) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0.1, 0.35, 5) == [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]
    assert nice_ticks(-0.3e-3, 2e-3, 5) == [0.0, 0.0005, 0.001, 0.0015, 0.002]
    assert nice_ticks(0.0, 1e6, 5) == [0.0, 200_000.0, 400_000.0, 600_000.0, 800_000.0, 1e6]
    assert number_labels(nice_ticks(0.0, 1e6, 5)) == ["0", "200k", "400k", "600k", "800k", "1M"]
    assert nice_ticks(0.0, 3.0, 10, integer=True) == [0.0, 1.0, 2.0, 3.0]
    assert nice_ticks(7.0, 7.0) == [7.0]
    assert nice_ticks(float("nan"), 1.0) == []


def test_log_ticks_are_decades_or_round_values_inside_one() -> None:
    assert log_ticks(-3.0, 2.2, 6) == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0]
    assert log_ticks(-6.0, 6.0, 4) == [-6.0, -3.0, 0.0, 3.0, 6.0]
    inside = log_ticks(0.1, 0.9, 5)  # 1.26 .. 7.9: no decade, so 2, 4, 6
    assert number_labels([10**e for e in inside]) == ["2", "4", "6"]


def test_duration_ticks_and_labels() -> None:
    assert duration_ticks(0, 150, 5) == (
        [0.0, 30.0, 60.0, 90.0, 120.0, 150.0],
        ["0", "30s", "1m", "90s", "2m", "150s"],
    )
    assert duration_ticks(0, 7200, 5)[1] == ["0", "30m", "1h", "90m", "2h"]
    assert duration_ticks(0, 3 * 86400, 4)[1] == ["0", "1d", "2d", "3d"]
    assert duration_ticks(0, 0.5, 4) == ([0.0, 0.2, 0.4], ["0", "0.2s", "0.4s"])


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "0.5s"), (42.5, "42.5s"), (90, "1m30s"), (900, "15m"), (7500, "2h05m"),
     (3 * 86400 + 4 * 3600, "3d4h"), (-90, "-1m30s")],
)  # fmt: skip
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


T0 = datetime(2026, 11, 27, 11, 7, 40, tzinfo=UTC).timestamp()


def test_wall_ticks_on_round_clock_times() -> None:
    ticks, labels = wall_ticks(T0, T0 + 5 * 3600, 5, UTC)
    assert labels == ["12:00", "13:00", "14:00", "15:00", "16:00"]
    assert ticks[0] == datetime(2026, 11, 27, 12, 0, tzinfo=UTC).timestamp()
    assert wall_ticks(T0, T0 + 100, 4, UTC)[1] == ["11:08:00", "11:08:30", "11:09:00"]
    assert wall_ticks(T0, T0 + 5 * 86400, 5, UTC)[1] == [
        "Nov 28", "Nov 29", "Nov 30", "Dec 1", "Dec 2",
    ]  # fmt: skip


def test_wall_ticks_align_to_local_time_in_the_given_zone() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    ticks, labels = wall_ticks(T0, T0 + 5 * 3600, 5, india)
    # 11:07 UTC is 16:37 in India: ticks fall on whole local hours.
    assert labels == ["17:00", "18:00", "19:00", "20:00", "21:00"]
    assert ticks[0] == datetime(2026, 11, 27, 17, 0, tzinfo=india).timestamp()
    assert format_timestamp(T0, india) == "2026-11-27 16:37:40"


def test_place_labels_centres_and_drops_overlaps() -> None:
    assert place_labels([0, 10, 20, 39], ["0", "10", "20", "30k"], 40) == (
        "0        10        20                30k"
    )
    # "1000" would overlap "999": dropped. A label wider than the line is dropped too.
    assert place_labels([2, 4, 8], ["999", "1000", "x"], 10) == " 999    x "
    assert place_labels([0], ["toolong"], 3) == "   "
