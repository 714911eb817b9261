"""`mmtop doctor`: exit 0 on a healthy store, 1 with skipped files or crashed runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmtop import store
from mmtop.store import paths


def run_folder(sample: Any, name: str) -> Path:
    return Path(store.open(sample.root).run(sample.ids[name]).path)


def test_healthy_store(cli: Callable[..., Any], fresh: Any) -> None:
    result = cli("doctor", "--root", fresh.root)
    assert result.code == 0, result.text
    assert result.text.endswith("no problems found (run folders checked)\n")
    deep = cli("doctor", "--root", fresh.root, "--deep", "-f", "json")
    assert deep.code == 0
    doc = json.loads(deep.text)
    assert doc["runs"] == 4 and doc["problems"] == [] and doc["crashed"] == []


def test_crashed_run_and_unreadable_file(cli: Callable[..., Any], fresh: Any) -> None:
    crashed = run_folder(fresh, "sgd-0.1")
    meta = json.loads((crashed / paths.RUN_JSON).read_text())
    meta.update(status="running", ended=None, host="elsewhere")
    (crashed / paths.RUN_JSON).write_text(json.dumps(meta))
    (crashed / paths.HEARTBEAT).unlink(missing_ok=True)  # no heartbeat: the writer is gone
    broken = run_folder(fresh, "sgd-0.01")
    (broken / paths.RUN_JSON).write_text("{truncated")

    result = cli("doctor", "--root", fresh.root)
    assert result.code == 1
    assert "skipped files (1):" in result.text
    assert f"  {broken / paths.RUN_JSON}" in result.text
    assert "crashed runs (1):" in result.text
    assert f"  {fresh.ids['sgd-0.1']}  digits/sgd-0.1  created " in result.text

    doc = json.loads(cli("doctor", "--root", fresh.root, "--format", "json").text)
    assert [c["run_id"] for c in doc["crashed"]] == [fresh.ids["sgd-0.1"]]
    assert [p["path"] for p in doc["problems"]] == [str(broken / paths.RUN_JSON)]


def test_deep_finds_corrupt_metric_parts(cli: Callable[..., Any], fresh: Any) -> None:
    folder = run_folder(fresh, "sgd-0.001") / paths.METRICS_DIR
    part = sorted(folder.glob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:40])  # a truncated part
    assert cli("doctor", "--root", fresh.root).code == 0  # the listing never opens parts
    deep = cli("doctor", "--root", fresh.root, "--deep")
    assert deep.code == 1
    assert str(part) in deep.text


def test_missing_store(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("doctor", "--root", tmp_path / "absent")
    assert result.code == 1 and "no store at" in result.err
