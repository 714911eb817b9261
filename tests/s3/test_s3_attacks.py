"""Hostile input on the object-storage paths: credentials that must not reach an error,
objects the reader must not copy whole, keys that must not lead out of a folder."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mmtop import store
from mmtop.store.errors import StoreError


def _closed_port() -> int:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_endpoint_password_never_reaches_an_error(
    s3_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = "pw-8f2c91d0e7"
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://minio:{secret}@127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("MMTOP_CACHE", str(tmp_path / "cache"))
    with pytest.raises(store.StoreWriteError) as wrote:
        store.Run(root=s3_url, capture_system=False)
    with pytest.raises(StoreError) as read:
        store.open(s3_url)
    for err in (wrote.value, read.value):
        assert "127.0.0.1" in str(err) and "***@" in str(err)
        assert secret not in str(err) and "minio" not in str(err)


def test_an_oversized_json_object_is_not_copied_whole_and_its_run_is_left_out(
    s3_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import obstore
    from obstore.store import from_url

    from mmtop.store.s3 import mirror

    cap = 256 << 10
    monkeypatch.setattr(mirror, "MAX_JSON", cap)
    monkeypatch.setenv("MMTOP_CACHE", str(tmp_path / "cache"))
    with store.Run(experiment="exp", root=s3_url, name="good", capture_system=False) as run:
        run.log({"x": 1.0})
    huge = b'{"run_id": "evil", "name": "' + b"x" * (3 << 20) + b'"}'
    obstore.put(from_url(s3_url), "exp/evil/run.json", huge)

    st = store.open(s3_url)
    assert st.runs()["run_id"].to_list() == [run.run_id]
    copied = list((tmp_path / "cache").rglob("evil/run.json"))
    assert len(copied) == 1 and copied[0].stat().st_size == cap + 1


def test_a_killed_writers_staging_folder_is_swept_by_the_next_writer(
    s3_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import tempfile

    from mmtop.store.s3.remote_run import OWNER_LOCK

    staging = tmp_path / "tmp"
    staging.mkdir()
    monkeypatch.setenv("TMPDIR", str(staging))
    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom mmtop import store\n"
            f"run = store.Run(root={s3_url!r}, capture_system=False)\n"
            "run.log({'x': 1.0}); run.flush(); print(run.root, flush=True); time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    dead = Path(child.stdout.readline().strip())
    child.send_signal(signal.SIGKILL)
    child.wait()
    live = store.Run(root=s3_url, capture_system=False)  # alive, holding its folder
    for folder in (dead, live.root):
        os.utime(folder / OWNER_LOCK, (0, 0))  # both long past the grace period
    assert dead.is_dir()

    with store.Run(root=s3_url, capture_system=False) as third:
        third.log({"x": 2.0})
    assert not dead.exists() and live.root.is_dir()
    live.finish()
    assert list(staging.iterdir()) == []


def test_the_mirror_never_writes_or_deletes_through_a_link_planted_in_its_cache(
    s3_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mmtop.store.s3.mirror import Mirror

    cache = tmp_path / "cache"
    monkeypatch.setenv("MMTOP_CACHE", str(cache))
    with store.Run(experiment="exp", root=s3_url, capture_system=False) as run:
        run.log({"x": 1.0})
    st = store.open(s3_url)
    assert st.runs()["run_id"].to_list() == [run.run_id]
    tree = Mirror(s3_url, cache).tree
    # Someone who can write to the cache folder swaps the experiment folder for a link to
    # their target, holding a file where the run's run.json would go.
    outside = tmp_path / "victim"
    (outside / run.run_id).mkdir(parents=True)
    (outside / run.run_id / "run.json").write_text("theirs")
    real = tree / "exp"
    real.rename(tmp_path / "was")
    real.symlink_to(outside)
    with store.Run(experiment="exp", root=s3_url, capture_system=False) as second:
        second.log({"x": 2.0})
    import obstore
    from obstore.store import from_url

    obstore.delete(from_url(s3_url), f"exp/{run.run_id}/run.json")
    store.open(s3_url).runs()
    assert sorted(p.name for p in outside.rglob("*")) == sorted(["run.json", run.run_id])
    assert (outside / run.run_id / "run.json").read_text() == "theirs"


def test_resuming_a_run_with_a_big_object_streams_it_to_the_staging_folder(
    s3_url: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    import obstore
    from obstore.store import from_url

    with store.Run(experiment="exp", root=s3_url, capture_system=False) as run:
        run.log({"x": 1.0})
    size = 96 << 20
    obstore.put(from_url(s3_url), f"exp/{run.run_id}/artifacts/model.bin", b"\1" * size)
    # Peak resident memory over the resume alone: clear_refs 5 resets the peak (Linux).
    script = (
        "import re\nfrom mmtop import store\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', status)[1]) * 1024\n"
        "def now():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(re.search(r'VmRSS:\\s+(\\d+)', status)[1]) * 1024\n"
        f"store.Run(root={s3_url!r}, capture_system=False).finish()  # imports, warmed\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "before = now()\n"
        f"run = store.Run(root={s3_url!r}, run_id={run.run_id!r}, resume=True, "
        "capture_system=False)\n"
        "grown = peak() - before\n"
        "pulled = (run.path / 'artifacts' / 'model.bin').stat().st_size\n"
        "run.finish()\nprint(grown, pulled)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    grown, pulled = int(out[0]), int(out[1])
    assert pulled == size
    assert grown < size // 4  # the object never whole in memory (it was, twice)


def test_of_two_writers_that_find_a_fold_claim_stale_at_once_one_takes_it(
    s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmtop.store import run_index
    from mmtop.store.objstore import ObjectRoot
    from mmtop.store.s3.index_push import CLAIM_KEY, take_over

    remote = ObjectRoot(s3_url)
    assert remote.create_once(CLAIM_KEY, b"dead writer")
    stale = remote.get(CLAIM_KEY)
    monkeypatch.setattr(run_index, "CLAIM_STALE_AFTER", -1.0)  # every claim is stale
    assert take_over(remote, b"first")
    # The second read the dead writer's claim before the first replaced it.
    second = ObjectRoot(s3_url)
    monkeypatch.setattr(second, "get", lambda key: stale)
    assert not take_over(second, b"second")
    found = remote.get(CLAIM_KEY)
    assert found is not None and found.data == b"first"
