"""`mmtop import mlflow --artifacts`: files MLflow's `log_artifact(s)` kept come back byte for
byte as the run's artifacts, once; paths that lead out of the source are refused."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from mmtop import store
from mmtop.store.importers import ImportError_
from mmtop.store.importers.target import import_runs
from mmtop.tui.cli import main

mlflow = pytest.importorskip("mlflow")

FILES = {
    "model.bin": bytes(range(256)) * 40,
    "plots/curve ü.svg": "<svg>ü</svg>".encode(),
    "plots/deep/x.txt": b"deep\n",
}


def _log(uri: str, artifact_location: str | None, files: Path) -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("arts", artifact_location=artifact_location)
    run = client.create_run(exp, run_name="with files", start_time=1_790_000_000_000)
    rid = run.info.run_id
    client.log_artifact(rid, str(files / "model.bin"))
    client.log_artifacts(rid, str(files / "plots"), artifact_path="plots")
    client.set_terminated(rid, "FINISHED", end_time=1_790_000_001_000)
    return str(rid)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    base = tmp_path_factory.mktemp("mlflow-artifacts")
    files = base / "files"
    for rel, data in FILES.items():
        (files / rel).parent.mkdir(parents=True, exist_ok=True)
        (files / rel).write_bytes(data)
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 refuses new file stores otherwise
    try:
        file_rid = _log(f"file:{base / 'mlruns'}", None, files)
    finally:
        if old is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = old
    db = f"sqlite:///{base / 'mlflow.db'}"
    db_rid = _log(db, (base / "db-artifacts").as_uri(), files)
    return {"files": (str(base / "mlruns"), file_rid), "sqlite": (db, db_rid)}


def _only_run(root: Path) -> store.RunInfo:
    st = store.open(root)
    (run_id,) = st.runs()["run_id"].to_list()
    return st.run(run_id)


def _copied(run: store.RunInfo) -> dict[str, bytes]:
    folder = run.path / "artifacts"
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("kind", ["files", "sqlite"])
def test_artifacts_come_back_byte_for_byte_once(
    sources: dict[str, tuple[str, str]], kind: str, tmp_path: Path
) -> None:
    location, _ = sources[kind]
    report = import_runs("mlflow", location, tmp_path, artifacts=True)
    assert report.problems == [] and len(report.imported) == 1
    run = _only_run(tmp_path)
    assert _copied(run) == FILES
    listed = json.loads((run.path / "artifacts.json").read_text(encoding="utf-8"))
    assert sorted((e["name"], e["kind"]) for e in listed) == [
        ("model.bin", "file"),
        ("plots", "folder"),
    ]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if ".mmtop" not in p.parts)
    again = import_runs("mlflow", location, tmp_path, artifacts=True)
    assert again.imported == [] and again.problems == []
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if ".mmtop" not in p.parts)
    assert after == before


def test_without_the_flag_no_artifact_is_copied(
    sources: dict[str, tuple[str, str]], tmp_path: Path
) -> None:
    location, _ = sources["files"]
    assert import_runs("mlflow", location, tmp_path).problems == []
    assert not (_only_run(tmp_path).path / "artifacts").exists()


def test_a_symlink_out_of_the_run_refuses_it_and_a_fixed_one_imports(
    sources: dict[str, tuple[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    location, rid = sources["files"]
    mlruns = tmp_path / "mlruns"
    shutil.copytree(location, mlruns)
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (arts,) = mlruns.glob(f"*/{rid}/artifacts")
    (arts / "plots" / "leak.txt").symlink_to(secret)
    root = tmp_path / "store"

    assert main(["import", "mlflow", str(mlruns), "--root", str(root), "--artifacts"]) == 1
    out = capsys.readouterr().out
    assert "0 imported" in out and "leak.txt: a symlink leading out of" in out
    assert store.open(root).runs().height == 0

    (arts / "plots" / "leak.txt").unlink()
    assert main(["import", "mlflow", str(mlruns), "--root", str(root), "--artifacts"]) == 0
    assert _copied(_only_run(root)) == FILES
    assert "not yours" not in json.dumps(_copied(_only_run(root)), default=repr)


def test_dotdot_and_remote_artifact_uris(
    sources: dict[str, tuple[str, str]], tmp_path: Path
) -> None:
    location, rid = sources["sqlite"]
    db = tmp_path / "mlflow.db"
    shutil.copy(location.removeprefix("sqlite:///"), db)
    with sqlite3.connect(db) as conn:
        uri = conn.execute("SELECT artifact_uri FROM runs").fetchone()[0]
        conn.execute("UPDATE runs SET artifact_uri = ?", (uri + "/../..",))
    report = import_runs("mlflow", f"sqlite:///{db}", tmp_path / "a", artifacts=True)
    assert report.imported == []
    assert [p["reason"] for p in report.problems] == [
        f"artifact location {uri + '/../..'!r} holds '..': refused"
    ]

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET artifact_uri = 's3://bucket/x'")
    report = import_runs("mlflow", f"sqlite:///{db}", tmp_path / "b", artifacts=True)
    assert len(report.imported) == 1
    assert [p["reason"] for p in report.problems] == [
        "artifacts not copied: artifacts at 's3://bucket/x' are not in a local folder"
    ]
    assert not (_only_run(tmp_path / "b").path / "artifacts").exists()


def test_artifacts_is_refused_for_tensorboard(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match="--artifacts copies MLflow runs' files"):
        import_runs("tensorboard", str(tmp_path), tmp_path / "s", artifacts=True)
