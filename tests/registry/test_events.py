"""Alias moves, tags, descriptions and deprecations as write-once events, and their replay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mmtop import store


@pytest.fixture
def three_versions(root: Path, tmp_path: Path) -> store.Store:
    with store.Run("e", root=root, capture_system=False, capture_code=False) as run:
        for i in range(3):
            weights = tmp_path / f"w{i}.bin"
            weights.write_bytes(bytes([i]) * 10)
            run.log_model(weights, "m")
    return store.open(root)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_guarded_removal_leaves_an_alias_moved_meanwhile(three_versions: store.Store) -> None:
    s = three_versions
    s.set_alias("m", "champion", 1)
    s.set_alias("m", "champion", 2)  # moved by someone else after we saw it on 1
    with pytest.raises(ValueError, match="^@champion points at version 2, not 1: left as it is$"):
        s.remove_alias("m", "champion", version=1)
    assert s.model("m@champion").version == 2
    assert s.model_history("m").height == 5
    event = s.remove_alias("m", "champion", version=2)
    assert event is not None and (event["from"], event["to"]) == (2, None)
    with pytest.raises(ValueError, match="points at nowhere, not 2"):
        s.remove_alias("m", "champion", version=2)


def test_alias_moves_are_events_with_from_and_to(three_versions: store.Store, root: Path) -> None:
    s = three_versions
    s.set_alias("m", "champion", 1)
    s.set_alias("m", "champion", 3)
    assert s.set_alias("m", "champion", 3) is None  # no change, no event
    s.remove_alias("m", "champion")
    assert s.remove_alias("m", "champion") is None
    h = s.model_history("m")
    assert h.select("seq", "action", "version", "alias", "from", "to").rows() == [
        (1, "registered", 1, None, None, "1"),
        (2, "registered", 2, None, None, "2"),
        (3, "registered", 3, None, None, "3"),
        (4, "alias", None, "champion", None, "1"),
        (5, "alias", None, "champion", "1", "3"),
        (6, "alias", None, "champion", "3", None),
    ]
    assert h["user"].null_count() == 0 and h["host"].null_count() == 0
    files = sorted(p.name for p in (root / "_models" / "m" / "events").iterdir())
    assert files == [f"{i:08d}.json" for i in range(1, 7)]
    with pytest.raises(store.ModelNotFoundError, match="no alias 'champion'"):
        s.model("m@champion")


def test_replay_answers_which_version_held_an_alias_at_a_past_time(three_versions: Any) -> None:
    s = three_versions
    before = _now()
    s.set_alias("m", "champion", 1)
    s.set_alias("m", "staging", 2)
    t1 = _now()
    s.set_alias("m", "champion", 2)
    t2 = _now()
    s.remove_alias("m", "staging")
    s.set_alias("m", "champion", 3)
    assert s.aliases_at("m", before) == {}
    assert s.aliases_at("m", t1) == {"champion": 1, "staging": 2}
    assert s.aliases_at("m", t2) == {"champion": 2, "staging": 2}
    assert s.aliases_at("m", _now()) == {"champion": 3}
    assert s.model("m@champion", at=t1).version == 1
    assert s.model("m@champion", at=t2).version == 2
    assert s.model("m@champion").version == 3
    with pytest.raises(store.ModelNotFoundError, match="no alias 'champion' at"):
        s.model("m@champion", at=before)


def test_tags_descriptions_and_deprecation_are_events(three_versions: Any) -> None:
    s = three_versions
    s.set_model_tag("m/2", "owner", "ana")
    s.set_model_description("m/2", "retrained on March data")
    s.deprecate_model("m/1", reason="leaked labels")
    v1, v2 = s.model("m/1"), s.model("m/2")
    assert v2.tags == {"owner": "ana"} and v2.description == "retrained on March data"
    assert v1.deprecated == "leaked labels" and v2.deprecated is None
    df = s.models()
    assert df["deprecated"].to_list() == [True, False, False]
    assert df["description"].to_list() == ["", "retrained on March data", ""]
    last = s.model_history("m").tail(3)
    assert last.select("action", "version", "key", "from", "to", "reason").rows() == [
        ("tag", 2, "owner", None, "ana", None),
        ("description", 2, None, "", "retrained on March data", None),
        ("deprecated", 1, None, "false", "true", "leaked labels"),
    ]
    s.deprecate_model("m/1", deprecated=False)
    assert s.model("m/1").deprecated is None


def test_unreadable_event_is_skipped_and_reported(three_versions: Any, root: Path) -> None:
    s = three_versions
    s.set_alias("m", "champion", 2)
    events = root / "_models" / "m" / "events"
    (events / "00000005.json").write_text("{torn")
    (events / "00000006.json").write_text(json.dumps({"seq": 6, "action": "explode"}))
    (events / ".00000007.json.123-abcd.tmp").write_text("partial")
    fresh = store.open(root)
    assert fresh.model("m@champion").version == 2
    assert fresh.models().height == 3
    reasons = sorted(p.reason for p in fresh.problems())
    assert len(reasons) == 2
    assert reasons[0].startswith("unreadable model event: Expecting")
    assert "unknown action 'explode'" in reasons[1]


def test_unreadable_or_foreign_manifest_is_skipped_and_reported(
    three_versions: Any, root: Path
) -> None:
    manifest = root / "_models" / "m" / "versions" / "2" / "manifest.json"
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "schema_version": 99}))
    s = store.open(root)
    assert s.models()["version"].to_list() == [1, 3]
    assert [p.reason for p in s.problems()] == [
        "manifest schema_version 99 is newer than this mmtop reads"
    ]


def test_an_alias_move_concerns_both_versions_as_raw_event_or_history_row(
    three_versions: store.Store,
) -> None:
    from mmtop.store.registry.events import concerns

    s = three_versions
    s.set_alias("m", "champion", 1)
    raw = s.set_alias("m", "champion", 3)
    assert raw is not None and (raw["from"], raw["to"]) == (1, 3)
    row = s.model_history("m").to_dicts()[-1]
    for event in (raw, row):
        assert [n for n in (1, 2, 3) if concerns(event, n)] == [1, 3]
