"""`mmtop import mlflow`: registered models, versions and aliases, written by MLflow itself
into both of its stores, come back as pointer versions of mmtop's registry, exactly, once."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.store.importers.target import import_runs
from mmtop.store.registry.events import EventLog
from mmtop.tui.cli import main
from mmtop.tui.models_view import detail

mlflow = pytest.importorskip("mlflow")

MODEL = "fraud detector (ü)"  # a space and characters mmtop names cannot hold
NAME = "fraud-detector"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow writes ./mlruns and ./mlflow.db by default


@pytest.fixture
def file_store_allowed() -> Iterator[None]:
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 refuses new file stores otherwise
    yield
    if old is None:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
    else:
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = old


def _client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _source(tmp_path: Path, kind: str) -> tuple[str, str, Any]:
    """A store with one run (its `model/` folder logged as artifacts) and a model of four
    versions: 1 and 2 from the run, 2 then deleted, 3 from a path with no run, 4 pending."""
    uri = f"file:{tmp_path / 'mlruns'}" if kind == "files" else f"sqlite:///{tmp_path / 'm.db'}"
    location = str(tmp_path / "mlruns") if kind == "files" else uri
    client = _client(uri)
    # The file store keeps artifacts in the run's folder; the SQLite store where it is told.
    where = None if kind == "files" else (tmp_path / "artifacts").as_uri()
    exp = client.create_experiment("fraud", artifact_location=where)
    run = client.create_run(exp, run_name="gbm")
    rid = run.info.run_id
    client.log_metric(rid, "auc", 0.875, step=3)
    client.log_param(rid, "depth", "6")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    client.log_artifacts(rid, str(tmp_path / "model"), "model")
    client.set_terminated(rid)
    client.create_registered_model(MODEL, tags={"team": "risk"}, description="scores payments")
    client.create_model_version(
        MODEL, f"runs:/{rid}/model", run_id=rid, tags={"stage": "qa"}, description="first ü"
    )
    client.create_model_version(MODEL, f"runs:/{rid}/model", run_id=rid)
    client.create_model_version(MODEL, "/models/fraud/3")
    client.create_model_version(MODEL, "s3://bucket/fraud/4", run_id=rid)
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.set_registered_model_alias(MODEL, "challenger", "3")
    client.set_registered_model_alias(MODEL, "old", "2")  # goes with version 2
    client.delete_model_version(MODEL, "2")
    return location, rid, client


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The SQLite source made once (MLflow's migrations take seconds): its folder, run id."""
    base = tmp_path_factory.mktemp("mlflow-models")
    cwd = Path.cwd()
    os.chdir(base)
    try:
        _, rid, _ = _source(base, "sqlite")
    finally:
        os.chdir(cwd)
    return base, rid


def _copy(made: tuple[Path, str], tmp_path: Path) -> tuple[str, str, Any]:
    """A copy of the SQLite source a test may change (artifacts stay where they were)."""
    base, rid = made
    shutil.copy(base / "m.db", tmp_path / "m.db")
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    return uri, rid, _client(uri)


def _iso(ms: int) -> str:
    when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)
    return when.isoformat(timespec="microseconds")


def _events(root: Path) -> list[dict[str, Any]]:
    return EventLog(root, NAME).read()


