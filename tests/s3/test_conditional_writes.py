"""Create-once and compare-and-swap on a local S3 server, raced by real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mmtop import store
from mmtop.store.objstore import ObjectRoot

RACE_CREATE = """
import sys
from mmtop.store.objstore import ObjectRoot
root = ObjectRoot(sys.argv[1])
print(int(root.create_once("exp/20270101T000000Z-aaaaaaaaaaaa/run.json", sys.argv[2].encode())))
"""

RACE_SWAP = """
import sys
from mmtop.store.objstore import ObjectRoot
root = ObjectRoot(sys.argv[1])
me = sys.argv[2]
for i in range(int(sys.argv[3])):
    root.update_json(
        "exp/run/run.json",
        lambda doc: {"count": (doc or {}).get("count", 0) + 1,
                     "tags": [*(doc or {}).get("tags", []), f"{me}-{i}"]},
    )
"""


def _race(script: str, url: str, env: dict[str, str], *args: list[str]) -> list[str]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, url, *a],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in args
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(out.strip())
    return outs


def test_eight_processes_racing_to_create_one_run_never_both_win(
    s3_url: str, s3_env: dict[str, str]
) -> None:
    won = _race(RACE_CREATE, s3_url, s3_env, *[[f"writer{i}"] for i in range(8)])
    assert sorted(won) == ["0"] * 7 + ["1"]
    stored = ObjectRoot(s3_url).get("exp/20270101T000000Z-aaaaaaaaaaaa/run.json")
    assert stored is not None
    assert stored.data.decode() == f"writer{won.index('1')}"


def test_compare_and_swap_loses_no_update_of_eight_processes(
    s3_url: str, s3_env: dict[str, str]
) -> None:
    _race(RACE_SWAP, s3_url, s3_env, *[[f"p{i}", "12"] for i in range(8)])
    stored = ObjectRoot(s3_url).get("exp/run/run.json")
    assert stored is not None
    doc = json.loads(stored.data)
    assert doc["count"] == 8 * 12
    assert sorted(doc["tags"]) == sorted(f"p{i}-{j}" for i in range(8) for j in range(12))


def test_a_stale_etag_is_refused_and_nothing_is_overwritten(s3_url: str) -> None:
    root = ObjectRoot(s3_url)
    assert root.get("a/run.json") is None
    assert root.create_once("a/run.json", b'{"v": 1}')
    first = root.get("a/run.json")
    assert first is not None
    assert root.swap("a/run.json", b'{"v": 2}', first.etag)
    assert not root.swap("a/run.json", b'{"v": 3}', first.etag)  # someone wrote since
    assert not root.swap("a/run.json", b'{"v": 4}', None)  # exists: not created again
    now = root.get("a/run.json")
    assert now is not None and now.data == b'{"v": 2}'
    assert root.list() == (["a"], [])
    assert root.list("a") == ([], ["a/run.json"])


@pytest.mark.parametrize("url", ["s3://", "gs://bucket/x", "s3:/bucket"])
def test_other_urls_are_refused_with_one_line(url: str) -> None:
    with pytest.raises(store.StoreError) as err:
        ObjectRoot(url)
    assert "\n" not in str(err.value)
