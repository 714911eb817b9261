"""Prediction logging: buffered parts, labels, bad input, and serving processes killed."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mmtop import store
from mmtop.store.monitoring import layout, reader

from .conftest import FEATURES, Data


def _deployed(root: Path, data: Data) -> None:
    with store.Run("clf", root=root, capture_system=False, capture_code=False) as run:
        run.log_model(data.model, "clf", baseline=data.x_val, baseline_y=data.y_val)
    store.open(root).deploy("clf/1", "prod")


def test_log_flush_read_back(tmp_path: Path, data: Data) -> None:
    root = tmp_path / "mmruns"
    _deployed(root, data)
    x = data.x_pool[:300]
    pred = data.model.predict(x.to_numpy())
    proba = data.model.predict_proba(x.to_numpy())
    t0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    with store.monitor("clf", "prod", root=root) as mon:
        assert mon.version == 1
        mon.log(x[:100], pred[:100], probabilities=proba[:100], ids=range(100), time=t0)
        mon.log(
            x[100:].to_pandas(),
            pred[100:],
            ids=[str(i) for i in range(100, 300)],
            latency_ms=np.full(200, 2.5),
        )
        mon.log_labels(np.arange(50), data.y_pool[:50])
    df = reader.predictions(root, "clf", "prod")
    assert df.height == 300
    assert df["prediction"].to_list() == [str(p) for p in pred]
    assert df["id"].to_list() == [str(i) for i in range(300)]
    assert df["version"].unique().to_list() == [1]
    assert [f"x.{f}" for f in FEATURES] == [c for c in df.columns if c.startswith("x.")]
    np.testing.assert_array_equal(df["x.f2"].to_numpy(), x["f2"].to_numpy())
    assert df["proba.0"][:100].to_list() == proba[:100, 0].tolist()  # named by the classes
    assert df["proba.1"][100:].null_count() == 200
    assert df["time"][0] == t0 and df["latency_ms"][299] == 2.5
    # The report reads every column but the class probabilities.
    bare = reader.predictions(root, "clf", "prod", probabilities=False)
    assert bare.columns == [c for c in df.columns if not c.startswith("proba.")]
    assert "proba.0" in df.columns and "x.f5" in bare.columns
    assert bare.equals(df.drop("proba.0", "proba.1"))
    labels = reader.labels(root, "clf", "prod")
    assert labels.height == 50 and labels["label"].to_list() == [str(v) for v in data.y_pool[:50]]
    files = sorted(p.name for p in layout.predictions_dir(root, "clf", "prod").iterdir())
    assert len([f for f in files if f.endswith(".parquet")]) == 1  # one flush, one part
    assert any(f.endswith(".sha256") for f in files)


def test_bad_calls_fail_in_the_caller_and_keep_what_was_logged(tmp_path: Path, data: Data) -> None:
    root = tmp_path / "mmruns"
    _deployed(root, data)
    x = data.x_pool[:10].to_numpy()
    with store.monitor("clf", "prod", root=root) as mon:
        mon.log(x, np.zeros(10, dtype=int))
        with pytest.raises(ValueError, match="10 input rows but 9 predictions"):
            mon.log(x, np.zeros(9, dtype=int))
        with pytest.raises(ValueError, match="10 input rows but 3 ids"):
            mon.log(x, np.zeros(10, dtype=int), ids=[1, 2, 3])
        with pytest.raises(ValueError, match="latency_ms must be a number or 10 numbers"):
            mon.log(x, np.zeros(10, dtype=int), latency_ms="fast")
        with pytest.raises(ValueError, match="2 ids but 1 labels"):
            mon.log_labels([1, 2], [0])
        with pytest.raises(TypeError, match="cannot read inputs from object"):
            mon.log(object(), [1])
    assert reader.predictions(root, "clf", "prod").height == 10
    with pytest.raises(RuntimeError, match="is closed"):
        mon.log(x, np.zeros(10, dtype=int))
    with pytest.raises(ValueError, match="nothing of 'clf' is deployed at 'eu'"):
        store.monitor("clf", "eu", root=root)
    assert store.monitor("clf", "eu", root=root, version=1).version == 1


SERVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from mmtop import store

    root, worker = sys.argv[1], int(sys.argv[2])
    mon = store.monitor("clf", "prod", root=root, flush_every=3600)
    x = np.random.default_rng(worker).normal(size=(50, 6))
    for batch in range(int(sys.argv[3])):
        ids = [f"{worker}-{batch}-{i}" for i in range(50)]
        mon.log(x, np.zeros(50, dtype=int), ids=ids, latency_ms=1.0)
        mon.flush()
        print(batch, flush=True)
    mon.close()
    print("done", flush=True)
    """
)


def test_four_serving_processes_one_killed(tmp_path: Path, data: Data) -> None:
    root = tmp_path / "mmruns"
    _deployed(root, data)
    script = tmp_path / "serve.py"
    script.write_text(SERVER)
    env = {k: v for k, v in os.environ.items() if k != "MMTOP_DIR"}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(root), str(w), "40" if w else "100000"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(4)
    ]
    victim = procs[0]
    assert victim.stdout is not None
    last = -1
    for line in victim.stdout:  # let it flush a few batches, then kill it mid-stream
        last = int(line)
        if last >= 5:
            break
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    for p in procs[1:]:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and out.endswith("done\n")
    df = reader.predictions(root, "clf", "prod")
    assert df["id"].n_unique() == df.height  # nothing twice
    per_worker = df.group_by(pl.col("id").str.split("-").list.first()).len()
    counts = dict(per_worker.iter_rows())
    assert {w: counts[w] for w in ("1", "2", "3")} == {"1": 2000, "2": 2000, "3": 2000}
    # the killed one: every batch it reported flushed, at most the one it was flushing, whole
    assert counts["0"] % 50 == 0 and (last + 1) * 50 <= counts["0"]
    flushed = df.filter(pl.col("id").str.starts_with("0-"))["id"].str.split("-").list.get(1)
    batches = sorted(set(flushed.cast(pl.Int64).to_list()))
    assert batches == list(range(len(batches)))