@pytest.mark.parametrize("kind", ["files", "sqlite"])
def test_versions_and_aliases_come_back_exactly(
    tmp_path: Path, kind: str, file_store_allowed: None
) -> None:
    location, rid, client = _source(tmp_path / "src", kind)
    root = tmp_path / "mm"
    report = import_runs("mlflow", location, root, artifacts=True)
    assert report.problems == []
    assert report.models == [f"{NAME}/1", f"{NAME}/3", f"{NAME}/4"]
    (run_id,) = report.imported

    st = store.open(root)
    frame = st.models().sort("version")
    assert frame.select("name", "version", "flavour", "size", "run_id").rows() == [
        (NAME, 1, "pointer", 0, run_id),
        (NAME, 3, "pointer", 0, None),
        (NAME, 4, "pointer", 0, run_id),
    ]
    assert frame["aliases"].to_list() == [["champion"], ["challenger"], []]
    assert frame["description"].to_list() == ["first ü", "", ""]

    run_dir = st.run(run_id).path
    for number in (1, 3, 4):
        mv = client.get_model_version(MODEL, str(number))
        version = st.model(f"{NAME}/{number}")
        m = version.manifest
        assert m["created"] == _iso(mv.creation_timestamp)
        assert m["files"] == [] and m["host"] is None
        assert version.tags == mv.tags
        assert version.description == (mv.description or "")
        local = "fraud/" + run_id + "/artifacts/model" if number == 1 else None
        assert version.pointer == {
            "uri": mv.source,
            "status": mv.status,
            "status_message": mv.status_message,
            "local": local,
        }
        assert m["imported"] == {
            "source": "mlflow",
            "uri": location,
            "model": MODEL,
            "version": number,
            "created_ms": mv.creation_timestamp,
            "run_id": mv.run_id,
            "model_description": "scores payments",
            "model_tags": {"team": "risk"},
        }
        report_ = version.verify()
        assert (report_.ok, report_.checked, str(report_)) == (
            True,
            0,
            f"pointer, files at {mv.source}",
        )
    lineage = st.model(f"{NAME}/1").lineage()
    assert (lineage["run_id"], lineage["run_name"]) == (run_id, "gbm")
    assert lineage["params"] == {"depth": 6} and lineage["metrics"] == {"auc": 0.875}
    assert st.model(f"{NAME}/3").lineage() == {"parent": None, "children": []}

    with pytest.raises(store.ModelPointerError) as caught:
        store.load_model(f"{NAME}@champion", root=root)
    assert str(caught.value) == (
        f"{NAME}/1 is a pointer to files outside this store, at runs:/{rid}/model; "
        f"a copy came with its run: {run_dir / 'artifacts' / 'model'}"
    )
    with pytest.raises(store.ModelPointerError, match=r"^fraud-detector/4 is a pointer to "):
        st.model(f"{NAME}/4").load()
    assert (run_dir / "artifacts" / "model" / "MLmodel").read_text() == "flavors: {}\n"

    events = _events(root)
    shown = [(e["seq"], e["action"], e.get("alias"), e.get("from"), e["to"]) for e in events]
    assert shown == [
        (1, "registered", None, None, 1),
        (2, "registered", None, None, 3),
        (3, "registered", None, None, 4),
        (4, "alias", "challenger", None, 3),
        (5, "alias", "champion", None, 1),
    ]
    created = {n: client.get_model_version(MODEL, str(n)).creation_timestamp for n in (1, 3, 4)}
    for event in events[:3]:
        assert event["time"] == _iso(created[event["to"]])
        assert event["imported"] == {"source": "mlflow", "time": _iso(created[event["to"]])}
    for event in events[3:]:
        assert event["imported"] == {"source": "mlflow", "time": None}
        assert event["time"] >= events[2]["time"]


def test_a_second_import_adds_nothing_and_a_later_one_only_the_changes(
    tmp_path: Path, sqlite_source: tuple[Path, str]
) -> None:
    location, rid, client = _copy(sqlite_source, tmp_path)
    root = tmp_path / "mm"
    import_runs("mlflow", location, root)
    before = sorted(p.name for p in (root / "_models" / NAME / "events").iterdir())

    again = import_runs("mlflow", location, root)
    assert (again.models, again.model_events, again.problems) == ([], 0, [])
    assert sorted(p.name for p in (root / "_models" / NAME / "events").iterdir()) == before

    client.create_model_version(MODEL, f"runs:/{rid}/model", run_id=rid)  # version 5
    client.set_registered_model_alias(MODEL, "champion", "5")
    client.delete_registered_model_alias(MODEL, "challenger")
    client.set_model_version_tag(MODEL, "1", "stage", "prod")
    client.delete_model_version_tag(MODEL, "4", "nothing")  # no such tag: MLflow ignores it
    client.update_model_version(MODEL, "1", description="first, reviewed")
    client.delete_model_version(MODEL, "3")
    later = import_runs("mlflow", location, root)
    assert later.problems == []
    assert later.models == [f"{NAME}/5"]
    new = _events(root)[len(before) :]
    got = [
        (e["action"], e.get("version"), e.get("alias"), e.get("key"), e.get("from"), e["to"])
        for e in new
    ]
    assert got == [
        ("description", 1, None, None, "first ü", "first, reviewed"),
        ("tag", 1, None, "stage", "qa", "prod"),
        ("deprecated", 3, None, None, False, True),
        ("registered", 5, None, None, None, 5),
        ("alias", None, "champion", None, 1, 5),
        ("alias", None, "challenger", None, 3, None),
    ]
    assert new[2]["reason"] == "deleted in MLflow"
    assert later.model_events == 5  # the registration is counted in `models`

    last = import_runs("mlflow", location, root)
    assert (last.models, last.model_events) == ([], 0)


