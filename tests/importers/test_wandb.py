"""`mmtop import wandb`: offline runs written by wandb itself come back exactly, once.

The runs are logged by the real wandb in offline mode, in a child process (wandb starts its
service there, and it ends with that process), once for the module. What was logged is known
here; the times of history rows are read back with wandb's own generated protobuf classes.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.store.importers import ImportError_
from mmtop.store.importers.target import import_runs
from mmtop.store.importers.wandb_log import read_records
from mmtop.tui.cli import main

pytest.importorskip("wandb")

ROWS, WIDE = 10_000, 10  # the long run: 100k points
CONFIG = {
    "lr": 0.001,
    "opt": {"name": "adam w", "betas": [0.9, 0.999], "eps": {"value": 1e-8}},
    "layers": 4,
    "big": 2**60,
    "name ü": "résumé",
}

GENERATE = """
import json, sys, wandb
from wandb import Histogram, Html, Table
config, rows, wide = json.loads(sys.argv[1])
out = {}
run = wandb.init(project="vision ü", name="baseline ✓ ü", tags=["team a", "x/y"],
                 notes="first try — ü\\nsecond line", group="sweep 1", job_type="train",
                 config=config)
run.log({"train/loss": 0.5, "val acc": float("nan"), "up": float("inf"),
         "down": -float("inf"), "nested": {"a": 1.5, "b": {"c": 2}}, "flag": True,
         "count": 7, "huge": 2**60, "label": "cat", "tiny": 5e-324})
run.log({"train/loss": 0.25}, step=5)
run.log({"extra": 1.0}, step=5)
run.log({"train/loss": 0.125}, step=5)
run.log({"hist": Histogram([1, 2, 3]), "page": Html("<b>x</b>"),
         "table": Table(columns=["a"], data=[[1]]), "train/loss": 1 / 3}, step=7)
run.log({"late": 2.0}, step=9, commit=False)
run.log({"later": 3.0}, step=9)
run.config.update({"added": "later"})
run.summary["test/acc"] = 0.97
out["main"] = run.id
run.finish()

run = wandb.init(project="vision ü", name="long")
for s in range(rows):
    run.log({f"m{k}": s * 10 + k + 0.1 for k in range(wide)})
out["long"] = run.id
run.finish()

