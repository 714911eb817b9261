"""Reading a store on `s3://` (store.open, the CLI, the app) through the local mirror: the same
answers as reading the same files from a local folder."""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mmtop import store
from mmtop.store.s3.mirror import cache_home
from mmtop.store.s3.reader import S3Store

EXPERIMENTS = ["vision ü", "nlp", "a-b.c"]


def write_local(root: Path) -> dict[str, str]:
    """A store written by the real writer: awkward names, NaN, several experiments, nested
    params, a finished, a failed and a registered run. Returns name -> run id."""
    ids: dict[str, str] = {}
    for i, exp in enumerate(EXPERIMENTS):
        for j in range(2):
            name = f"run {i}-{j} ✓"
            with store.Run(
                experiment=exp,
                name=name,
                root=root,
                params={"lr": 0.1 / (j + 1), "opt": {"name": "adam w", "betas": [0.9, 0.99]}},
                capture_system=False,
                capture_code=False,
                capture_console=False,
                tags=["t a", f"x/{i}"],
            ) as run:
                for step in range(5):
                    run.log({"loss": 1 / (step + 1), "val/acc": float("nan") if j else 0.5}, step)
                ids[name] = run.run_id
    with pytest.raises(RuntimeError):
        with store.Run(experiment="nlp", name="broken", root=root, capture_system=False) as run:
            run.log({"loss": 2.0}, 0)
            ids["broken"] = run.run_id
            raise RuntimeError("boom")
    weights = root.parent / "weights.bin"
    weights.write_bytes(b"\x00\x01weights")
    store.open(root).register_model("clf", run=ids["run 0-0 ✓"], path=weights)
    return ids


def upload(local: Path, url: str) -> None:
    """Every file of the local store as an object under `url` (not the local caches)."""
    import obstore
    from obstore.store import from_url

    client = from_url(url)

    async def put_all() -> None:
        gate = asyncio.Semaphore(8)

        async def one(path: Path) -> None:
            async with gate:
                await obstore.put_async(
                    client, path.relative_to(local).as_posix(), path.read_bytes()
                )

        files = [
            p
            for p in local.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(local).parts)
        ]
        await asyncio.gather(*(one(p) for p in files))

    asyncio.run(put_all())


def delete_prefix(url: str, prefix: str) -> None:
    import obstore
    from obstore.store import from_url

    client = from_url(url)
    for batch in obstore.list(client, prefix):
        for meta in batch:
            obstore.delete(client, meta["path"])


@pytest.fixture
def mirror_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("MMTOP_CACHE", str(home))
    return home


@pytest.fixture
def s3_store(s3_url: str, tmp_path: Path, mirror_home: Path) -> tuple[Path, str, dict[str, str]]:
    """(local store, its s3:// copy, run ids by name)."""
    local = tmp_path / "local" / "mmruns"
    ids = write_local(local)
    upload(local, s3_url)
    return local, s3_url, ids


def comparable(df: pl.DataFrame) -> pl.DataFrame:
    """The runs frame without the column that names the folder read."""
    return df.drop("path").sort("run_id")


def test_open_gives_the_same_runs_and_histories_as_the_local_folder(
    s3_store: tuple[Path, str, dict[str, str]], mirror_home: Path
) -> None:
    local, url, ids = s3_store
    here, there = store.open(local, cache=False), store.open(url)
    assert_frame_equal(comparable(there.runs()), comparable(here.runs()))
    assert there.runs()["name"].to_list() == here.runs()["name"].to_list()
    everyone = sorted(ids.values())
    assert_frame_equal(there.history(everyone), here.history(everyone))
    nan = there.history(ids["run 0-1 ✓"], keys=["val/acc"])["value"].to_list()
    assert len(nan) == 5 and all(math.isnan(v) for v in nan)
    assert there.run(ids["broken"]).status == "failed"
    assert there.run(ids["run 1-0 ✓"]).params == here.run(ids["run 1-0 ✓"]).params
    assert there.resolve("nlp/broken") == ids["broken"]
    assert there.resolve(ids["broken"][:-2]) == ids["broken"]
    assert_frame_equal(
        there.models().drop("path", strict=False), here.models().drop("path", strict=False)
    )
    assert there.model("clf").run_id == ids["run 0-0 ✓"]
    # The mirror is in the cache folder, never in the store or beside the local folder.
    assert Path(there.root).is_relative_to(mirror_home / "s3")
    filtered = there.runs(where="params.lr < 0.07")
    assert sorted(filtered["name"].to_list()) == sorted(f"run {i}-1 ✓" for i in range(3))