def test_an_alias_set_in_mmtop_stays_and_taken_numbers_move_on(
    tmp_path: Path, sqlite_source: tuple[Path, str]
) -> None:
    location, _, client = _copy(sqlite_source, tmp_path)
    root = tmp_path / "mm"
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x00\x01")
    (root).mkdir()
    assert store.open(root).register_model(NAME, path=weights).version == 1
    import_runs("mlflow", location, root)
    st = store.open(root)
    numbers = {
        st.model(f"{NAME}/{n}").manifest["imported"]["version"]: n
        for n in st.models(NAME)["version"].to_list()
        if st.model(f"{NAME}/{n}").pointer is not None
    }
    assert numbers == {1: 2, 3: 3, 4: 4}  # MLflow's 1 was taken by the native version
    assert st.model(f"{NAME}@champion").version == 2
    st.set_alias(NAME, "canary", 3)
    client.set_registered_model_alias(MODEL, "champion", "4")
    import_runs("mlflow", location, root)
    st = store.open(root)
    assert st.model(f"{NAME}@champion").version == 4
    assert st.model(f"{NAME}@canary").version == 3  # not MLflow's: left alone


def test_cli_and_the_models_screen_say_where_the_files_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sqlite_source: tuple[Path, str]
) -> None:
    location, rid, _ = _copy(sqlite_source, tmp_path)
    root = str(tmp_path / "mm")
    assert main(["--root", root, "import", "mlflow", location]) == 0
    out = capsys.readouterr().out
    assert "models: 3 versions imported, 2 alias/tag/description changes recorded" in out
    assert main(["--root", root, "models", "verify", f"{NAME}/3"]) == 0
    assert capsys.readouterr().out == f"{NAME}/3: ok: pointer, files at /models/fraud/3\n"
    assert main(["--root", root, "models", "verify", f"{NAME}/3", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["pointer"] == "/models/fraud/3"
    assert main(["--root", root, "models", "show", f"{NAME}/1"]) == 0
    shown = capsys.readouterr().out
    assert f"files at     runs:/{rid}/model\n" in shown
    assert f"imported     mlflow {MODEL} version 1 ({location})\n" in shown
    assert f"  none: a pointer, files at runs:/{rid}/model\n" in shown
    assert main(["--root", root, "models", "export", f"{NAME}/3", "-o", str(tmp_path / "x")]) == 1
    assert capsys.readouterr().err == (
        f"mmtop: error: {NAME}/3 is a pointer to files outside this store, at /models/fraud/3: "
        "no files to export\n"
    )
    assert not (tmp_path / "x").exists()
    assert main(["--root", root, "models", "ls"]) == 0
    assert "pointer" in capsys.readouterr().out

    st = store.open(root)
    text = detail(st.model(f"{NAME}/1"), st.model_history(NAME)).plain
    assert "flavour    pointer from mlflow (READY)\n" in text
    assert f"files at   runs:/{rid}/model\n" in text
    assert f"none       a pointer: files at runs:/{rid}/model\n" in text
    assert "alias @champion: (none) → 1" in text


def test_two_mlflow_names_with_one_mmtop_name_do_not_mix(
    tmp_path: Path, sqlite_source: tuple[Path, str]
) -> None:
    location, _, client = _copy(sqlite_source, tmp_path)
    client.create_registered_model("fraud-detector")
    client.create_model_version("fraud-detector", "/models/other/1")
    client.set_registered_model_alias("fraud-detector", "champion", "1")
    report = import_runs("mlflow", location, tmp_path / "mm")
    assert report.models == [f"{NAME}/1", f"{NAME}/3", f"{NAME}/4"]
    assert report.problems == [
        {
            "path": f"{location} model fraud-detector",
            "reason": f"left out: mmtop model {NAME!r} holds MLflow model {MODEL!r}, and "
            "'fraud-detector' has the same mmtop name",
        }
    ]
    st = store.open(tmp_path / "mm")
    assert st.model(f"{NAME}@champion").pointer == st.model(f"{NAME}/1").pointer
