"""`mmtop import mlflow`: stores written by MLflow itself (its file store and its SQLite
store) come back through `store.open` exactly as they were logged, once."""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.store.importers import ImportError_, mlflow_arrow
from mmtop.store.importers.target import import_runs
from mmtop.tui.cli import main

mlflow = pytest.importorskip("mlflow")

# A long history, kept short of 100k points here: MLflow writes some 3k points/s on this box
# (its SQLite store and its file store alike); the TensorBoard tests import 100k.
BIG = 5_000
EXPERIMENT = "vision ü/résumé"  # a `/` MLflow allows and a folder cannot hold


def _log(uri: str) -> dict[str, Any]:
    """Log the awkward cases through MLflow's own client; returns what was logged."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment(EXPERIMENT)
    t0 = 1_790_000_000_000
    expected: dict[str, Any] = {}

    parent = client.create_run(
        exp,
        run_name="baseline ✓",
        tags={
            "team": "vision",
            "mlflow.source.git.commit": "0123456789abcdef0123456789abcdef01234567",
            "mlflow.source.name": "train.py",
            "mlflow.note.content": "first try — notes ü",
        },
        start_time=t0,
    )
    pid = parent.info.run_id
    params = {"lr": "0.001", "opt/name": "adam w", "layers": "4", "amp": "True", "id": "007"}
    for k, v in params.items():
        client.log_param(pid, k, v)
    points = {
        "val/acc": [(0, t0 + 1, 0.5), (1, t0 + 2, float("nan")), (1, t0 + 3, 0.75)],
        "train loss": [(s, t0 + 10 + s, 1.0 / (s + 1)) for s in range(BIG)],
        "extremes": [(0, t0 + 5, float("inf")), (1, t0 + 6, -float("inf")), (2, t0 + 7, 2.5)],
    }
    batch = [Metric(k, v, t, s) for k, pts in points.items() for s, t, v in pts]
    for i in range(0, len(batch), 1000):  # MLflow's limit per batch
        client.log_batch(pid, metrics=batch[i : i + 1000])
    client.set_terminated(pid, "FINISHED", end_time=t0 + 200_000)
    expected[pid] = {
        "name": "baseline ✓",
        "status": "finished",
        "params": params,
        "points": points,
        "parent": None,
    }

    child = client.create_run(
        exp, run_name="child ü", tags={"mlflow.parentRunId": pid}, start_time=t0 + 1000
    )
    cid = child.info.run_id
    client.log_metric(cid, "x", 3.0, timestamp=t0 + 1001, step=7)
    client.set_terminated(cid, "FAILED", end_time=t0 + 2000)
    expected[cid] = {
        "name": "child ü",
        "status": "failed",
        "params": {},
        "points": {"x": [(7, t0 + 1001, 3.0)]},
        "parent": pid,
    }
    return expected


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("mlflow")
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 refuses new file stores otherwise
    try:
        files = _log(f"file:{base / 'mlruns'}")
    finally:
        if old is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = old
    db = _log(f"sqlite:///{base / 'mlflow.db'}")
    return {
        "files": (str(base / "mlruns"), files),
        "sqlite": (f"sqlite:///{base / 'mlflow.db'}", db),
    }


def _canon(value: float) -> Any:
    return "nan" if math.isnan(value) else (value, math.copysign(1.0, value))


@pytest.mark.parametrize("kind", ["files", "sqlite", "sqlite without Arrow"])
def test_every_value_comes_back_exactly(
    sources: dict[str, Any], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location, expected = sources[kind.split()[0]]
    read: list[str] = []
    real_read = mlflow_arrow.ArrowMetrics.read

    def counted(self: mlflow_arrow.ArrowMetrics, run_uuid: str) -> Any:
        found = real_read(self, run_uuid)
        read.append(run_uuid if found is not None else "refused")
        return found

    monkeypatch.setattr(mlflow_arrow.ArrowMetrics, "read", counted)
    if kind == "sqlite without Arrow":
        monkeypatch.setattr(mlflow_arrow, "available", lambda: False)
    report = import_runs("mlflow", location, tmp_path)
    assert report.problems == []
    # The SQLite store's points come through the Arrow reader when it is installed.
    assert sorted(read) == (sorted(expected) if kind == "sqlite" else [])
    assert len(report.imported) == 2
    assert report.points == sum(len(p) for e in expected.values() for p in e["points"].values())

    st = store.open(tmp_path)
    runs = {st.run(r).meta["imported"]["id"]: st.run(r) for r in st.runs()["run_id"].to_list()}
    assert set(runs) == set(expected)
    for source_id, want in expected.items():
        info = runs[source_id]
        assert info.experiment == "vision ü-résumé"
        assert info.name == want["name"]
        assert info.status == want["status"]
        assert info.meta["imported"]["source"] == "mlflow"
        history = st.history(info.run_id)
        for key, pts in want["points"].items():
            got = history.filter(history["key"] == key)
            # Ordered by step, repeated steps in logging order, as the store returns them.
            ordered = sorted(pts, key=lambda p: p[0])
            assert got["step"].to_list() == [p[0] for p in ordered]
            assert [t.timestamp() * 1000 for t in got["time"].to_list()] == [p[1] for p in ordered]
            assert [_canon(v) for v in got["value"].to_list()] == [_canon(p[2]) for p in ordered]
        assert sorted(history["key"].unique().to_list()) == sorted(want["points"])

    parent = next(i for s, i in runs.items() if expected[s]["parent"] is None)
    child = next(i for s, i in runs.items() if expected[s]["parent"] is not None)
    assert parent.params == {
        "lr": 0.001,
        "opt/name": "adam w",
        "layers": 4,
        "amp": True,
        "id": "007",
    }
    assert parent.tags == ["team=vision"]
    assert parent.notes == "first try — notes ü"
    assert parent.summary["train loss"]["count"] == BIG
    assert parent.summary["val/acc"]["last"] == 0.75
    code = (parent.path / "code.json").read_text(encoding="utf-8")
    assert "0123456789abcdef0123456789abcdef01234567" in code and "train.py" in code
    assert parent.created is not None and parent.created.timestamp() == 1_790_000_000.0
    assert parent.ended is not None and parent.ended.timestamp() == 1_790_000_200.0
    assert child.meta["imported"]["parent_run_id"] == parent.run_id
    assert child.meta["imported"]["parent_id"] == parent.meta["imported"]["id"]


def test_a_second_import_adds_nothing(sources: dict[str, Any], tmp_path: Path) -> None:
    location, _ = sources["sqlite"]
    first = import_runs("mlflow", location, tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if ".mmtop" not in p.parts)
    second = import_runs("mlflow", location, tmp_path, experiment="elsewhere")
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if ".mmtop" not in p.parts)
    assert second.imported == [] and sorted(second.skipped) == sorted(first.imported)
    assert second.points == 0
    assert after == before


def test_cli_imports_once_shows_the_source_id_and_reports_a_corrupt_file(
    sources: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    location, expected = sources["files"]
    mlruns = tmp_path / "mlruns"
    shutil.copytree(location, mlruns)
    child_id = next(s for s, e in expected.items() if e["parent"] is not None)
    (broken,) = mlruns.glob(f"*/{child_id}/metrics/x")
    broken.write_text("1790000001001 3.0 7\nnot a metric line\n")
    root = tmp_path / "store"

    assert main(["import", "mlflow", str(mlruns), "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"2 runs found, 1 imported ({BIG + 6:,} points)" in out
    assert f"{child_id}: " in out and "line 2" in out

    broken.write_text("1790000001001 3.0 7\n")
    assert main(["import", "mlflow", str(mlruns), "--root", str(root)]) == 0
    assert "2 runs found, 1 imported (1 points), 1 imported before" in capsys.readouterr().out
    assert main(["import", "mlflow", str(mlruns), "--root", str(root)]) == 0
    assert "0 imported (0 points), 2 imported before" in capsys.readouterr().out

    st = store.open(root)
    (run_id,) = st.runs(where="name = 'child ü'")["run_id"].to_list()
    assert main(["show", run_id, "--root", str(root)]) == 0
    assert f"imported from  mlflow run {child_id}" in capsys.readouterr().out


def test_unknown_schemas_and_missing_sources_are_refused(
    sources: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    location, _ = sources["sqlite"]
    db = tmp_path / "newer.db"
    shutil.copy(location.removeprefix("sqlite:///"), db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    with pytest.raises(ImportError_, match="unknown MLflow schema revision ffffffffffff"):
        import_runs("mlflow", f"sqlite:///{db}", tmp_path / "store")
    assert main(["import", "mlflow", f"sqlite:///{db}", "--root", str(tmp_path / "s")]) == 1
    assert "unknown MLflow schema revision" in capsys.readouterr().err
    assert main(["import", "mlflow", str(tmp_path / "nope"), "--root", str(tmp_path)]) == 1
    assert "no MLflow file store" in capsys.readouterr().err
    assert main(["import", "comet", "x"]) == 2


def test_the_store_imports_no_importer_dependency() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import mmtop.store, mmtop.store.importers; "
        "print(sorted(m for m in ('yaml', 'mlflow', 'sqlite3', 'tensorboardX', 'google.protobuf')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_arrow_reader_refuses_a_column_of_mixed_types(tmp_path: Path) -> None:
    """SQLite keeps any type in any column; the driver then hands the column over as text,
    numbers printed to 7 digits. Such a run is left to sqlite3, which keeps what is stored."""
    pytest.importorskip("adbc_driver_sqlite")
    path = tmp_path / "m.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE metrics (key VARCHAR(250), value FLOAT, timestamp BIGINT, "
        "run_uuid VARCHAR(32), step BIGINT, is_nan BOOLEAN)"
    )
    rows = [
        ("loss", 0.123456789012345, 1000, "good", 0, 0),
        ("loss", 0.0, 2000, "good", 1, 1),
        ("acc", 1.7976931348623157e308, 3000, "good", 1, 0),
        ("loss", 0.123456789012345, 1000, "mixed", 0, 0),
        ("loss", "n/a", 2000, "mixed", 1, 0),
    ]
    db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    reader = mlflow_arrow.ArrowMetrics(path)
    assert reader.read("mixed") is None
    good = reader.read("good")
    assert good is not None and sorted(good) == ["acc", "loss"]
    assert good["loss"].step.tolist() == [0, 1]
    assert good["loss"].time_us.tolist() == [1_000_000, 2_000_000]
    assert [_canon(v) for v in good["loss"].value.tolist()] == [
        _canon(0.123456789012345),
        "nan",
    ]
    assert good["acc"].value.tolist() == [math.inf]
    assert reader.read("absent") == {}
