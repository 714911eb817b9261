"""`mmtop import tensorboard`: logs written by tensorboardX come back exactly, once."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmtop import store
from mmtop.store.importers.target import import_runs
from mmtop.tui.cli import main

tbx = pytest.importorskip("tensorboardX")

BIG = 100_000
T0 = 1_790_000_000.25


def _tensor_scalar(tag: str, value: float) -> Any:
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto

    plugin = SummaryMetadata.PluginData(plugin_name="scalars")
    tensor = TensorProto(dtype="DT_DOUBLE", double_val=[value])
    return Summary(
        value=[Summary.Value(tag=tag, tensor=tensor, metadata=SummaryMetadata(plugin_data=plugin))]
    )


def _write(logdir: Path) -> dict[str, Any]:
    """Two runs: one with a 100k-point history, NaN, repeated steps, a tensor-encoded
    scalar, hparams and text; one nested a folder deeper with a unicode name."""
    expected: dict[str, Any] = {}
    with tbx.SummaryWriter(str(logdir / "main")) as w:
        for s in range(BIG):
            w.add_scalar("train/loss", 1.0 / (s + 1), s, walltime=T0 + s * 0.001)
        w.add_scalar("val/acc", 0.5, 0, walltime=T0 + 1)
        w.add_scalar("val/acc", float("nan"), 1, walltime=T0 + 2)
        w.add_scalar("val/acc", 0.75, 1, walltime=T0 + 3)
        # Tensor-encoded, as TensorFlow 2 writes scalars: a double keeps every bit.
        w._get_file_writer().add_summary(_tensor_scalar("exact", 0.1), 5, T0 + 4)
        w.add_text("notes", "first try — ü", 3, walltime=T0 + 5)
        w.add_hparams({"lr": 0.001, "opt": "adam w", "bn": True, "layers": 4}, {}, name=".")
    f32 = [float(np.float32(1.0 / (s + 1))) for s in range(BIG)]
    expected["main"] = {
        "train/loss": (list(range(BIG)), [T0 + s * 0.001 for s in range(BIG)], f32),
        "val/acc": ([0, 1, 1], [T0 + 1, T0 + 2, T0 + 3], [0.5, math.nan, 0.75]),
        "exact": ([5], [T0 + 4], [0.1]),
    }
    with tbx.SummaryWriter(str(logdir / "sweep" / "seed ü")) as w:
        w.add_scalar("x", 3.0, 7, walltime=T0 + 10)
    expected["sweep/seed ü"] = {"x": ([7], [T0 + 10], [3.0])}
    return expected


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    logdir = tmp_path_factory.mktemp("tb") / "runs"
    return logdir, _write(logdir)


def _canon(values: list[float]) -> list[Any]:
    return ["nan" if math.isnan(v) else v for v in values]


def test_scalars_hparams_and_text_come_back_exactly(
    logs: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    logdir, expected = logs
    report = import_runs("tensorboard", str(logdir), tmp_path)
    assert report.problems == [] and len(report.imported) == 2
    st = store.open(tmp_path)
    runs = {st.run(r).name: st.run(r) for r in st.runs()["run_id"].to_list()}
    assert set(runs) == set(expected)
    for name, series in expected.items():
        info = runs[name]
        assert info.experiment == "runs" and info.status == "finished"
        assert info.meta["imported"]["id"] == str((logdir / name).resolve())
        history = st.history(info.run_id)
        assert sorted(history["key"].unique().to_list()) == sorted(series)
        for key, (steps, times, values) in series.items():
            got = history.filter(history["key"] == key)
            assert got["step"].to_list() == steps
            assert [t.timestamp() for t in got["time"].to_list()] == [
                round(t * 1e6) / 1e6 for t in times
            ]
            assert _canon(got["value"].to_list()) == _canon(values)
    main_run = runs["main"]
    assert main_run.params == {"lr": 0.001, "opt": "adam w", "bn": True, "layers": 4}
    assert main_run.notes == "## notes (step 3)\n\nfirst try — ü\n"
    assert main_run.summary["train/loss"]["count"] == BIG

    again = import_runs("tensorboard", str(logdir), tmp_path)
    assert again.imported == [] and sorted(again.skipped) == sorted(report.imported)


def test_a_corrupt_event_file_costs_its_run_only(
    logs: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mmtop.tui.cli import progress

    monkeypatch.setattr(progress, "is_tty", lambda stream: True)  # stderr as a terminal
    logdir, _ = logs
    bad = tmp_path / "logs" / "bad"
    bad.mkdir(parents=True)
    (bad / "events.out.tfevents.1790000000.host").write_bytes(b"\x10" + b"\x00" * 15 + b"junk")
    with tbx.SummaryWriter(str(tmp_path / "logs" / "good")) as w:
        w.add_scalar("y", 1.5, 2)
    root = tmp_path / "store"
    assert main(["import", "tensorboard", str(tmp_path / "logs"), "--root", str(root)]) == 1
    captured = capsys.readouterr()
    out = captured.out
    assert "2 runs found, 1 imported (1 points)" in out
    assert "length CRC mismatch" in out
    assert captured.err.endswith(
        "importing from tensorboard [" + "#" * 30 + "] 2/2 runs, 1 points\n"
    )
    assert store.open(root).runs()["name"].to_list() == ["good"]
