"""`mmtop import ... --root s3://...`: the runs land on the object store as a local import
writes them, once, each run's run.json last."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mmtop import store
from mmtop.store.importers.s3_target import REGISTRY_SKIPPED
from mmtop.store.importers.target import import_runs
from mmtop.store.objstore import ObjectRoot
from mmtop.tui.cli import main

tbx = pytest.importorskip("tensorboardX")

T0 = 1_790_000_000.25


@pytest.fixture
def mirror_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("MMTOP_CACHE", str(home))
    return home


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two TensorBoard runs (NaN, repeated steps, hparams, text, a unicode name), written
    as tests/importers/test_tensorboard.py writes its source."""
    logdir = tmp_path_factory.mktemp("tb") / "runs"
    # A suffix of its own: add_hparams opens a second writer on the folder, whose file would
    # otherwise have the same (time-based) name within the same second.
    with tbx.SummaryWriter(str(logdir / "main"), filename_suffix=".scalars") as w:
        for s in range(500):
            w.add_scalar("train/loss", 1.0 / (s + 1), s, walltime=T0 + s * 0.001)
        w.add_scalar("val/acc", 0.5, 0, walltime=T0 + 1)
        w.add_scalar("val/acc", float("nan"), 1, walltime=T0 + 2)
        w.add_scalar("val/acc", 0.75, 1, walltime=T0 + 3)
        w.add_text("notes", "first try — ü", 3, walltime=T0 + 5)
        w.add_hparams({"lr": 0.001, "opt": "adam w", "layers": 4}, {}, name=".")
    with tbx.SummaryWriter(str(logdir / "sweep" / "seed ü")) as w:
        w.add_scalar("x", 3.0, 7, walltime=T0 + 10)
    return logdir


def _comparable(df: pl.DataFrame) -> pl.DataFrame:
    """The runs frame without what names the folder read or the moment of import."""
    return df.drop("path").sort("run_id")


def test_an_import_into_s3_reads_back_as_the_local_one(
    logdir: Path, s3_url: str, tmp_path: Path, mirror_home: Path
) -> None:
    local = tmp_path / "local"
    here_report = import_runs("tensorboard", str(logdir), local)
    report = import_runs("tensorboard", str(logdir), s3_url)
    assert report.problems == [] and report.notes == []
    assert sorted(report.imported) == sorted(here_report.imported) and len(report.imported) == 2
    assert report.points == here_report.points > 500

    here, there = store.open(local, cache=False), store.open(s3_url)
    ids = sorted(report.imported)
    drop = ["imported"] if "imported" in here.runs().columns else []
    assert_frame_equal(_comparable(there.runs()).drop(drop), _comparable(here.runs()).drop(drop))
    assert_frame_equal(there.history(ids), here.history(ids))
    for run_id in ids:
        a, b = there.run(run_id), here.run(run_id)
        assert (a.name, a.experiment, a.status, a.params, a.notes, a.tags) == (
            b.name,
            b.experiment,
            b.status,
            b.params,
            b.notes,
            b.tags,
        )
        assert a.summary == b.summary
    nan = there.history(ids, keys=["val/acc"])["value"].to_list()
    assert nan[0] == 0.5 and math.isnan(nan[1]) and nan[2] == 0.75

    again = import_runs("tensorboard", str(logdir), s3_url)
    assert again.imported == [] and again.problems == []
    assert sorted(again.skipped) == ids
    # Nothing but the store marker and the runs' own files: no staging left behind.
    keys = sorted(k for k, _ in ObjectRoot(s3_url).walk(""))
    assert keys[0] == "mmtop-store.json"
    assert all(k.startswith("runs/") for k in keys[1:])
    assert len(keys) == len({k for k, _ in ObjectRoot(s3_url).walk("")})


def test_a_run_whose_upload_stopped_before_its_run_json_is_listed_not_filled(
    logdir: Path, s3_url: str, tmp_path: Path
) -> None:
    report = import_runs("tensorboard", str(logdir), s3_url)
    remote = ObjectRoot(s3_url)
    victim = sorted(report.imported)[0]
    run_json = next(k for k, _ in remote.walk("") if k.endswith(f"{victim}/run.json"))
    before = sorted(k for k, _ in remote.walk(""))
    remote.delete(run_json)

    again = import_runs("tensorboard", str(logdir), s3_url)
    assert again.imported == [] and again.skipped == sorted(report.imported)[1:]
    assert len(again.problems) == 1
    assert again.problems[0]["reason"].startswith(
        f"an earlier import of {victim} stopped before its run.json was written; not imported"
    )
    assert sorted(k for k, _ in remote.walk("")) == [k for k in before if k != run_json]


def test_a_run_json_another_writer_created_first_is_kept_and_the_run_listed(
    logdir: Path, s3_url: str, tmp_path: Path
) -> None:
    """Between the listing and the upload, another import created one run's run.json: it
    is not overwritten, and the run is not counted as imported."""
    run_id = sorted(import_runs("tensorboard", str(logdir), tmp_path / "local").imported)[0]
    remote = ObjectRoot(s3_url)
    key = f"runs/{run_id}/run.json"

    def race(done: int, total: int, points: int) -> None:
        if done == 0:  # called once the object store was listed, before any run is written
            assert remote.create_once(key, b"{}")

    report = import_runs("tensorboard", str(logdir), s3_url, progress=race)
    assert run_id not in report.imported and len(report.imported) == 1
    assert report.problems == [
        {
            "path": f"{s3_url}/runs/{run_id}",
            "reason": f"{key} exists on the object store with other bytes; run not imported",
        }
    ]
    got = remote.get(key)
    assert got is not None and got.data == b"{}"


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_imports_into_s3_and_says_so(
    logdir: Path,
    s3_url: str,
    mirror_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = _cli(capsys, "import", "tensorboard", str(logdir), "--root", s3_url)
    assert (code, err) == (0, "")
    assert out.startswith("tensorboard: 2 runs found, 2 imported (")
    assert out.endswith(f"0 imported before, into {s3_url}\n")
    monkeypatch.setenv("MMTOP_DIR", s3_url)
    code, out, err = _cli(capsys, "import", "tensorboard", str(logdir), "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["root"], data["imported"], len(data["skipped"])) == (s3_url, [], 2)
    code, out, _ = _cli(capsys, "ls", "--format", "csv")
    assert code == 0 and out.count("\n") == 3


def test_mlflow_into_s3_says_registered_models_are_not_imported(
    s3_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mlruns").mkdir()
    code, out, err = _cli(capsys, "import", "mlflow", str(tmp_path / "mlruns"), "--root", s3_url)
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == [REGISTRY_SKIPPED]


def test_a_bucket_that_is_not_there_is_one_line(
    logdir: Path, s3_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = "s3://no-such-bucket-mmtop/store"
    code, out, err = _cli(capsys, "import", "tensorboard", str(logdir), "--root", url)
    assert code != 0 and out == ""
    assert err.startswith(f"mmtop: error: {url}/") and err.count("\n") == 1