run = wandb.init(project="other", name="failed run")
run.log({"x": 1.0})
out["failed"] = run.id
run.finish(exit_code=1)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The `wandb` folder of three offline runs, and each run's `.wandb` file by role."""
    base = tmp_path_factory.mktemp("wb")
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(base),
        "WANDB_SILENT": "true",
        "WANDB_CONFIG_DIR": str(base / "config"),
        "WANDB_CACHE_DIR": str(base / "cache"),
        "WANDB_DATA_DIR": str(base / "data"),
        "WANDB_DISABLE_GIT": "true",
    }
    args = json.dumps([CONFIG, ROWS, WIDE])
    done = subprocess.run(
        [sys.executable, "-c", GENERATE, args],
        env=env,
        cwd=base,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ids = json.loads(done.stdout.strip().splitlines()[-1])
    folder = base / "wandb"
    files = {role: next(folder.glob(f"offline-run-*-{i}/run-{i}.wandb")) for role, i in ids.items()}
    return folder, files


def _their_record() -> Any:
    """wandb's generated `Record` (its module re-exports the one for the protobuf in use)."""
    import importlib

    return importlib.import_module("wandb.proto.wandb_internal_pb2").Record


def _rows(path: Path) -> list[dict[str, Any]]:
    """The history rows of a `.wandb` file as wandb's own generated classes decode them."""
    record = _their_record()
    rows = []
    for raw in read_records(path.read_bytes()).records:
        rec = record.FromString(raw)
        if rec.WhichOneof("record_type") == "history":
            rows.append(
                {
                    "/".join(i.nested_key) or i.key: json.loads(i.value_json)
                    for i in rec.history.item
                }
            )
    return rows


def _points(st: Any, run_id: str) -> dict[str, list[tuple[int, float, Any]]]:
    history = st.history(run_id)
    out: dict[str, list[tuple[int, float, Any]]] = {}
    for key, step, time, value in zip(
        history["key"].to_list(),
        history["step"].to_list(),
        history["time"].to_list(),
        history["value"].to_list(),
        strict=True,
    ):
        out.setdefault(key, []).append((step, time.timestamp(), _canon(value)))
    return out


def _canon(value: float) -> Any:
    return "nan" if math.isnan(value) else value


def _us(seconds: float) -> float:
    return round(seconds * 1e6) / 1e6


def _by_name(st: Any) -> dict[str, Any]:
    return {st.run(r).name: st.run(r) for r in st.runs()["run_id"].to_list()}


def test_every_value_comes_back_exactly(
    offline: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    folder, files = offline
    report = import_runs("wandb", str(folder), tmp_path)
    assert report.problems == [] and report.found == 3 and len(report.imported) == 3
    assert report.left_out == {"histogram": 1, "html-file": 1, "table-file": 1, "text": 1}
    assert report.points == 11 + 2 + 1 + 1 + ROWS * WIDE + 1
    st = store.open(tmp_path)
    runs = _by_name(st)
    assert set(runs) == {"baseline ✓ ü", "long", "failed run"}

    main_run = runs["baseline ✓ ü"]
    times = [_us(row["_timestamp"]) for row in _rows(files["main"])]
    assert len(times) == 4  # steps 0, 5, 7 and 9: a step's values are one row
    t0, t5, t7, t9 = times
    assert _points(st, main_run.run_id) == {
        "train/loss": [(0, t0, 0.5), (5, t5, 0.125), (7, t7, 1 / 3)],
        "val acc": [(0, t0, "nan")],
        "up": [(0, t0, math.inf)],
        "down": [(0, t0, -math.inf)],
        "nested.a": [(0, t0, 1.5)],
        "nested.b.c": [(0, t0, 2.0)],
        "flag": [(0, t0, 1.0)],
        "count": [(0, t0, 7.0)],
        "huge": [(0, t0, float(2**60))],
        "tiny": [(0, t0, 5e-324)],
        "extra": [(5, t5, 1.0)],
        "late": [(9, t9, 2.0)],
        "later": [(9, t9, 3.0)],
    }
    assert main_run.experiment == "vision ü" and main_run.status == "finished"
    assert main_run.params == {**CONFIG, "added": "later"}
    assert main_run.tags == ["team a", "x/y", "group=sweep 1", "job_type=train"]
    assert main_run.notes == "first try — ü\nsecond line"
    assert main_run.meta["error"] is None
    imported = main_run.meta["imported"]
    assert imported["source"] == "wandb" and imported["id"] == files["main"].stem[4:]
    assert imported["uri"] == str(files["main"].resolve())
    assert imported["tags"]["group"] == "sweep 1" and imported["tags"]["job_type"] == "train"
    assert imported["tags"]["project"] == "vision ü"
    assert imported["left_out"] == report.left_out
    # An explicit summary value is kept; the others are the history's last values anyway.
    assert main_run.values == {"test/acc": 0.97}

    long_run = runs["long"]
    rows = _rows(files["long"])
    history = st.history(long_run.run_id)
    assert history.height == ROWS * WIDE
    for k in (0, WIDE - 1):
        got = history.filter(history["key"] == f"m{k}")
        assert got["step"].to_list() == list(range(ROWS))
        assert got["value"].to_list() == [s * 10 + k + 0.1 for s in range(ROWS)]
        assert [t.timestamp() for t in got["time"].to_list()] == [
            _us(r["_timestamp"]) for r in rows
        ]
    assert long_run.summary["m3"]["count"] == ROWS

    failed = runs["failed run"]
    assert failed.status == "failed" and failed.experiment == "other"
    assert failed.meta["error"]["message"] == "the W&B run exited with code 1"
    assert failed.ended is not None and failed.created is not None

    again = import_runs("wandb", str(folder), tmp_path)
    assert again.imported == [] and sorted(again.skipped) == sorted(report.imported)
    assert again.points == 0 and again.problems == []


def test_our_descriptor_reads_what_wandbs_own_classes_read(
    offline: tuple[Path, dict[str, Path]],
) -> None:
    from mmtop.store.importers.wandb_proto import record_class

    theirs_class = _their_record()
    ours = record_class()
    seen = set()
    for raw in read_records(offline[1]["main"].read_bytes()).records:
        a, b = ours.FromString(raw), theirs_class.FromString(raw)
        kind = a.WhichOneof("record_type")
        assert kind in (b.WhichOneof("record_type"), None)
        if kind is None:
            continue
        seen.add(kind)
        mine, theirs = getattr(a, kind), getattr(b, kind)
        for field in mine.DESCRIPTOR.fields:
            if field.message_type is None:
                assert getattr(mine, field.name) == getattr(theirs, field.name), field.name
        if kind == "history":
            assert [(i.key, list(i.nested_key), i.value_json) for i in mine.item] == [
                (i.key, list(i.nested_key), i.value_json) for i in theirs.item
            ]
        if kind == "run":
            assert mine.start_time.seconds == theirs.start_time.seconds
            assert len(mine.config.update) == len(theirs.config.update)
    assert seen == {"run", "history", "summary", "config", "exit"}


def test_corrupt_and_truncated_files(
    offline: tuple[Path, dict[str, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, files = offline
    src = tmp_path / "wandb"
    for role in ("main", "long", "failed"):
        shutil.copytree(files[role].parent, src / files[role].parent.name)
    main_file = src / files["main"].parent.name / files["main"].name
    data = bytearray(main_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    main_file.write_bytes(bytes(data))
    long_file = src / files["long"].parent.name / files["long"].name
    cut = long_file.stat().st_size // 2 + 3
    with long_file.open("r+b") as f:
        f.truncate(cut)
    (src / "offline-run-20260101_000000-junk").mkdir()
    (src / "offline-run-20260101_000000-junk" / "run-junk.wandb").write_bytes(b"PK\x03\x04")

    root = tmp_path / "store"
    assert main(["import", "wandb", str(src), "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "4 runs found, 2 imported" in out
    assert f"{main_file}: {main_file.name}: chunk at byte" in out and "CRC mismatch" in out
    assert f"{long_file}: ends mid-record at byte" in out
    assert "run-junk.wandb: not a W&B run file (no :W&B header)" in out
    st = store.open(root)
    runs = _by_name(st)
    assert set(runs) == {"long", "failed run"}
    long_run = runs["long"]
    assert long_run.status == "killed"
    assert long_run.meta["error"]["type"] == "ImportedUnfinished"
    history = st.history(long_run.run_id)
    kept = history.height // WIDE
    assert 0 < kept < ROWS and history.height == kept * WIDE
    got = history.filter(history["key"] == "m2")
    assert got["step"].to_list() == list(range(kept))
    assert got["value"].to_list() == [s * 10 + 2 + 0.1 for s in range(kept)]

    # Imported once: the damaged run is still left out, and the others are not written again.
    assert main(["import", "wandb", str(src), "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "0 imported (0 points), 2 imported before" in out and "changed since" not in out

    # The truncated run's file whole again: listed as changed, the imported copy left as is.
    shutil.copyfile(files["long"], long_file)
    assert main(["import", "wandb", str(src), "--root", str(root)]) == 1
    out = capsys.readouterr().out
    size = files["long"].stat().st_size
    assert (
        f"{long_file}: changed since it was imported as {long_run.run_id} ({cut} bytes, now "
        f"{size} bytes); not brought up to date: remove {long_run.path} to import it again"
    ) in out
    assert st.history(long_run.run_id).height == kept * WIDE


def test_cli_shows_the_wandb_run_id_and_refuses_what_it_cannot_read(
    offline: tuple[Path, dict[str, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, files = offline
    root = tmp_path / "store"
    # One run file, named directly.
    assert main(["import", "wandb", str(files["failed"]), "--root", str(root)]) == 0
    assert "1 runs found, 1 imported (1 points)" in capsys.readouterr().out
    run_id = store.open(root).runs()["run_id"].to_list()[0]
    assert main(["show", run_id, "--root", str(root)]) == 0
    assert f"imported from  wandb run {files['failed'].stem[4:]}" in capsys.readouterr().out

    assert main(["import", "wandb", str(tmp_path / "nope"), "--root", str(root)]) == 1
    assert "no W&B runs at" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportError_, match="no run-\\*.wandb file under it"):
        import_runs("wandb", str(tmp_path / "empty"), root)

    # A run file on its own, beside a link that leads nowhere: the link is listed.
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(files["failed"], loose / files["failed"].name)
    (loose / "run-gone.wandb").symlink_to(tmp_path / "gone.wandb")
    report = import_runs("wandb", str(loose), tmp_path / "other")
    assert len(report.imported) == 1 and len(report.problems) == 1
    assert report.problems[0]["path"] == str(loose / "run-gone.wandb")
    assert "No such file or directory" in report.problems[0]["reason"]


def test_reading_needs_neither_wandb_nor_its_service(
    offline: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    code = (
        "import sys, json, psutil; sys.modules['wandb'] = None\n"
        "from mmtop.store.importers.target import import_runs\n"
        "r = import_runs('wandb', sys.argv[1], sys.argv[2])\n"
        "print(json.dumps([len(r.imported), r.points, psutil.Process().children(),"
        " 'wandb' in sys.modules and sys.modules['wandb'] is not None]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(offline[0]), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == [3, 11 + 2 + 1 + 1 + ROWS * WIDE + 1, [], False]


def test_a_dict_logged_as_one_item_is_read_as_nested_keys() -> None:
    """Older wandb wrote a nested dict (and media) as one item's JSON, not as nested keys."""
    from collections import Counter

    from mmtop.store.importers.wandb_runs import _numbers, _value

    left_out: Counter[str] = Counter()
    value = {"b": 1, "c": {"_type": "image-file", "width": 4}, "d": "x", "e": {"f": True}}
    assert _numbers("a", value, left_out) == [("a.b", 1.0), ("a.e.f", 1.0)]
    assert left_out == {"image-file": 1, "text": 1}
    # An empty or broken value_json is a null (left out and counted), not a failed run.
    assert _value("") is None and _value("[1, ") is None
    assert _numbers("z", _value(""), left_out) == [] and left_out["null"] == 1
    assert math.isnan(_value("NaN")) and _value("-Infinity") == -math.inf