def test_tags_and_comments_go_to_the_object_store(
    s3_store: tuple[Path, str, dict[str, str]],
) -> None:
    _, url, ids = s3_store
    st = store.open(url)
    run_id = ids["run 2-1 ✓"]
    assert st.add_tags(run_id, ["best"]) == ["t a", "x/2", "best"]
    st.comment(run_id, "looks good", author="me")
    assert st.runs().filter(pl.col("run_id") == run_id)["tags"].to_list() == [
        ["t a", "x/2", "best"]
    ]
    other = S3Store(url, mirror_cache=Path(st.root).parent.parent / "elsewhere")
    assert other.run(run_id).tags == ["t a", "x/2", "best"]
    assert [c["text"] for c in other.run(run_id).comments] == ["looks good"]
    assert st.remove_tags(run_id, "best") == ["t a", "x/2"]


def test_a_new_run_appears_and_a_deleted_one_disappears_on_refresh(
    s3_store: tuple[Path, str, dict[str, str]], tmp_path: Path
) -> None:
    local, url, ids = s3_store
    st = store.open(url)
    assert isinstance(st, S3Store)
    assert st.runs().height == 7
    with store.Run(experiment="late", name="new one", root=local, capture_system=False) as run:
        run.log({"loss": 0.25}, 0)
    upload(local, url)
    gone = ids["run 2-0 ✓"]
    delete_prefix(url, f"a-b.c/{gone}")
    assert st.refresh()
    names = st.runs()["name"].to_list()
    assert "new one" in names and "run 2-0 ✓" not in names and len(names) == 7
    assert not (Path(st.root) / "a-b.c" / gone).exists()
    with pytest.raises(store.RunNotFoundError):
        st.run(gone)
    assert st.history(run.run_id)["value"].to_list() == [0.25]


def test_credentials_and_the_endpoint_are_written_nowhere(
    s3_store: tuple[Path, str, dict[str, str]],
    s3_env: dict[str, str],
    mirror_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url, ids = s3_store
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSECRETVALUE123")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value-456")
    st = store.open(url)
    st.runs()
    st.history(list(ids.values()))
    secrets = ["AKIDSECRETVALUE123", "very-secret-value-456", s3_env["AWS_ENDPOINT_URL"]]
    port = s3_env["AWS_ENDPOINT_URL"].rpartition(":")[2]
    for path in mirror_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secrets), path
            assert f"127.0.0.1:{port}".encode() not in data, path


def test_a_bad_bucket_is_one_line(
    s3_env: dict[str, str], mirror_home: Path, cli: Callable[..., Result]
) -> None:
    with pytest.raises(store.StoreError) as err:
        store.open("s3://no-such-bucket-here/p")
    text = str(err.value)
    assert text.startswith("cannot read s3://no-such-bucket-here/p: NoSuchBucket")
    assert "\n" not in text
    result = cli("ls", "--root", "s3://no-such-bucket-here/p")
    assert (result.code, result.out) == (1, "")
    # (moto's server logs each request to stderr too)
    ours = [line for line in result.err.splitlines() if not line.startswith("127.0.0.1 - -")]
    assert ours == [f"mmtop: error: {text}"]


