"""`mmtop models ...` over a real registry: listing, showing, promoting, exporting, verifying."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mmtop import store


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "mmruns"
    for i, lr in enumerate([0.1, 0.01]):
        weights = tmp_path / f"w{i}.onnx"
        weights.write_bytes(bytes([i]) * 100)
        with store.Run(
            "digits", name=f"lr{lr}", params={"lr": lr}, root=root, capture_system=False
        ) as run:
            run.log({"val/acc": 0.9 + i / 100})
            run.log_dataset({"x": [1, 2, 3]}, "train")
            run.log_model(
                weights,
                "digits-clf",
                aliases=["candidate"],
                input_example={"x": [1.0, 2.0]},
                description=f"lr {lr}",
            )
    return root


def _json(result: Any) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_ls_lists_versions_in_every_format(cli: Callable[..., Any], registry: Path) -> None:
    rows = _json(cli("models", "ls", "--root", registry, "--format", "json"))
    assert [(r["name"], r["version"], r["aliases"]) for r in rows] == [
        ("digits-clf", 1, []),
        ("digits-clf", 2, ["candidate"]),
    ]
    assert rows[1]["metrics"] == {"val/acc": 0.91}
    table = cli("models", "ls", "--root", registry)
    assert table.code == 0
    header = table.text.splitlines()[0].split()
    assert header == [
        "name",
        "version",
        "aliases",
        "created",
        "flavour",
        "size",
        "run_id",
        "metrics.val/acc",
    ]
    assert cli("models", "ls", "--root", registry, "-q").text == "digits-clf/1\ndigits-clf/2\n"
    csv = cli("models", "ls", "--root", registry, "--format", "csv").text
    assert csv.splitlines()[2].startswith("digits-clf,2,")


def test_show_and_lineage(cli: Callable[..., Any], registry: Path) -> None:
    doc = _json(cli("models", "show", "digits-clf@candidate", "--root", registry, "-f", "json"))
    assert (doc["ref"], doc["flavour"], doc["aliases"]) == ("digits-clf/2", "onnx", ["candidate"])
    assert doc["lineage"]["params"] == {"lr": 0.01}
    text = cli("models", "show", "digits-clf/1", "--root", registry).text
    assert "model        digits-clf/1" in text and "val/acc  0.9" in text
    assert "inputs  x: double" in text
    tree = cli("models", "lineage", "digits-clf", "--root", registry).text.splitlines()
    assert tree[0].startswith("data     train  train@1  sha256:")
    assert tree[1].startswith("run      digits/") and tree[1].endswith("lr0.01")
    assert tree[2] == "version  digits-clf/2  candidate"


def test_alias_history_and_unalias(cli: Callable[..., Any], registry: Path) -> None:
    done = cli("models", "alias", "digits-clf", "champion", "1", "--root", registry)
    assert (done.code, done.text) == (0, "digits-clf@champion: (none) -> 1 (event 5)\n")
    again = cli("models", "alias", "digits-clf", "champion", "1", "--root", registry)
    assert again.text == "digits-clf@champion: already version 1 (nothing recorded)\n"
    moved = cli("models", "alias", "digits-clf", "candidate", "1", "--root", registry)
    assert moved.text == "digits-clf@candidate: 2 -> 1 (event 6)\n"
    gone = cli("models", "unalias", "digits-clf", "champion", "--root", registry)
    assert gone.text == "digits-clf@champion: 1 -> (removed) (event 7)\n"
    rows = _json(cli("models", "history", "digits-clf", "--root", registry, "-f", "json"))
    assert [(r["action"], r["alias"], r["from"], r["to"]) for r in rows] == [
        ("registered", None, None, "1"),
        ("alias", "candidate", None, "1"),
        ("registered", None, None, "2"),
        ("alias", "candidate", "1", "2"),
        ("alias", "champion", None, "1"),
        ("alias", "candidate", "2", "1"),
        ("alias", "champion", "1", None),
    ]


def test_diff_shows_what_differs(cli: Callable[..., Any], registry: Path) -> None:
    rows = _json(
        cli("models", "diff", "digits-clf/1", "digits-clf/2", "--root", registry, "-f", "json")
    )
    fields = {r["field"]: (r["digits-clf/1"], r["digits-clf/2"]) for r in rows}
    assert fields["params.lr"] == ("0.1", "0.01")
    assert fields["metrics.val/acc"] == ("0.9", "0.91")
    assert "flavour" not in fields
    assert "file.model/w0.onnx" in fields and "file.model/w1.onnx" in fields


def test_export_writes_a_self_contained_folder(
    cli: Callable[..., Any], registry: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out"
    done = cli("models", "export", "digits-clf@candidate", "-o", dest, "--root", registry)
    assert done.code == 0, done.err
    names = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert names == [
        "README.md",
        "input_example.parquet",
        "manifest.json",
        "model/w1.onnx",
        "requirements.txt",
    ]
    assert (dest / "requirements.txt").read_text().startswith("onnx")
    card = (dest / "README.md").read_text()
    assert card.startswith("# digits-clf/2\n\nlr 0.01\n")
    assert "| val/acc | 0.91 |" in card and "| lr | 0.01 |" in card
    assert "| alias @candidate: 1 → 2 |" in card and "## How to load" in card
    assert "| train | sha256:" in card
    again = cli("models", "export", "digits-clf", "-o", dest, "--root", registry)
    assert again.code == 1 and "is not an empty folder" in again.err


def test_verify_exit_codes(cli: Callable[..., Any], registry: Path) -> None:
    ok = cli("models", "verify", "digits-clf/1", "--root", registry)
    assert (ok.code, ok.text) == (0, "digits-clf/1: ok: 2 files verified\n")
    target = registry / "_models" / "digits-clf" / "versions" / "1" / "model" / "w0.onnx"
    target.write_bytes(b"tampered")
    bad = cli("models", "verify", "digits-clf/1", "--root", registry)
    assert (bad.code, bad.text) == (1, "digits-clf/1: FAILED: changed: model/w0.onnx\n")
    doc = json.loads(cli("models", "verify", "digits-clf/1", "--root", registry, "-f", "json").out)
    assert doc["mismatched"] == ["model/w0.onnx"] and doc["ok"] is False
    refused = cli(
        "models", "export", "digits-clf/1", "-o", registry.parent / "x", "--root", registry
    )
    assert refused.code == 1 and "files do not match" in refused.err


def test_errors_are_one_line_with_exit_codes(cli: Callable[..., Any], registry: Path) -> None:
    missing = cli("models", "show", "nope", "--root", registry)
    assert missing.code == 1 and missing.err.startswith("mmtop: error: no model named 'nope'")
    bad = cli("models", "show", "a/b/c", "--root", registry)
    assert bad.code == 2 and "version must be a number" in bad.err
    no_alias = cli("models", "alias", "digits-clf", "prod", "9", "--root", registry)
    assert no_alias.code == 1 and "no version 9" in no_alias.err
    usage = cli("models", "alias", "digits-clf", "prod", "zero", "--root", registry)
    assert usage.code == 2
    assert cli("models", "--root", registry).code == 2
    assert cli("models", "ls", "--root", registry / "none").code == 1
    assert len(missing.err.splitlines()) == 1
