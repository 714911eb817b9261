"""Property-based tests: any number `log()` accepts comes back exactly; names are safe."""

from __future__ import annotations

import math
import os
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmtop import store
from mmtop.store.names import check_path_component

EXACT_INT = 2**53  # every int up to here is exactly a float64

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-EXACT_INT, max_value=EXACT_INT),
    st.booleans(),
)
keys = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
)
quick = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(got: float, want: float) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)


@quick
@given(calls=st.lists(st.dictionaries(keys, numbers, min_size=1, max_size=4), max_size=12))
def test_logged_numbers_round_trip_through_history(calls: list[dict[str, float]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with store.Run(root=root, flush_every=60) as run:
            for i, data in enumerate(calls):
                run.log(data)
                if i == len(calls) // 2:
                    run.flush()  # some points in an early part, some in the last one
        df = store.open(root).history(run.run_id)
        got: dict[tuple[str, int], float] = {}
        for key, step, value in df.select("key", "step", "value").iter_rows():
            assert (key, step) not in got, "duplicate point"
            got[(key, step)] = value
        want = {(k, i): float(v) for i, data in enumerate(calls) for k, v in data.items()}
        assert got.keys() == want.keys()
        for point, value in want.items():
            assert _same(got[point], value), point


@quick
@given(name=st.text(max_size=60))
def test_accepted_names_are_one_safe_path_component(name: str) -> None:
    try:
        check_path_component(name, "experiment name")
    except (ValueError, TypeError):
        return
    assert name not in (".", "..")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert os.sep not in name and (os.altsep is None or os.altsep not in name)
    assert not name.startswith((".", "_"))
    assert not any(unicodedata.category(c) == "Cc" for c in name)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp).resolve()
        target = base / name
        assert target.parent == base and target.name == name
        target.mkdir()
        assert [p.name for p in base.iterdir()] == [name]


unsafe_piece = st.sampled_from(
    ["/", "\\", "\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u202e"]
)


@quick
@given(head=st.text(max_size=10), piece=unsafe_piece, tail=st.text(max_size=10))
def test_names_with_separators_or_controls_are_refused(head: str, piece: str, tail: str) -> None:
    with pytest.raises(ValueError):
        check_path_component(head + piece + tail, "experiment name")


@quick
@given(name=st.sampled_from([".", ".."]) | st.text(max_size=5).map(lambda t: "." + t))
def test_dot_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_path_component(name, "experiment name")


def test_long_non_ascii_experiment_name_gets_a_clear_error(tmp_path: Path) -> None:
    name = "\U0001f600" * 100  # 100 characters, 400 bytes in UTF-8
    with pytest.raises(ValueError, match="experiment name"):
        store.Run(experiment=name, root=tmp_path)
