"""The app's pure helpers: launch resolution, formatting, filter language, columns, tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from mmtop.tui.column_rule import differing
from mmtop.tui.columns import ColumnChoice, choose
from mmtop.tui.confusion import to_confusion, wrong_first
from mmtop.tui.filter_completion import Completion, candidates
from mmtop.tui.filtering import FilterError, classify, field_names, mask
from mmtop.tui.flat import flatten
from mmtop.tui.formatting import fit, fmt_age, fmt_duration, fmt_number, status_glyph
from mmtop.tui.launch import resolve, sample_root
from mmtop.tui.widgets.preview import main_metrics, sparkline


def test_launch_prefers_path_then_env_then_mmruns_then_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve("somewhere", {}).root == Path("somewhere")
    (tmp_path / "envstore").mkdir()
    env = {"MMTOP_DIR": str(tmp_path / "envstore")}
    assert (resolve(None, env).root, resolve(None, env).source) == (tmp_path / "envstore", "env")
    # A $MMTOP_DIR that does not exist falls through to ./mmruns, then to the samples.
    missing = {"MMTOP_DIR": str(tmp_path / "nope")}
    sample = resolve(None, missing)
    assert sample.source == "sample" and sample.read_only and sample.root == sample_root()
    assert "read-only" in sample.hint
    (tmp_path / "mmruns").mkdir()
    assert (resolve(None, missing).root, resolve(None, missing).source) == (
        Path("mmruns"),
        "default",
    )


def test_formatting() -> None:
    assert [fmt_duration(s) for s in (None, 5, 65, 3700, 90000)] == [
        "", "5s", "1m05s", "1h01m", "1d01h",
    ]  # fmt: skip
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ages = [now - timedelta(seconds=s) for s in (30, 600, 7200, 3 * 86400, 30 * 86400)]
    assert [fmt_age(a, now) for a in ages] == ["30s", "10m", "2h", "3d", "4w"]
    assert [fmt_number(v) for v in (0.0, 0.123456, 1e-7, 12, float("nan"), True)] == [
        "0", "0.1235", "1e-07", "12", "nan", "true",
    ]  # fmt: skip
    assert fit("abcdef", 4) == "abc…" and fit("ab", 4) == "ab"
    assert [status_glyph(s) for s in ("finished", "failed", "killed", "crashed")] == [
        "✓", "✗", "■", "☠",
    ]  # fmt: skip
    assert status_glyph("running", 0) != status_glyph("running", 1)


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "experiment": ["x", "x", "y"],
            "name": ["ResNet-1", "vit", "resnet-2"],
            "status": ["finished", "running", "failed"],
            "tags": [["gpu"], [], ["cpu", "gpu"]],
            "params": [
                {"lr": 0.1, "opt": {"name": "sgd"}},
                {"lr": 0.01, "opt": {"name": "sgd"}},
                {"lr": 0.1, "opt": {"name": "adam"}},
            ],
            "metrics": [{"val/acc": 0.9}, {"val/acc": None}, {"val/acc": 0.7}],
        }
    )


def test_filter_language() -> None:
    raw = _frame()
    from mmtop.tui.filtering import search_column

    search = raw.select(search_column(raw)).to_series()
    assert classify("resnet gpu").kind == "search"
    assert classify("params.lr > 1").kind == "sql"
    assert classify("status = 'failed'").kind == "sql"
    hits = mask(raw, search, classify("resnet GPU"))
    assert hits is not None and hits.to_list() == [True, False, True]
    sql = mask(raw, search, classify("params.opt.name = 'sgd' and params.lr < 0.05"))
    assert sql is not None and sql.to_list() == [False, True, False]
    nulls = mask(raw, search, classify('metrics."val/acc" > 0.8'))
    assert nulls is not None and nulls.to_list() == [True, False, False]
    with pytest.raises(FilterError, match="no field 'nope'"):
        mask(raw, search, classify("nope = 1"))
    with pytest.raises(FilterError, match="true/false"):
        mask(raw, search, classify("params.lr + 1"))
    names = field_names(raw)
    assert 'metrics."val/acc"' in names and "params.opt.name" in names

    def offered(text: str) -> tuple[str, ...] | None:
        found = candidates(text, len(text), names)
        return None if found is None else found.candidates

    assert offered("params.o") == ("params.opt.name",)
    assert offered("status = 'x' and metrics.v") == ('metrics."val/acc"',)
    assert candidates("lr > 1 and metrics.va", 21, names) == Completion(
        11, 21, ('metrics."val/acc"',)
    )
    assert offered("zzz") is None
    assert offered("name = 'params.o") is None  # inside a string
    assert offered("1e") is None  # a number, not a name
    assert offered("status = ") == ("'running'", "'finished'", "'failed'", "'killed'", "'crashed'")
    assert offered("status != 'f") == ("'finished'", "'failed'")
    # A bare key: the params whose last part starts with it, then the metrics.
    assert offered("lr") == ("params.lr",)
    assert offered("va") == ('metrics."val/acc"',)


def test_columns_show_differing_params_and_present_metrics() -> None:
    flat = flatten(_frame()).frame
    assert differing(flat, ["params.lr", "params.opt.name"]) == ["params.lr", "params.opt.name"]
    assert differing(flat.head(2), ["params.lr", "params.opt.name"]) == ["params.lr"]
    keys = choose(flat, flat.slice(1, 1), ColumnChoice())
    # One run shown: every param is shown, but its only metric value is null, so none.
    assert [k for k in keys if k.startswith(("params", "metrics"))] == [
        "params.lr",
        "params.opt.name",
    ]
    keep = choose(flat, flat, ColumnChoice("keep", "val/"))
    assert keep == ["status", "name", "metrics.val/acc"]
    drop = choose(flat, flat, ColumnChoice("drop", "^params|experiment|tags"))
    assert drop == ["status", "name", "metrics.val/acc"]


def test_confusion_and_predictions() -> None:
    long = pl.DataFrame({"true": ["a", "a", "b"], "pred": ["a", "b", "b"], "count": [3, 1, 4]})
    cm = to_confusion(long)
    assert cm is not None and cm.labels == ["a", "b"] and cm.matrix == [[3, 1], [0, 4]]
    assert (cm.precision(), cm.recall()) == ({"a": 1.0, "b": 0.8}, {"a": 0.75, "b": 1.0})
    preds = pl.DataFrame(
        {"id": [1, 2, 3], "y_true": ["a", "b", "a"], "pred": ["a", "a", "b"],
         "confidence": [0.99, 0.6, 0.9]}
    )  # fmt: skip
    assert wrong_first(preds)["id"].to_list() == [3, 2, 1]


def test_preview_helpers() -> None:
    assert main_metrics({"train/loss": 1.0, "lr": 0.1, "val/acc": 0.5, "x": None}) == [
        "val/acc",
        "train/loss",
        "lr",
    ]
    assert sparkline([0, 1, 2, 3], 4) == "▁▃▅█"
    assert len(sparkline(list(range(100)), 10)) == 10
    assert sparkline([], 5) == "" and sparkline([1, 1], 2) == "▄▄"


def test_apostrophes_in_plain_words_and_unknown_fields_read_clearly() -> None:
    import polars as pl
    import pytest

    from mmtop.tui.filtering import FilterError, classify, mask

    assert classify("it's").kind == "search"
    assert classify("name = 'it''s'").kind == "sql"
    frame = pl.DataFrame({"metrics": [{"acc": 0.5}]})
    with pytest.raises(FilterError, match="no field 'metrics.nonexistent'"):
        mask(frame, None, classify("metrics.nonexistent > 1"))
