"""Logging to a store on object storage (`store.Run(root="s3://...")`) against the local S3
server: read back by downloading the prefix and opening it as an ordinary store."""

from __future__ import annotations

import json
import os
import secrets
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import obstore
import pytest
from obstore.store import from_url

from mmtop import store
from mmtop.store.errors import StoreError


def download(url: str, dest: Path) -> Path:
    """Every object under `url` into `dest`, each file's mtime its LastModified (a heartbeat's
    beat), so that the ordinary reader judges the store as it would on a disk."""
    remote = from_url(url)
    for batch in obstore.list(remote, chunk_size=1000):
        for meta in batch:
            key = str(meta["path"])
            target = dest.joinpath(*key.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bytes(obstore.get(remote, key).bytes()))
            stamp = meta["last_modified"].timestamp()
            os.utime(target, (stamp, stamp))
    return dest


def read_back(url: str, dest: Path, **kw: Any) -> store.Store:
    return store.open(download(url, dest), cache=False, **kw)


def points(s: store.Store, run_id: str, key: str) -> tuple[list[int], list[float]]:
    """The steps and values of one key of one run, in step order."""
    hist = s.history(run_id, [key])
    return hist["step"].to_list(), hist["value"].to_list()


def keys(url: str) -> list[str]:
    return sorted(str(m["path"]) for b in obstore.list(from_url(url)) for m in b)


def test_a_run_logged_to_s3_reads_back_exactly(s3_url: str, tmp_path: Path) -> None:
    with store.Run(
        experiment="exp",
        root=s3_url,
        params={"lr": 0.1, "opt": {"name": "sgd"}},
        tags=["a"],
        flush_every=0.1,
        capture_system=False,
    ) as run:
        for step in range(300):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 300}, step=step)
        run.flush()
        run.log_params({"opt": {"momentum": 0.9}})
        run.summary["test/acc"] = 0.5
    assert run.url == f"{s3_url}/exp/{run.run_id}"
    assert not run.path.exists()  # the staging folder goes once everything is pushed

    s = read_back(s3_url, tmp_path / "copy")
    info = s.run(run.run_id)
    assert (info.status, info.tags) == ("finished", ["a"])
    assert info.params == {"lr": 0.1, "opt": {"name": "sgd", "momentum": 0.9}}
    assert info.values == {"test/acc": 0.5}
    assert points(s, run.run_id, "loss") == (list(range(300)), [1.0 / (i + 1) for i in range(300)])
    assert s.history(run.run_id).height == 600
    assert (tmp_path / "copy" / "mmtop-store.json").is_file()


def test_credentials_are_never_written(
    s3_env: dict[str, str], s3_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id, secret = f"AKIA{secrets.token_hex(8).upper()}", secrets.token_hex(20)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    with store.Run(experiment="exp", root=s3_url, capture_system=False) as run:
        run.log({"x": 1.0})
        staged = [p.read_bytes() for p in run.path.rglob("*") if p.is_file()]
    copy = download(s3_url, tmp_path / "copy")
    written = staged + [p.read_bytes() for p in copy.rglob("*") if p.is_file()]
    assert len(written) > 5
    port = s3_env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1].encode()
    for data in written:
        assert key_id.encode() not in data and secret.encode() not in data
        assert b"127.0.0.1:" + port not in data


