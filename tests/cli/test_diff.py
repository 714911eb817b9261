"""`mmtop diff`: the comparison in table, CSV, JSON and Markdown, against the store's values."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmtop import store
from mmtop.store import paths


def test_json_values_and_deltas_match_the_store(cli: Callable[..., Any], sample: Any) -> None:
    a, b = sample.ids["sgd-0.1"], sample.ids["sgd-0.001"]
    result = cli("diff", "--root", sample.root, a, b, "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.text)
    st = store.open(sample.root)
    ia, ib = st.run(a), st.run(b)
    assert doc["baseline"] == a
    assert [r["run_id"] for r in doc["runs"]] == [a, b]
    params = {p["key"]: p["values"] for p in doc["params"]}
    assert params == {
        "lr": [0.1, 0.001],
        "model.depth": [2, 4],
        "note": [ia.params["note"], "plain"],
    }  # seed and model.kind are equal: left out
    metrics = {(m["key"], m["stat"]): m for m in doc["metrics"]}
    loss = metrics[("train/loss", "last")]
    va, vb = ia.summary["train/loss"]["last"], ib.summary["train/loss"]["last"]
    assert loss["values"] == [va, vb]
    assert loss["delta"] == [None, vb - va]
    assert loss["pct"] == [None, (vb - va) / abs(va) * 100]
    assert loss["better"] == [None, True]
    assert loss["best"] == [b]
    assert loss["direction"] == "lower"
    assert metrics[("test/acc", "last")]["values"] == [0.9, 0.92]


def test_baseline_switch_and_all(cli: Callable[..., Any], sample: Any) -> None:
    a, b = sample.ids["sgd-0.1"], sample.ids["sgd-0.01"]
    doc = json.loads(cli("diff", "--root", sample.root, a, b, "-b", b, "--all", "-f", "json").text)
    assert doc["baseline"] == b
    assert [r["baseline"] for r in doc["runs"]] == [False, True]
    keys = [p["key"] for p in doc["params"]]
    assert keys == ["lr", "model.depth", "model.kind", "note", "seed"]
    acc = next(m for m in doc["metrics"] if m["key"] == "test/acc" and m["stat"] == "last")
    assert acc["delta"] == [0.9 - 0.91, None]


def test_baseline_outside_the_list_is_compared_first(cli: Callable[..., Any], sample: Any) -> None:
    a, b, c = sample.ids["sgd-0.1"], sample.ids["sgd-0.01"], sample.ids["sgd-0.001"]
    doc = json.loads(cli("diff", "--root", sample.root, a, b, "--baseline", c, "-f", "json").text)
    assert [r["run_id"] for r in doc["runs"]] == [c, a, b]
    assert doc["baseline"] == c


def test_csv_reads_back_exactly(cli: Callable[..., Any], sample: Any) -> None:
    a, b = sample.ids["sgd-0.1"], sample.ids["sgd-0.01"]
    result = cli("diff", "--root", sample.root, a, b, "--format", "csv", "--stats", "last")
    rows = list(csv.reader(io.StringIO(result.text, newline="")))
    assert rows[0] == ["section", "key", "stat", "sgd-0.1", "sgd-0.01"] + [
        "delta:sgd-0.01",
        "pct:sgd-0.01",
    ]
    by_key = {(r[0], r[1], r[2]): r[3:] for r in rows[1:]}
    st = store.open(sample.root)
    ta = st.run(a).summary["tricky"]["last"]
    tb = st.run(b).summary["tricky"]["last"]
    assert [float(x) for x in by_key[("metrics", "tricky", "last")]] == [
        ta,
        tb,
        tb - ta,
        (tb - ta) / abs(ta) * 100,
    ]
    assert by_key[("params", "note", "")][:2] == ['a,b"c\nd', "plain"]
    assert by_key[("params", "lr", "")] == ["0.1", "0.01", "", ""]


def test_markdown_and_table(cli: Callable[..., Any], sample: Any) -> None:
    a, h = sample.ids["sgd-0.1"], sample.ids["hostile"]
    md = cli("diff", "--root", sample.root, a, h, "-f", "md", "--sections", "params,metrics").text
    assert md.startswith("### params: ")
    assert "| key | sgd-0.1 (baseline) | '=HYPERLINK" in md
    assert "| pipe | — | a\\|b |" in md
    table = cli("diff", "--root", sample.root, a, h, "--sections", "metrics", "--stats", "last")
    assert table.code == 0
    lines = table.text.splitlines()
    assert lines[0].startswith("metrics: ")
    row = next(line for line in lines if line.startswith("val/loss"))
    assert row.split()[:4] == ["val/loss", "↓", "last", "—"]
    assert "\x1b" not in table.text


def test_usage_errors(cli: Callable[..., Any], sample: Any) -> None:
    a = sample.ids["sgd-0.1"]
    one = cli("diff", "--root", sample.root, a)
    assert one.code == 2 and "at least two runs" in one.err
    twice = cli("diff", "--root", sample.root, a, a[:-1])
    assert twice.code == 2 and "more than once" in twice.err
    stats = cli("diff", "--root", sample.root, a, sample.ids["hostile"], "--stats", "mean")
    assert stats.code == 2 and "--stats takes a comma list of last, min, max" in stats.err
    regex = cli("diff", "--root", sample.root, a, sample.ids["hostile"], "--lower-better", "(")
    assert regex.code == 2 and "--lower-better: bad regex" in regex.err


def test_direction_override_flag(cli: Callable[..., Any], sample: Any) -> None:
    a, b = sample.ids["sgd-0.1"], sample.ids["sgd-0.01"]
    doc = json.loads(
        cli("diff", "--root", sample.root, a, b, "-f", "json", "--higher-better", "loss").text
    )
    loss = next(m for m in doc["metrics"] if m["key"] == "train/loss" and m["stat"] == "last")
    assert loss["direction"] == "higher"
    assert loss["better"] == [None, False]


def test_env_code_and_data_sections(
    cli: Callable[..., Any], fresh: Any, write_json: Callable[[Path, Any], None]
) -> None:
    st = store.open(fresh.root)
    a, b = (st.run(fresh.ids[n]) for n in ("sgd-0.1", "sgd-0.01"))
    for info, torch, commit, fingerprint in ((a, "2.3.0", "abc", "f1"), (b, "2.4.0", "def", "f2")):
        folder = Path(info.path)
        write_json(folder / paths.ENV_JSON, {"packages": {"numpy": "1.26", "torch": torch}})
        write_json(folder / paths.CODE_JSON, {"git": {"commit": commit, "branch": "main"}})
        write_json(folder / paths.INPUTS_JSON, [{"name": "train", "fingerprint": fingerprint}])
    doc = json.loads(cli("diff", "--root", fresh.root, a.run_id, b.run_id, "-f", "json").text)
    assert doc["env"] == [
        {"key": "packages.torch", "differs": True, "values": ["2.3.0", "2.4.0"], "missing": []}
    ]
    assert [r["key"] for r in doc["code"]] == ["git.commit"]
    assert doc["data"][0]["values"] == ["f1", "f2"]
    assert doc["different_data"] == ["train"]
    text = cli("diff", "--root", fresh.root, a.run_id, b.run_id, "--sections", "data").text
    assert text.startswith("data: 1 of 1 keys differ — trained on different data: train")


def test_datasets_logged_through_the_store_api(cli: Callable[..., Any], tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    ids = []
    for rows in ([1, 2, 3], [1, 2, 3], [1, 2, 4]):
        with store.Run(experiment="e", root=root, capture_code=False) as run:
            run.log_dataset({"x": rows}, name="train")
            run.log({"loss": 0.5})
        ids.append(run.run_id)
    same = json.loads(cli("diff", "--root", root, ids[0], ids[1], "-f", "json").text)
    assert same["data"] == [] and same["different_data"] == []  # "logged" times are ignored
    other = json.loads(cli("diff", "--root", root, ids[0], ids[2], "-f", "json").text)
    assert other["different_data"] == ["train"]
    assert [r["key"] for r in other["data"]] == ["train.dataset.version", "train.fingerprint"]


def test_commands_read_as_the_shell_would_take_them(
    cli: Callable[..., Any], fresh: Any, write_json: Callable[[Path, Any], None]
) -> None:
    st = store.open(fresh.root)
    a, b = (st.run(fresh.ids[n]) for n in ("sgd-0.1", "sgd-0.01"))
    commands = (
        ["train.py", "--lr", "0.1"],
        ["train.py", "--name", "my run", "it's", "x\ny", "\x1b[2Jz", "a;rm -rf /"],
    )
    for info, command in zip((a, b), commands, strict=True):
        write_json(Path(info.path) / paths.CODE_JSON, {"command": command})
    text = cli("diff", "--root", fresh.root, a.run_id, b.run_id, "--sections", "code").text
    line = next(li for li in text.splitlines() if li.startswith("command"))
    assert "train.py --lr 0.1 " in line
    assert line.rstrip().endswith("train.py --name 'my run' 'it'\"'\"'s' 'x␊y' 'z' 'a;rm -rf /'")
    md = cli("diff", "--root", fresh.root, a.run_id, b.run_id, "--sections", "code", "-f", "md")
    assert "| command | train.py --lr 0.1 | train.py --name 'my run'" in md.text
    doc = json.loads(
        cli(
            "diff", "--root", fresh.root, a.run_id, b.run_id, "--sections", "code", "-f", "json"
        ).text
    )
    assert doc["code"][0]["values"] == [commands[0], commands[1]]  # JSON keeps the argv
