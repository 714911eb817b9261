"""Deployments: events in the model's write-once history, replayed; rollback; the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mmtop import store
from mmtop.store.folders import ensure_store

from .conftest import Data, Result


def _registered(root: Path, data: Data, n: int = 3) -> store.Store:
    ensure_store(root)
    s = store.open(root)
    for _ in range(n):
        s.register_model("digits-clf", data.model)
    return store.open(root)


def test_deploy_rollback_and_timeline_replay(tmp_path: Path, data: Data) -> None:
    s = _registered(tmp_path / "mmruns", data)
    first = s.deploy("digits-clf/1", "prod", note="first release")
    assert first is not None and (first["from"], first["to"]) == (None, 1)
    assert s.deploy("digits-clf/1", "prod") is None  # already serving: nothing recorded
    s.deploy("digits-clf/2", "eu-canary")
    s.deploy("digits-clf@eu-canary", "prod")
    before_v3 = dt.datetime.now(dt.UTC)
    s.deploy("digits-clf/3", "prod")
    assert s.deployed("digits-clf") == {"prod": 3, "eu-canary": 2}
    back = s.rollback("digits-clf", "prod", note="v3 drifts")
    assert (back["from"], back["to"], back["rollback"]) == (3, 2, True)
    assert s.deployed("digits-clf") == {"prod": 2, "eu-canary": 2}
    assert s.deployed("digits-clf", at=before_v3) == {"prod": 2, "eu-canary": 2}
    assert s.model("digits-clf@prod").version == 2
    assert s.model("digits-clf/2").deployed == ("eu-canary", "prod")

    timeline = s.deployments("digits-clf")
    assert timeline.select("target", "version", "from", "rollback", "current").rows() == [
        ("prod", 1, None, False, False),
        ("eu-canary", 2, None, False, True),
        ("prod", 2, 1, False, False),
        ("prod", 3, 2, False, False),
        ("prod", 2, 3, True, True),
    ]
    assert timeline["note"].to_list() == ["first release", None, None, None, "v3 drifts"]
    history = s.model_history("digits-clf").filter(action="deployed")
    assert history["target"].to_list() == ["prod", "eu-canary", "prod", "prod", "prod"]
    # a fresh reader replays the same files
    assert store.open(tmp_path / "mmruns").deployed("digits-clf") == {"prod": 2, "eu-canary": 2}


def test_deploy_refuses_bad_input(tmp_path: Path, data: Data) -> None:
    s = _registered(tmp_path / "mmruns", data, 1)
    with pytest.raises(ValueError, match="bad deployment target 'pr/od'"):
        s.deploy("digits-clf/1", "pr/od")
    with pytest.raises(store.ModelNotFoundError):
        s.deploy("digits-clf/9", "prod")
    with pytest.raises(ValueError, match="nothing is deployed at 'prod'"):
        s.rollback("digits-clf", "prod")
    s.deploy("digits-clf/1", "prod")
    with pytest.raises(ValueError, match="version 1 is the first at 'prod'"):
        s.rollback("digits-clf", "prod")
    assert s.deployments("digits-clf").height == 1


def test_cli_deploy_rollback_deployments(
    tmp_path: Path, data: Data, cli: Callable[..., Result]
) -> None:
    root = tmp_path / "mmruns"
    _registered(root, data, 2)
    r = cli("models", "deploy", "digits-clf/1", "--target", "prod", "--root", root)
    assert (r.code, r.out) == (0, "digits-clf at prod: (none) -> 1 (event 3)\n")
    r = cli("models", "deploy", "digits-clf/2", "-t", "prod", "--note", "v2", "--root", root)
    assert r.out == "digits-clf at prod: 1 -> 2 (event 4)\n"
    r = cli("models", "rollback", "digits-clf", "-t", "prod", "--root", root)
    assert r.out == "digits-clf at prod: 2 -> 1 (event 5)\n"
    rows = json.loads(cli("models", "deployments", "digits-clf", "--root", root, "-f", "json").out)
    assert [(x["version"], x["from"], x["rollback"], x["note"]) for x in rows] == [
        (1, None, False, None),
        (2, 1, False, "v2"),
        (1, 2, True, None),
    ]
    again = cli("models", "rollback", "digits-clf", "-t", "eu", "--root", root)
    assert again.code == 1 and "nothing is deployed at 'eu'" in again.err
    bad = cli("models", "deploy", "digits-clf/1", "-t", "../x", "--root", root)
    assert bad.code == 2 and "bad deployment target" in bad.err
    missing = cli("models", "deployments", "nope", "--root", root)
    assert missing.code == 1 and "no model named 'nope'" in missing.err


def test_undeploy_ends_a_target_and_replays(tmp_path: Path, data: Data) -> None:
    root = tmp_path / "mmruns"
    s = _registered(root, data, 2)
    s.deploy("digits-clf/1", "prod")
    s.deploy("digits-clf/2", "eu-canary")
    serving = dt.datetime.now(dt.UTC)
    ended = s.undeploy("digits-clf", "prod", note="moved to the v2 service")
    assert (ended["action"], ended["target"], ended["from"], ended["to"]) == (
        "deployed",
        "prod",
        1,
        None,
    )
    assert s.deployed("digits-clf") == {"eu-canary": 2}
    assert s.deployed("digits-clf", at=serving) == {"prod": 1, "eu-canary": 2}
    assert s.model("digits-clf@prod", at=serving).version == 1
    with pytest.raises(KeyError, match="prod"):
        s.model("digits-clf@prod")
    assert s.model("digits-clf/1").deployed == ()
    with pytest.raises(ValueError, match="nothing is deployed at 'prod'"):
        s.undeploy("digits-clf", "prod")
    with pytest.raises(ValueError, match="nothing of 'digits-clf' is deployed at 'prod'"):
        store.monitor("digits-clf", "prod", root=root)
    with pytest.raises(ValueError, match="nothing is deployed at 'prod'"):
        s.rollback("digits-clf", "prod")
    s.deploy("digits-clf/2", "prod")  # serving again: replaces nothing
    timeline = s.deployments("digits-clf")
    assert timeline.select("target", "version", "from", "undeployed", "current").rows() == [
        ("prod", 1, None, False, False),
        ("eu-canary", 2, None, False, True),
        ("prod", None, 1, True, False),
        ("prod", 2, None, False, True),
    ]
    assert timeline["note"][2] == "moved to the v2 service"
    history = s.model_history("digits-clf").filter(action="deployed")
    assert history["to"].to_list()[2] is None
    assert store.open(root).deployed("digits-clf") == {"eu-canary": 2, "prod": 2}
    story = s.monitoring("digits-clf", "prod").story
    assert [line.split(" ")[:4] for line in story] == [
        ["v1", "(prod", "since", story[0].split(" ")[3]],
        ["v1", "undeployed", "from", "prod"],
        ["v2", "(prod", "since", story[2].split(" ")[3]],
    ]
    assert story[1].endswith(f" by {ended['user']}: moved to the v2 service")


def test_retire_undeploys_everywhere_and_deprecates(tmp_path: Path, data: Data) -> None:
    s = _registered(tmp_path / "mmruns", data, 2)
    s.deploy("digits-clf/1", "prod")
    s.deploy("digits-clf/1", "batch-nightly")
    s.deploy("digits-clf/2", "eu-canary")
    events = s.retire("digits-clf@prod", reason="superseded by v2")
    assert [(e["action"], e.get("target"), e["from"], e["to"]) for e in events] == [
        ("deployed", "batch-nightly", 1, None),
        ("deployed", "prod", 1, None),
        ("deprecated", None, False, True),
    ]
    assert {e.get("note") for e in events[:2]} == {"superseded by v2"}
    assert s.deployed("digits-clf") == {"eu-canary": 2}
    assert s.model("digits-clf/1").deprecated == "superseded by v2"
    assert s.models("digits-clf")["deprecated"].to_list() == [True, False]
    assert s.retire("digits-clf/1") == []  # serves nowhere, deprecated already
    second = s.retire("digits-clf/2")
    assert [e.get("note") for e in second] == ["retired", None]
    assert s.deployed("digits-clf") == {}


def test_cli_undeploy_retire_and_monitor_an_ended_target(
    tmp_path: Path, data: Data, cli: Callable[..., Result]
) -> None:
    root = tmp_path / "mmruns"
    _registered(root, data, 2)
    cli("models", "deploy", "digits-clf/1", "-t", "prod", "--root", root)
    cli("models", "deploy", "digits-clf/2", "-t", "eu", "--root", root)
    r = cli("models", "undeploy", "digits-clf", "-t", "prod", "--note", "done", "--root", root)
    assert (r.code, r.out) == (0, "digits-clf at prod: 1 -> (removed) (event 5)\n")
    rows = json.loads(cli("models", "deployments", "digits-clf", "--root", root, "-f", "json").out)
    last = rows[-1]
    assert (last["target"], last["version"], last["from"], last["undeployed"]) == (
        "prod",
        None,
        1,
        True,
    )
    assert last["user"] and last["time"] and last["note"] == "done"
    again = cli("models", "undeploy", "digits-clf", "-t", "prod", "--root", root)
    assert (again.code, again.err) == (
        1,
        "mmtop: error: digits-clf: nothing is deployed at 'prod'\n",
    )
    assert cli("models", "undeploy", "nope", "-t", "prod", "--root", root).code == 1
    assert cli("models", "undeploy", "digits-clf", "-t", "a/b", "--root", root).code == 2
    ended = cli("monitor", "digits-clf", "--target", "prod", "--root", root)
    assert ended.code == 1 and ended.out == ""
    assert len(ended.err.splitlines()) == 1
    assert ended.err.startswith("mmtop: error: digits-clf: nothing is deployed at 'prod': v1 was ")
    assert f"by {last['user']}\n" in ended.err
    never = cli("monitor", "digits-clf", "--target", "batch", "--root", root)
    assert (never.code, never.err) == (
        1,
        "mmtop: error: digits-clf: nothing is deployed at 'batch' and nothing was logged there\n",
    )
    assert cli("monitor", "digits-clf", "--target", "eu", "--root", root).code == 0
    r = cli("models", "retire", "digits-clf@eu", "--reason", "old", "--root", root)
    assert (r.code, r.out) == (
        0,
        "digits-clf at eu: 2 -> (removed) (event 6)\ndigits-clf/2: deprecated (event 7)\n",
    )
    r = cli("models", "retire", "digits-clf/2", "--root", root)
    assert r.out == "digits-clf/2: serves nowhere and is deprecated already (nothing recorded)\n"
    assert cli("models", "retire", "digits-clf/9", "--root", root).code == 1