def test_an_empty_prefix_is_no_store(s3_url: str, mirror_home: Path) -> None:
    with pytest.raises(store.StoreError, match=f"no store at {s3_url}: nothing is stored"):
        store.open(s3_url)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`mmtop ARGS...` in process."""
    from mmtop.tui.cli import main

    def run(*args: str) -> Result:
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_ls_prints_what_it_prints_for_the_local_folder(
    s3_store: tuple[Path, str, dict[str, str]], cli: Callable[..., Result], fmt: str
) -> None:
    local, url, _ = s3_store
    remote = cli("ls", "--root", url, "--format", fmt)
    here = cli("ls", "--root", str(local), "--format", fmt)
    assert remote.code == here.code == 0, remote.err
    # `path` names the folder read: the mirror's, for a store on S3.
    mirror = str(store.open(url).root)
    assert remote.out.replace(mirror, "<root>") == here.out.replace(str(local), "<root>")
    assert remote.out.count("\n") >= 8


def test_show_and_models_read_the_s3_store(
    s3_store: tuple[Path, str, dict[str, str]],
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local, url, ids = s3_store
    mirror = str(store.open(url).root)
    monkeypatch.setenv("MMTOP_DIR", url)
    for args in (
        ["show", ids["broken"], "--format", "json"],
        ["models", "ls"],
        ["export", "--format", "csv"],
    ):
        remote = cli(*args)
        monkeypatch.setenv("MMTOP_DIR", str(local))
        here = cli(*args)
        monkeypatch.setenv("MMTOP_DIR", url)
        assert remote.code == here.code == 0, (args, remote.err)
        assert remote.out.replace(mirror, "") == here.out.replace(str(local), ""), args


def test_the_cache_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MMTOP_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_home() == tmp_path / "mmtop"
    assert cache_home({"MMTOP_CACHE": "/x"}) == Path("/x")
    assert json.dumps(os.fspath(cache_home({"HOME": "/h"}))).endswith('mmtop"')


def table_names(app: Any) -> list[str]:
    from mmtop.tui.widgets.runs_table import RunsTable

    table = app.screen.query_one("#runs-table", RunsTable)
    return [str(row[0]) for row in table.model.rows(table.view, 0, len(table.view), ["name"])]


async def test_the_app_shows_the_runs_and_follows_the_bucket_by_polling(
    s3_store: tuple[Path, str, dict[str, str]],
    wait_for: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mmtop.tui.app import MmtopApp
    from mmtop.tui.launch import resolve

    local, url, ids = s3_store
    monkeypatch.setenv("MMTOP_S3_POLL", "0.2")
    app = MmtopApp(resolve(url), watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(table_names(app)) == 7, what="the runs")
        assert app.watch_mode == "polling every 0.2 s"
        assert "run 1-1 ✓" in table_names(app)
        with store.Run(experiment="nlp", name="uploaded later", root=local) as run:
            run.log({"loss": 0.5}, 0)
        await asyncio.to_thread(upload, local, url)
        await wait_for(pilot, lambda: "uploaded later" in table_names(app), what="the new run")
        delete_prefix(url, f"nlp/{ids['broken']}")
        await wait_for(pilot, lambda: "broken" not in table_names(app), what="the deletion")
        assert len(table_names(app)) == 7


def test_compact_folds_the_run_index_on_the_bucket_and_a_cold_open_uses_it(
    s3_store: tuple[Path, str, dict[str, str]], cli: Callable[..., Result], tmp_path: Path
) -> None:
    local, url, _ = s3_store
    result = cli("compact", "--root", url, "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["index_runs"] == 7
    cold = S3Store(url, mirror_cache=tmp_path / "cold")
    assert_frame_equal(comparable(cold.runs()), comparable(store.open(local, cache=False).runs()))
    # Listings of the root, 3 experiments, _models/ and _index/; GETs of the marker, the
    # snapshot and the registry's files: no run folder is listed or read.
    assert cold.mirror.requests - cold.mirror.gets == 6
    assert not any((Path(cold.root) / e).exists() for e in EXPERIMENTS)


def test_a_heartbeat_rewritten_with_the_same_body_moves_its_mirrored_mtime(
    s3_store: tuple[Path, str, dict[str, str]], tmp_path: Path
) -> None:
    import obstore
    from obstore.store import from_url

    local, url, _ = s3_store
    live = store.Run(experiment="nlp", name="live", root=local, capture_system=False)
    live.log({"loss": 1.0}, 0)
    live.flush()
    upload(local, url)
    try:
        st = store.open(url, stale_after=3600)
        assert isinstance(st, S3Store)
        row = st.runs().filter(pl.col("name") == "live")
        assert row["status"].to_list() == ["running"]
        key = f"nlp/{live.run_id}/heartbeat"
        beat = Path(st.root) / key
        client = from_url(url)
        first = obstore.head(client, key)
        assert beat.stat().st_mtime_ns // 1000 == int(first["last_modified"].timestamp() * 1e6)
        body = beat.read_bytes()
        second = first
        for _ in range(500):  # beats until the server's clock (its time resolution) moves
            obstore.put(client, key, body)  # same body, same ETag, a later LastModified
            second = obstore.head(client, key)
            if second["last_modified"] != first["last_modified"]:
                break
        assert second["e_tag"] == first["e_tag"]
        assert second["last_modified"] > first["last_modified"]
        gets, requests = st.mirror.gets, st.mirror.requests
        assert st.refresh()
        assert beat.stat().st_mtime_ns // 1000 == int(second["last_modified"].timestamp() * 1e6)
        assert st.mirror.gets == gets  # the unchanged body is not fetched again
        # The root, 3 experiments, _models/, _index/, and the one running run: listings only.
        assert st.mirror.requests - requests == 7
    finally:
        live.finish()


READING_COMMANDS = [
    ["diff", "{a}", "{b}", "--format", "md"],
    ["export", "--history", "--format", "csv"],
    ["sql", "SELECT run_id, count(*) AS n FROM metrics GROUP BY run_id ORDER BY run_id"],
    ["models", "ls"],
    ["models", "show", "clf@1"],
    ["datasets", "ls"],
    ["doctor"],
    ["report", "{a}", "-o", "-"],
]


@pytest.mark.parametrize("args", READING_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_reading_commands_print_what_they_print_for_the_local_folder(
    s3_store: tuple[Path, str, dict[str, str]],
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    local, url, ids = s3_store
    given = [a.format(a=ids["run 0-0 ✓"], b=ids["run 1-1 ✓"]) for a in args]
    mirror = str(store.open(url).root)
    monkeypatch.setenv("MMTOP_DIR", url)
    remote = cli(*given)
    monkeypatch.setenv("MMTOP_DIR", str(local))
    here = cli(*given)
    assert remote.code == here.code, remote.err
    assert remote.err.replace(mirror, "<root>").replace(url, "<root>") == here.err.replace(
        str(local), "<root>"
    )
    shown = remote.out.replace(mirror, "<root>").replace(url, "<root>")
    assert shown == here.out.replace(str(local), "<root>")


def test_runs_logged_straight_to_s3_are_read_live_then_ended(
    s3_url: str, mirror_home: Path
) -> None:
    with store.Run(experiment="e", name="first", root=s3_url, capture_system=False) as done:
        done.log({"loss": 0.5, "acc": float("nan")}, 0)
    live = store.Run(experiment="e", name="live", root=s3_url, capture_system=False)
    try:
        live.log({"loss": 1.0}, 0)
        live.flush()
        st = store.open(s3_url)
        assert isinstance(st, S3Store)
        frame = st.runs().sort("name")
        assert frame["name"].to_list() == ["first", "live"]
        assert frame["status"].to_list() == ["finished", "running"]
        assert st.history(live.run_id)["value"].to_list() == [1.0]
        live.log({"loss": 0.5}, 1)
    finally:
        live.finish()
    st.refresh()
    assert st.runs().sort("name")["status"].to_list() == ["finished", "finished"]
    assert st.history(live.run_id, keys="loss")["value"].to_list() == [1.0, 0.5]
    acc = st.history(done.run_id, keys="acc")["value"].to_list()
    assert len(acc) == 1 and math.isnan(acc[0])


def test_no_credentials_is_one_line(
    s3_store: tuple[Path, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url, _ = s3_store
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    # Without keys obstore asks the instance metadata service: here, a port nobody serves.
    monkeypatch.setenv("AWS_METADATA_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(store.StoreError) as err:
        store.open(url)
    assert str(err.value) == (
        f"cannot read {url}: no AWS credentials (set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or run where an instance role provides them)"
    )


def test_mmtop_with_an_s3_url_asks_for_the_app(cli: Callable[..., Result]) -> None:
    """`mmtop s3://b/p` is the app on that store, not an unknown command (here there is no
    terminal, so it says that)."""
    result = cli("s3://bucket/runs")
    assert result.code == 2
    assert "the terminal app needs a terminal" in result.err


def test_keys_that_could_lead_out_or_hide_are_never_copied(
    s3_store: tuple[Path, str, dict[str, str]], mirror_home: Path
) -> None:
    import obstore
    from obstore.store import from_url

    from mmtop.store.s3.mirror import safe_key

    _, url, ids = s3_store
    client = from_url(url)
    run = f"nlp/{ids['broken']}"
    obstore.put(client, ".mmtop/runs-frame-v2.parquet", b"not ours")
    obstore.put(client, f"{run}/.lock", b"x")
    obstore.put(client, f"{run}/tables/.tmp-1", b"x")
    st = store.open(url)
    st.run(ids["broken"])  # copies the run's folder whole
    copied = {p.relative_to(mirror_home).as_posix() for p in mirror_home.rglob("*")}
    assert not any(p.endswith(("/.lock", "/.tmp-1")) for p in copied)
    cache = Path(st.root) / ".mmtop" / "runs-frame-v2.parquet"  # the mirror's own, if any
    assert not cache.exists() or cache.read_bytes() != b"not ours"
    for bad in ("..", "a/../b", "/abs", "a//b", ".hidden", "a/.x", "a\0b", "a\\b", ""):
        assert not safe_key(bad), bad
    assert safe_key("exp ü/20261201T000000Z-abc/metrics/w-000001.parquet")
