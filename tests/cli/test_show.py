"""`mmtop show RUN`: text and JSON, run references (id, prefix, experiment/name), ambiguity."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmtop import store
from mmtop.store import paths
from mmtop.tui.run_extras import gather

ANSI = re.compile(r"\x1b")


def test_json_matches_the_run_info(cli: Callable[..., Any], sample: Any) -> None:
    run_id = sample.ids["sgd-0.01"]
    result = cli("show", "--root", sample.root, run_id, "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.text)
    info = store.open(sample.root).run(run_id)
    assert doc["run_id"] == run_id
    assert doc["params"] == info.params
    assert doc["summary"] == info.summary
    assert doc["values"] == {"test/acc": 0.91}
    assert doc["tags"] == ["baseline"]
    assert doc["summary"]["tricky"]["last"] == 0.1 + 0.2


def test_json_keeps_non_finite_values(cli: Callable[..., Any], sample: Any) -> None:
    doc = json.loads(cli("show", "--root", sample.root, sample.ids["hostile"], "-f", "json").text)
    assert doc["summary"]["weird"]["last"] == -math.inf
    assert doc["summary"]["val/loss"]["last"] == math.inf
    assert doc["summary"]["val/loss"]["min"] == -0.5


def test_text_has_every_section_and_is_inert(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("show", "--root", sample.root, sample.ids["hostile"])
    assert result.code == 0, result.err
    text = result.text
    assert not ANSI.search(text) and "\x07" not in text
    assert "params" in text.splitlines()
    assert re.search(r"^  markup\s+\[bold red\]boom\[/\]$", text, re.M)
    assert re.search(r"^  escape\s+red\u2407$", text, re.M)
    assert re.search(r"^name\s+=HYPERLINK", text, re.M)
    assert re.search(r"^  val/loss\s+inf\s+-0.5\s+inf\s+2\s+1$", text, re.M)


def test_flattened_params_in_text(cli: Callable[..., Any], sample: Any) -> None:
    text = cli("show", "--root", sample.root, "digits/sgd-0.001").text
    assert re.search(r"^  model\.depth\s+4$", text, re.M)
    assert re.search(r"^  model\.kind\s+sgd$", text, re.M)
    assert re.search(r"^  test/acc\s+0\.92\s+0\.92\s+0\.92\s*$", text, re.M)


def test_unique_prefix_and_experiment_name(cli: Callable[..., Any], sample: Any) -> None:
    run_id = sample.ids["hostile"]
    by_prefix = cli("show", "--root", sample.root, run_id[:-2], "-f", "json")
    assert by_prefix.code == 0 and json.loads(by_prefix.text)["run_id"] == run_id
    by_name = cli("show", "--root", sample.root, "digits/sgd-0.1", "-f", "json")
    assert json.loads(by_name.text)["run_id"] == sample.ids["sgd-0.1"]


def test_a_unique_run_name_resolves_and_a_miss_suggests(
    cli: Callable[..., Any], sample: Any, tmp_path: Path
) -> None:
    by_name = cli("show", "--root", sample.root, "sgd-0.01", "-f", "json")
    assert by_name.code == 0, by_name.err
    assert json.loads(by_name.text)["run_id"] == sample.ids["sgd-0.01"]
    miss = cli("show", "--root", sample.root, "sgd-0.011")
    assert miss.code == 1
    assert miss.err.count("\n") == 1
    assert miss.err.startswith("mmtop: error: no run matches 'sgd-0.011'")
    assert miss.err.rstrip().endswith("did you mean 'sgd-0.01' or 'sgd-0.001' or 'sgd-0.1'?")
    far = cli("show", "--root", sample.root, "zzz")
    assert far.err.rstrip().endswith("in " + str(sample.root))  # nothing close: no guess
    miss_full = cli("show", "--root", sample.root, "digits/sgd-0.2")
    assert "did you mean 'digits/sgd-0.1'" in miss_full.err
    # Two runs with one name: ambiguous, listed with their experiments.
    root = tmp_path / "twins"
    ids = []
    for experiment in ("a", "b"):
        with store.Run(experiment=experiment, name="twin", root=root, capture_env=False,
                       capture_code=False, capture_system=False) as run:  # fmt: skip
            ids.append(run.run_id)
    twins = cli("show", "--root", root, "twin")
    assert twins.code == 1
    assert "'twin' is ambiguous, it matches 2 runs" in twins.err
    assert f"{ids[0]} (a/twin)" in twins.err and f"{ids[1]} (b/twin)" in twins.err


def test_ambiguous_prefix_lists_candidates(cli: Callable[..., Any], sample: Any) -> None:
    prefix = sample.ids["sgd-0.1"][:4]  # every run id starts with the year
    result = cli("show", "--root", sample.root, prefix)
    assert result.code == 1
    assert result.out == b""
    assert result.err.count("\n") == 1
    assert f"'{prefix}' is ambiguous, it matches 4 runs" in result.err
    for name, run_id in sample.ids.items():
        assert run_id in result.err
        if name != "hostile":
            assert f"{run_id} (digits/{name})" in result.err


def test_extras_env_code_data_notes(
    cli: Callable[..., Any], fresh: Any, write_json: Callable[[Path, Any], None]
) -> None:
    info = store.open(fresh.root).run(fresh.ids["sgd-0.1"])
    folder = Path(info.path)
    write_json(
        folder / paths.ENV_JSON,
        {
            "python": {"version": "3.11.7", "implementation": "CPython"},
            "platform": {"system": "Linux", "release": "6.1", "machine": "x86_64"},
            "packages": {"numpy": "1.26.4", "polars": "2.1.0"},
            "gpus": [{"name": "A100"}],
            "memory_total_bytes": 16 * 1024**3,
        },
    )
    write_json(
        folder / paths.CODE_JSON, {"git": {"commit": "abc123", "branch": "main", "dirty": []}}
    )
    (folder / paths.CODE_PATCH).write_text("diff --git a b\n", encoding="utf-8")
    write_json(
        folder / paths.INPUTS_JSON, [{"name": "train", "uri": "s3://b/t", "fingerprint": "f1"}]
    )
    (folder / paths.NOTES_MD).write_text("first try\n\x1b]0;pwned\x07", encoding="utf-8")
    (folder / paths.ARTIFACTS_JSON).write_text("{broken", encoding="utf-8")
    text = cli("show", "--root", fresh.root, info.run_id).text
    assert re.search(r"^  python\s+3\.11\.7 CPython$", text, re.M)
    assert re.search(r"^  packages\s+2 recorded$", text, re.M)
    assert re.search(r"^  gpus\s+A100$", text, re.M)
    assert re.search(r"^  memory\s+16\.0 GiB$", text, re.M)  # as the app's Env tab says
    assert re.search(r"^  commit\s+abc123$", text, re.M)
    assert re.search(r"^  dirty\s+clean$", text, re.M)
    assert re.search(r"^  train\s+uri=s3://b/t\s+fingerprint=f1$", text, re.M)
    assert "  first try" in text and "\x1b" not in text
    assert "artifacts.json: unreadable (JSONDecodeError)" in text
    doc = json.loads(cli("show", "--root", fresh.root, info.run_id, "-f", "json").text)
    assert doc["env"]["packages"] == {"numpy": "1.26.4", "polars": "2.1.0"}
    assert doc["inputs"] == [{"name": "train", "uri": "s3://b/t", "fingerprint": "f1"}]
    assert doc["code_patch_bytes"] == len("diff --git a b\n")


def test_logged_extras_through_the_store_api(cli: Callable[..., Any], tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"\0" * 2048)
    with store.Run(experiment="e", name="full", root=root) as run:
        run.log({"loss": 0.5}, step=0)
        run.log_dataset({"x": [1, 2, 3]}, name="train")
        run.log_artifact(weights)
        run.log_table("preds", {"id": [1, 2], "p": [0.1, 0.9]})
        run.note("tried a smaller lr")
    text = cli("show", "--root", root, run.run_id).text
    assert re.search(
        r"^data\n  train  version=train@1  kind=frame  fingerprint=sha256:\w+  rows=3$", text, re.M
    )
    assert re.search(
        r"^artifacts\n  model\.bin  kind=file  path=artifacts/model\.bin  size=2\.0 KiB", text, re.M
    )
    assert re.search(r"^tables\n  preds  2 rows x 2 columns$", text, re.M)
    assert re.search(
        r"^notes\n  ## \d{4}-\d\d-\d\d \d\d:\d\d UTC\n\n  tried a smaller lr\n", text, re.M
    )
    doc = json.loads(cli("show", "--root", root, run.run_id, "-f", "json").text)
    assert doc["inputs"][0]["rows"] == 3
    assert doc["artifacts"][0]["size"] == 2048
    assert doc["tables"][0]["rows"] == 2


def test_show_lists_the_tables_the_app_lists(cli: Callable[..., Any], tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    with store.Run(experiment="e", root=root) as run:
        run.log_table("preds", {"id": [1, 2], "p": [0.1, 0.9]})
        run.log_confusion_matrix([0, 1, 1], [0, 1, 0])
        run.log_table("broken", {"x": [1]})
    tables = run.path / paths.TABLES_DIR
    (tables / "orphan.parquet").write_bytes((tables / "preds.parquet").read_bytes())  # no sidecar
    (tables / "broken.parquet").write_bytes(b"PAR1 not parquet")
    app = gather(store.open(root).run(run.run_id))
    doc = json.loads(cli("show", "--root", root, run.run_id, "-f", "json").text)
    assert [t["name"] for t in doc["tables"]] == [ref.name for ref in app.tables]
    assert [t["name"] for t in doc["tables"]] == ["broken", "confusion.val", "preds"]
    assert [t["meta"] for t in doc["tables"]] == [ref.meta for ref in app.tables]
    assert [t.get("rows") for t in doc["tables"]] == [None, 4, 2]
    assert doc["problems"] == ["tables/broken.parquet: unreadable (ArrowInvalid)"]
