"""The Models screen's detail of a version whose run used a dataset."""

from __future__ import annotations

from pathlib import Path

from mmtop import store
from mmtop.store.registry.events import EventLog
from mmtop.tui.models_view import detail


def test_detail_lists_the_dataset_and_still_names_the_version(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,2\n3,4\n")
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"\x01")
    root = tmp_path / "runs"
    with store.Run("digits", root=root) as run:
        used = run.log_dataset(data, "train")
        run_id = run.run_id
    version = store.open(root).register_model("clf", run=run_id, path=weights)
    st = store.open(root)
    text = detail(st.model(version.ref), st.model_history("clf")).plain
    assert f"  data       train  train@1  {used['fingerprint']}\n" in text
    assert "  version    clf/1\n" in text
    assert len(EventLog(root, "clf").read()) == 1
