"""Crafted `.wandb` files (valid framing and CRCs, hostile contents): imported or reported
with bounded time and memory, never a crash of the import, never a store that reads back
less than was written. Built here with the importer's own descriptor; wandb is not needed."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.store.importers.wandb_log import BLOCK, HEADER, MAGIC
from mmtop.tui.cli import main

pytest.importorskip("google.protobuf")


def _frame(records: list[bytes]) -> bytes:
    """A `.wandb` file holding `records`, framed as wandb-core writes them."""
    out = bytearray(b":W&B" + struct.pack("<HB", MAGIC, 0))
    for data in records:
        first = True
        while True:
            room = BLOCK - len(out) % BLOCK
            if room < HEADER:
                out += b"\0" * room
                continue
            n = min(len(data), room - HEADER)
            last = n == len(data)
            kind = 1 if first and last else 2 if first else 4 if last else 3
            out += struct.pack("<IHB", zlib.crc32(bytes([kind]) + data[:n]), n, kind)
            out += data[:n]
            data, first = data[n:], False
            if last:
                break
    return bytes(out)


def _record() -> Any:
    from mmtop.store.importers.wandb_proto import record_class

    return record_class()()


def _run_record(config: dict[str, str]) -> bytes:
    rec = _record()
    rec.run.run_id, rec.run.display_name, rec.run.project = "abc", "crafted", "p"
    for key, text in config.items():
        item = rec.run.config.update.add()
        item.key, item.value_json = key, text
    return bytes(rec.SerializeToString())


def _write(tmp_path: Path, records: list[bytes]) -> Path:
    folder = tmp_path / "wandb" / "offline-run-20260101_000000-abc"
    folder.mkdir(parents=True)
    (folder / "run-abc.wandb").write_bytes(_frame(records))
    return tmp_path / "wandb"


def test_deep_json_is_a_null_and_every_other_param_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def nest(depth: int) -> str:
        return "[" * depth + "1" + "]" * depth

    history = _record()
    history.history.step.num = 0
    for key, text in (("loss", "0.5"), ("deep", '{"a":' * 5000 + "1" + "}" * 5000)):
        item = history.history.item.add()
        item.key, item.value_json = key, text
    config = {"lr": "0.1", "fits": nest(63), "deep": nest(64), "huge": nest(100_000)}
    src = _write(tmp_path, [_run_record(config), bytes(history.SerializeToString())])

    assert main(["import", "wandb", str(src), "--root", str(tmp_path / "st")]) == 0
    assert "1 imported (1 points)" in capsys.readouterr().out
    st = store.open(tmp_path / "st")
    (run_id,) = st.runs()["run_id"].to_list()
    fits: Any = 1
    for _ in range(63):
        fits = [fits]
    assert st.run(run_id).params == {"lr": 0.1, "fits": fits, "deep": None, "huge": None}
    assert st.history(run_id)["key"].to_list() == ["loss"]


def test_many_summary_updates_and_removals_keep_the_last_word() -> None:
    from mmtop.store.importers.wandb_runs import _Summary

    s = _Summary()
    s.set(("a", "b"), "1")
    s.set(("a", "c"), "2")
    s.set(("a",), "3")  # a value replaces the folder of that name
    s.set(("x", "y", "z"), "4")
    s.set(("x", "y"), "5")
    s.set(("m", "_type"), '"image-file"')
    s.set(("m", "w"), "6")
    s.set(("q", "r"), "7")
    s.remove(("q",))
    s.remove(("nothing", "here"))
    s.set(("a", "d"), "8")  # a folder replaces the value of that name
    assert sorted(s.leaves()) == [(("a", "d"), "8"), (("x", "y"), "5")]


def test_a_file_of_crafted_summary_records_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """40k distinct updates and as many removals of keys never set, and a history row of 20k
    media folders beside 20k values: each took time quadratic in its count (minutes)."""
    summary = _record()
    for i in range(40_000):
        item = summary.summary.update.add()
        item.key, item.value_json = f"k{i}", str(i)
        gone = summary.summary.remove.add()
        gone.nested_key.extend([f"r{i}", "x"])
    row = _record()
    row.history.step.num = 0
    for i in range(20_000):
        media = row.history.item.add()
        media.nested_key.extend([f"m{i}", "_type"])
        media.value_json = '"image-file"'
        value = row.history.item.add()
        value.nested_key.extend([f"v{i}", "x"])
        value.value_json = "1"
    records = [_run_record({}), bytes(summary.SerializeToString())]
    src = _write(tmp_path, [*records, bytes(row.SerializeToString())])

    assert main(["import", "wandb", str(src), "--root", str(tmp_path / "st")]) == 0
    assert "1 imported (20,000 points)" in capsys.readouterr().out
    st = store.open(tmp_path / "st")
    (run_id,) = st.runs()["run_id"].to_list()
    info = st.run(run_id)
    assert len(info.values) == 40_000 and info.values["k39999"] == 39_999