def test_mmtop_dir_names_an_s3_store(
    s3_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MMTOP_DIR", s3_url)
    with store.Run(experiment="env", capture_system=False, capture_code=False) as run:
        run.log({"x": 2.0})
    assert f"env/{run.run_id}/run.json" in keys(s3_url)


def test_resuming_a_run_that_is_not_there_names_the_s3_store(s3_url: str) -> None:
    with pytest.raises(ValueError, match=f"no such run under {s3_url}$"):
        store.Run(root=s3_url, run_id="absent", resume=True, capture_system=False)


def test_other_urls_and_bad_s3_urls_are_refused_with_one_line(tmp_path: Path) -> None:
    for root, words in (("gs://b/p", "object storage"), ("s3://", "s3://bucket")):
        with pytest.raises(StoreError, match=words) as err:
            store.Run(root=root, capture_system=False)
        assert "\n" not in str(err.value)


OWN_RUN = """
import sys
from mmtop import store
url, me, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with store.Run(experiment="many", name=me, root=url, flush_every=0.05,
               capture_system=False, capture_env=False, capture_code=False) as run:
    for step in range(n):
        run.log({"x": float(step), "w": float(len(me))}, step=step)
        if step % 40 == 39:
            run.flush()
print(run.run_id)
"""

RANK = """
import sys
from mmtop import store
url, rank, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with store.Run(experiment="many", run_id="shared-run", world_size=3, rank=rank, root=url,
               flush_every=0.05, capture_system=False, capture_env=False,
               capture_code=False) as run:
    for step in range(n):
        run.log({f"r{rank}": float(step)}, step=step)
        if step % 40 == 39:
            run.flush()
"""


def test_eight_processes_and_a_shared_run_log_to_one_store_at_once(
    s3_url: str, tmp_path: Path, spawn: Any
) -> None:
    n = 200
    own = [spawn(OWN_RUN, s3_url, f"p{i}", str(n)) for i in range(8)]
    ranks = [spawn(RANK, s3_url, str(r), str(n)) for r in range(3)]
    ids = []
    for proc in own + ranks:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        ids.append(out.strip())

    s = read_back(s3_url, tmp_path / "copy")
    runs = s.runs()
    assert runs.height == 9
    assert set(runs["status"]) == {"finished"}
    for run_id in ids[:8]:
        # Exact: nothing lost, nothing twice.
        assert points(s, run_id, "x") == (list(range(n)), [float(i) for i in range(n)])
    for rank in range(3):
        assert points(s, "shared-run", f"r{rank}") == (list(range(n)), [float(i) for i in range(n)])
    meta = json.loads((tmp_path / "copy" / "many" / "shared-run" / "run.json").read_text())
    assert sorted(w["rank"] for w in meta["writers"]) == [0, 1, 2]


KILLED = """
import sys, time
from mmtop import store
url = sys.argv[1]
run = store.Run(experiment="k", run_id="victim", root=url, flush_every=3600,
                capture_system=False, capture_env=False, capture_code=False)
for step in range(150):
    run.log({"x": float(step)})
run.flush()
for step in range(150, 170):
    run.log({"x": float(step)})  # never flushed: lost to kill -9
print("flushed", flush=True)
time.sleep(600)
"""


def test_a_killed_writer_reads_crashed_and_resumes_keeping_every_flushed_point(
    s3_url: str, tmp_path: Path, spawn: Any, wait_until: Any
) -> None:
    proc = spawn(KILLED, s3_url)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "flushed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    copies = iter(range(1000))

    def status() -> str:
        return str(read_back(s3_url, tmp_path / f"c{next(copies)}").run("victim").status)

    # Running until the dead writer's heartbeat is a few seconds old (docs/FORMAT.md).
    wait_until(lambda: status() == "crashed", timeout=30, what="the killed run to read crashed")
    s = read_back(s3_url, tmp_path / "before")
    assert points(s, "victim", "x") == (list(range(150)), [float(i) for i in range(150)])

    with store.Run(root=s3_url, run_id="victim", resume=True, capture_system=False) as run:
        run.log({"x": 150.0})
    s = read_back(s3_url, tmp_path / "after")
    info = s.run("victim")
    assert info.status == "finished"
    assert points(s, "victim", "x") == (list(range(151)), [float(i) for i in range(151)])
    meta = json.loads((tmp_path / "after" / "k" / "victim" / "run.json").read_text())
    assert len(meta["resumed"]) == 1
    assert [w["status"] for w in meta["writers"]] == ["running", "finished"]


CREATE = """
import os, sys, time
from mmtop import store
url, go, end = sys.argv[1:4]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
run = store.Run(experiment="race", run_id="one-id", root=url, params={"by": os.getpid()},
                capture_system=False, capture_env=False, capture_code=False)
print(int(run._owner), flush=True)
while not os.path.exists(end):  # the first to finish would end the run for a late joiner
    time.sleep(0.01)
run.finish()
"""


def test_processes_racing_to_create_one_run_id_never_both_win(
    s3_url: str, tmp_path: Path, spawn: Any
) -> None:
    go, end = tmp_path / "go", tmp_path / "end"
    procs = [spawn(CREATE, s3_url, str(go), str(end)) for _ in range(4)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    go.touch()
    owners = []
    for proc in procs:
        assert proc.stdout is not None
        owners.append(proc.stdout.readline().strip())
    end.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert sorted(owners) == ["0", "0", "0", "1"]
    meta = json.loads(
        (download(s3_url, tmp_path / "copy") / "race" / "one-id" / "run.json").read_text()
    )
    # Every racer is recorded in the one run.json: none overwrote the winner's.
    assert len(meta["writers"]) == 4
    assert {w["status"] for w in meta["writers"]} == {"finished"}
    assert meta["status"] == "finished"
    created = datetime.fromisoformat(meta["created"])
    assert all(datetime.fromisoformat(w["started"]) >= created for w in meta["writers"])


EDITOR = """
import sys
from mmtop.store.s3 import edits
url, me = sys.argv[1], sys.argv[2]
for i in range(4):
    edits.add_tags(url, "edited", [f"{me}-{i}"])
    edits.comment(url, "edited", f"{me} says {i}", author=me)
"""


def test_tags_and_comments_from_many_processes_on_a_live_run_are_all_kept(
    s3_url: str, tmp_path: Path, spawn: Any
) -> None:
    from mmtop.store.s3 import edits

    with store.Run(
        experiment="e", run_id="edited", root=s3_url, tags=["first"], capture_system=False
    ) as run:
        editors = [spawn(EDITOR, s3_url, f"p{i}") for i in range(3)]
        for step in range(50):  # the writer's own run.json updates race the edits too
            run.log({"x": float(step)})
        for proc in editors:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        run.note("a note from the run")
    assert edits.remove_tags(s3_url, "edited", ["p0-0"])[0] == "first"
    edits.note(s3_url, "edited", "a note from outside")

    s = read_back(s3_url, tmp_path / "copy")
    info = s.run("edited")
    assert info.status == "finished"
    assert sorted(info.tags) == sorted(
        ["first"] + [f"p{p}-{i}" for p in range(3) for i in range(4) if (p, i) != (0, 0)]
    )
    lines = (tmp_path / "copy" / "e" / "edited" / "comments.jsonl").read_text().splitlines()
    texts = sorted(json.loads(line)["text"] for line in lines)
    assert texts == sorted(f"p{p} says {i}" for p in range(3) for i in range(4))
    notes_md = (tmp_path / "copy" / "e" / "edited" / "notes.md").read_text()
    assert "a note from the run" in notes_md and "a note from outside" in notes_md


def test_an_edit_of_a_run_that_is_not_there_is_one_line(s3_url: str) -> None:
    from mmtop.store.s3 import edits

    with pytest.raises(store.RunNotFoundError, match="no run 'nope'") as err:
        edits.add_tags(s3_url, "nope", ["x"])
    assert "\n" not in str(err.value)


REGISTER = """
import os, sys, time
from mmtop import store
url, go, weights = sys.argv[1:4]
run = store.Run(experiment="reg", root=url, capture_system=False, capture_env=False,
                capture_code=False)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
version = run.log_model(weights, "m", aliases=["champion"])
run.finish()
print(version.version, flush=True)
"""


def test_processes_racing_to_register_a_model_get_distinct_versions(
    s3_url: str, tmp_path: Path, spawn: Any
) -> None:
    go = tmp_path / "go"
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\0" * 1000)
    procs = [spawn(REGISTER, s3_url, str(go), str(weights)) for _ in range(4)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    go.touch()
    numbers = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        numbers.append(int(out.strip()))
    assert sorted(numbers) == [1, 2, 3, 4]

    s = read_back(s3_url, tmp_path / "copy")
    assert sorted(s.models("m")["version"].to_list()) == [1, 2, 3, 4]
    history = s.model_history("m")
    assert history["seq"].to_list() == list(range(1, history.height + 1))
    registered = history.filter(history["action"] == "registered")["version"].to_list()
    assert sorted(registered) == [1, 2, 3, 4]
    # The alias ends on whichever version moved it last, and every move is recorded once.
    assert s.model("m@champion").version in (1, 2, 3, 4)
    for number in range(1, 5):
        assert s.model(f"m/{number}").files


def test_deploy_through_an_attached_copy_and_log_predictions_to_s3(
    s3_url: str, tmp_path: Path
) -> None:
    import numpy as np

    from mmtop.store.fsio import detach_mirror
    from mmtop.store.monitoring import reader
    from mmtop.store.s3 import edits

    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 100)
    with store.Run("clf", root=s3_url, capture_system=False, capture_code=False) as run:
        run.log_model(str(weights), "clf")

    copy = download(s3_url, tmp_path / "copy")
    pusher = edits.attach(copy, s3_url)
    try:
        assert store.open(copy).deploy("clf/1", "prod") is not None
    finally:
        detach_mirror(pusher.staging)
    assert not any(k.startswith(".mmtop/") for k in keys(s3_url))  # caches stay local

    x = np.arange(300.0).reshape(100, 3)
    with store.monitor("clf", "prod", root=s3_url, flush_every=0.05) as mon:
        assert mon.version == 1
        mon.log(x[:50], ["a"] * 50, ids=range(50))
        mon.flush()
        mon.log(x[50:], ["b"] * 50, ids=range(50, 100))
        mon.log_labels(np.arange(10), ["a"] * 10)
    after = download(s3_url, tmp_path / "after")
    df = reader.predictions(after, "clf", "prod")
    assert df["id"].to_list() == [str(i) for i in range(100)]
    assert df["prediction"].to_list() == ["a"] * 50 + ["b"] * 50
    assert reader.labels(after, "clf", "prod").height == 10
    assert store.open(after).deployed("clf") == {"prod": 1}


def test_an_unreachable_server_is_one_line_and_leaves_no_staging_folder(
    s3_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import socket
    import tempfile

    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where staging folders go
    with pytest.raises(store.StoreWriteError) as err:
        store.Run(root=s3_url, capture_system=False)
    assert "\n" not in str(err.value) and s3_url in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_registry_writes_through_an_opened_s3_store_and_the_cli(
    s3_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from mmtop.tui.cli import main

    monkeypatch.setenv("MMTOP_CACHE", str(tmp_path / "cache"))
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 100)
    for _ in range(2):
        with store.Run("reg", root=s3_url, capture_system=False, capture_code=False) as run:
            run.log_model(str(weights), "m")

    st = store.open(s3_url)
    assert st.set_alias("m", "champion", 1) is not None
    assert st.deploy("m@champion", "prod") is not None
    assert st.deployed("m") == {"prod": 1}  # the mirror is refreshed after the write
    assert main(["models", "deploy", "m/2", "--target", "prod", "--root", s3_url]) == 0
    assert main(["models", "alias", "m", "champion", "2", "--root", s3_url]) == 0
    capsys.readouterr()

    s = read_back(s3_url, tmp_path / "copy")
    assert s.deployed("m") == {"prod": 2}
    assert s.model("m@champion").version == 2
    history = s.model_history("m")
    assert history["seq"].to_list() == list(range(1, history.height + 1))
    assert history["action"].to_list().count("registered") == 2


def test_writers_fold_the_run_index_on_s3_when_it_is_due(
    s3_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmtop.store import run_index

    monkeypatch.setenv("MMTOP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(run_index, "COMPACT_AT", 3)  # start + finish entries of two runs
    ids = []
    for _ in range(2):
        with store.Run("idx", root=s3_url, capture_system=False, capture_code=False) as run:
            run.log({"x": 1.0})
        ids.append(run.run_id)
    index = [k for k in keys(s3_url) if k.startswith("_index/")]
    assert len(index) == 1 and index[0].endswith("-2.parquet"), index  # the log folded away
    s = store.open(s3_url)
    assert sorted(s.runs()["run_id"].to_list()) == sorted(ids)
