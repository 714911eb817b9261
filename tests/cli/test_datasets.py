"""`mmtop datasets ...` over a real registry: list, show, diff and lineage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mmtop import store


@pytest.fixture
def datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """digits-train@1 (used by a run that registered clf/1) and @2 (two rows relabelled,
    one column narrowed to float32), both with key `id` and a snapshot."""
    from sklearn.datasets import load_digits

    monkeypatch.chdir(tmp_path)
    root = tmp_path / "mmruns"
    frame = load_digits(as_frame=True).frame
    frame.insert(0, "id", range(len(frame)))
    with store.Run("digits", root=root, capture_code=False, capture_system=False) as run:
        run.log_dataset(frame, "digits-train", key="id", snapshot=True)
        run.log({"val/acc": 0.9})
        run.log_model(root / "mmtop-store.json", "clf")
    changed = frame.copy()
    changed.loc[changed["id"].isin([4, 8]), "target"] = 0
    changed = changed.astype({"pixel_0_1": "float32"})
    store.log_dataset_version(
        "digits-train", changed, root, key="id", snapshot=True, parent="digits-train@1"
    )
    return root, run.run_id


def test_ls_in_table_csv_and_quiet(cli: Callable[..., Any], datasets: tuple[Path, str]) -> None:
    root, _ = datasets
    table = cli("datasets", "ls", "--root", root)
    assert table.code == 0, table.err
    lines = table.text.splitlines()
    assert lines[0].split() == [
        "name",
        "version",
        "fingerprint",
        "kind",
        "rows",
        "columns",
        "created",
        "labels",
    ]
    assert lines[1].split()[:6] == ["digits-train", "1", lines[1].split()[2], "frame", "1797", "66"]
    assert len(lines[1].split()[2]) == len("sha256:") + 12
    quiet = cli("datasets", "ls", "-q", "--root", root)
    assert quiet.text == "digits-train@1\ndigits-train@2\n"
    csv = cli("datasets", "ls", "--root", root, "-f", "csv").text.splitlines()
    assert csv[0].startswith("name,version,fingerprint,kind,rows,columns,size,uri,created")
    assert len(csv) == 3


def test_show_text_and_json(cli: Callable[..., Any], datasets: tuple[Path, str]) -> None:
    root, _ = datasets
    doc = json.loads(cli("datasets", "show", "--root", root, "digits-train@2", "-f", "json").text)
    assert (doc["ref"], doc["rows"], doc["key"], doc["snapshot"]) == (
        "digits-train@2",
        1797,
        ["id"],
        "data.parquet",
    )
    assert doc["parent"]["version"] == 1
    text = cli("datasets", "show", "--root", root, doc["fingerprint"][7:19]).text
    assert text.splitlines()[:3] == [
        "dataset      digits-train@2",
        f"fingerprint  {doc['fingerprint']}",
        "kind         frame",
    ]
    assert "  pixel_0_1  float" in text.splitlines()


def test_diff_reports_schema_rows_and_changed_rows(
    cli: Callable[..., Any], datasets: tuple[Path, str]
) -> None:
    root, _ = datasets
    result = cli("datasets", "diff", "--root", root, "digits-train@1", "digits-train@2")
    assert result.code == 0, result.err
    assert result.text == (
        "digits-train@1 -> digits-train@2: different data\n"
        "rows     1,797 -> 1,797 (+0)\n"
        "schema   ~ pixel_0_1: double -> float\n"
        "shift    no column drifted (of 66)\n"
        "rows by key id: 0 added, 0 removed, 2 changed, 1,795 unchanged\n"
        "  changed columns: target 2\n"
        "  changed: 4, 8\n"
    )
    doc = json.loads(
        cli(
            "datasets", "diff", "--root", root, "digits-train@1", "digits-train@2", "-f", "json"
        ).text
    )
    assert doc["keyed"]["changed_columns"] == {"target": 2}
    by_target = cli(
        "datasets", "diff", "--root", root, "digits-train@1", "digits-train@2", "--key", "target"
    )
    assert "rows by key target: key target is not unique in both versions" in by_target.text


def test_lineage_from_dataset_to_run_to_model(
    cli: Callable[..., Any], datasets: tuple[Path, str]
) -> None:
    root, run_id = datasets
    text = cli("datasets", "lineage", "--root", root, "digits-train@1").text.splitlines()
    assert text[1:] == [
        f"  registered by  digits/{run_id}",
        f"  -> run digits/{run_id}  run-{run_id[-6:]} (finished)  as digits-train",
        "     -> model clf/1",
        "  -> dataset digits-train@2 (as parent)",
    ]
    doc = json.loads(
        cli("datasets", "lineage", "--root", root, "digits-train@2", "-f", "json").text
    )
    assert (doc["parent"], doc["runs"], doc["models"]) == ("digits-train@1", [], [])


def test_bad_and_missing_refs(cli: Callable[..., Any], datasets: tuple[Path, str]) -> None:
    root, _ = datasets
    missing = cli("datasets", "show", "--root", root, "nope")
    assert (missing.code, missing.err) == (
        1,
        "mmtop: error: no dataset named 'nope' in " + str(root) + "\n",
    )
    bad = cli("datasets", "show", "--root", root, "a b")
    assert bad.code == 2
    assert "bad dataset reference 'a b'" in bad.err
