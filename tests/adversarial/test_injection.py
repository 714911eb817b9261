"""Injection through filters and output: a filter reads only the runs frame, and run-derived
text (names, params, keys, folder names) reaches no terminal, pipe or file as live control
or bidi characters, nor a spreadsheet as a formula, in any command, format or app view.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mmtop import store
from mmtop.tui.cli import main
from mmtop.tui.safe_text import CONTROL_PATTERN, clean

# ----------------------------------------------------------------------------- stores
OSC52 = "opt\x1b]52;c;cHduZWQ=\x07\x1b[2J"  # clipboard write, then clear screen
BIDI = ["\u202e", "\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d"]
BIDI += ["\u2066", "\u2067", "\u2068", "\u2069"]
FORMULA = "=cmd|' /C calc'!A0"
# Anything a terminal would obey or that reorders text: escapes, C0/C1, bidi controls.
LIVE = re.compile(CONTROL_PATTERN)


def _runs(root: Path) -> list[store.Run]:
    made = []
    for i, name in enumerate(["alpha", "beta"]):
        run = store.Run(
            experiment="exp",
            name=name,
            params={"lr": 0.1 * (i + 1), "note": "x"},
            tags=["t"],
            root=root,
            run_id=f"20260101T00000{i}Z-00000{i}",
            capture_env=False,
            capture_code=False,
            capture_system=False,
        )
        run.log({"val/acc": 0.5 + i / 10}, step=0)
        run.finish()
        made.append(run)
    return made


def build_hostile(root: Path) -> dict[str, str]:
    """Two runs, then files edited the way another tool (or a crafted rsync) could write them:
    escapes and bidi controls in every name the CLI prints. Returns run ids by role."""
    alpha, beta = _runs(root)
    exp = root / "exp"
    evil_key = "val\x1b]0;pwned\x07/acc" + BIDI[0]
    for run in (alpha, beta):
        folder = exp / run.run_id
        old = json.loads((folder / "params.json").read_text())
        params = {OSC52: "sgd", "lr": old["lr"], "formula": FORMULA}
        params["bidi" + "".join(BIDI)] = "txt\u202egnp.exe"
        (folder / "params.json").write_text(json.dumps(params))
        meta = json.loads((folder / "run.json").read_text())
        # beta's name is also a spreadsheet formula
        prefix = "" if run is alpha else FORMULA
        meta["name"] = f"{prefix}{run.name}\x1b[2J\u202e"
        meta["tags"] = ["t\x1b[31m", FORMULA]
        (folder / "run.json").write_text(json.dumps(meta))
        for summary in (folder / "summary").glob("*.json"):
            doc = json.loads(summary.read_text())
            doc["metrics"][evil_key] = doc["metrics"]["val/acc"]
            summary.write_text(json.dumps(doc))
        env = {"env_vars": {"K\x1b]0;t\x07": "v\u202e"}, "hostname": "h\x1b[2J"}
        (folder / "env.json").write_text(json.dumps(env))
        inputs = [{"name": "data\x1b]8;;http://x\x07", "uri": "u\u202e", "fingerprint": "f"}]
        inputs[0]["fingerprint"] = run.run_id  # different data per run: a diff row
        (folder / "inputs.json").write_text(json.dumps(inputs))
    # A crashed run whose folder name carries an escape: doctor and ls -q print folder names.
    crashed_id = f"{beta.run_id}\x1b[2J\u202e"
    crashed = exp / crashed_id
    shutil.copytree(exp / beta.run_id, crashed)
    meta = json.loads((crashed / "run.json").read_text())
    meta.update(status="running", ended=None)
    (crashed / "run.json").write_text(json.dumps(meta))
    (crashed / "heartbeat").unlink(missing_ok=True)
    return {"alpha": alpha.run_id, "beta": beta.run_id, "crashed": crashed_id}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("hostile") / "mmruns"
    return root, build_hostile(root)


@pytest.fixture(scope="module")
def plain_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plain") / "mmruns"
    _runs(root)
    return root


def cli(capsys: pytest.CaptureFixture[bytes], *args: str | Path) -> tuple[int, bytes, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err.decode("utf-8")


# ----------------------------------------------------------------------------- filters
class _Counter(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:  # the http.server hook name
        self.hits.append(self.path)
        body = b"column_1\nroot:x:0:0\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1 counting requests; it shuts itself down after 120 s at most."""
    hits: list[str] = []
    handler = type("Handler", (_Counter,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stopper = threading.Timer(120, server.shutdown)
    stopper.daemon = True
    stopper.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


ATTACKS = [
    "run_id in (select column_1 from read_csv('/etc/passwd'))",
    "run_id in (select column_1 from read_csv('{url}/a.csv'))",
    "name in (select * from read_parquet('{url}/b.parquet'))",
    "name in (select * from read_json('{url}/c.json'))",
    "name in (select * from read_ndjson('{url}/d.json'))",
    "name in (select * from scan_csv('{url}/e.csv'))",
    "name in (select * from scan_parquet('{url}/f.parquet'))",
    "name in (select * from scan_ndjson('{url}/g.json'))",
    "name in (select column_1 from '{url}/h.csv')",
    "exists (select 1 from read_csv('{url}/i.csv'))",
    "name = (select max(column_1) from read_csv('/etc/passwd'))",
    "read_csv('{url}/j.csv') is not null",
    "name in (with t as (select 1 as x) select x from t)",
    "status = 'finished' and run_id in (select run_id from self)",
    "lr_from_disk(name) > 1",
]
# What a rejection names, per attack: the construct, never the file's content.
REJECTED = re.compile(r"not allowed in a filter: (a subquery|function \w+|.+)")


# A filter that fetches a URL can block inside polars with the GIL held: the attacks run
# in a child process, so a regression fails on a timeout instead of hanging the suite.
PROBE = """
import json, sys
from mmtop import store
st = store.open(sys.argv[1])
for attack in json.loads(sys.argv[2]):
    try:
        st.runs(where=attack)
        print(json.dumps([attack, "accepted"]), flush=True)
    except store.QueryError as exc:
        print(json.dumps([attack, str(exc)]), flush=True)
"""


def _child(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"still running after {timeout} s (a filter fetching a URL?): {exc.output!r}")


def test_filter_reads_no_file_and_no_url_through_the_api(
    plain_root: Path, http_server: tuple[str, list[str]]
) -> None:
    url, hits = http_server
    attacks = [a.format(url=url) for a in ATTACKS]
    done = _child(["-c", PROBE, str(plain_root), json.dumps(attacks)])
    results = dict(json.loads(line) for line in done.stdout.splitlines())
    assert list(results) == attacks, done.stderr
    for attack, message in results.items():
        assert REJECTED.search(message), (attack, message)
        assert "root:" not in message and "\n" not in message
    assert hits == []


@pytest.mark.parametrize(
    ("command", "attack"),
    [("ls", ATTACKS[0]), ("ls", ATTACKS[1]), ("export", ATTACKS[2]), ("export", ATTACKS[9])],
)
def test_filter_flag_refuses_files_and_urls(
    plain_root: Path, http_server: tuple[str, list[str]], command: str, attack: str
) -> None:
    url, hits = http_server
    where = attack.format(url=url)
    done = _child(["-m", "mmtop.tui.cli", command, "--root", str(plain_root), "-w", where])
    assert done.returncode == 2
    assert done.stdout == ""
    err = done.stderr
    assert err.startswith("mmtop: error: bad --where expression: ") and "not allowed" in err
    assert "root:" not in err
    assert hits == []


async def test_app_filter_bar_refuses_files_and_urls(
    plain_root: Path, http_server: tuple[str, list[str]]
) -> None:
    from mmtop.tui.app import MmtopApp
    from mmtop.tui.launch import Launch
    from mmtop.tui.widgets.filter_bar import FilterBar, FilterInput
    from mmtop.tui.widgets.runs_table import RunsTable

    url, hits = http_server
    app = MmtopApp(Launch(plain_root, "path"), watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "loads", 0) >= 1)
        table = app.screen.query_one(RunsTable)
        # /etc/passwd first: before the check existed it failed here, where the URL ones
        # would have blocked the app.
        for attack in (ATTACKS[0], ATTACKS[1], ATTACKS[4], ATTACKS[8]):
            app.screen.query_one(FilterInput).value = attack.format(url=url)
            await pilot.pause()
            bar = app.screen.query_one(FilterBar)
            assert bar.has_class("-error"), attack
            assert len(table.view) == 2  # the table keeps showing every run
            # The error line names the construct, never the file's content.
            shown = " ".join(str(w.render()) for w in bar.query("*"))
            assert "not allowed" in shown and "root:" not in shown, shown
    assert hits == []


def test_ls_without_a_filter_does_not_import_the_sql_parser(plain_root: Path) -> None:
    code = (
        "import sys; from mmtop.tui.cli import main; main(['ls', '-q', '--root', sys.argv[1]]); "
        "assert 'sqlglot' not in sys.modules; main(['ls', '-q', '-w', 'true', '--root', "
        "sys.argv[1]]); assert 'sqlglot' in sys.modules"
    )
    done = _child(["-c", code, str(plain_root)])
    assert done.returncode == 0, done.stderr


def _app(root: Path) -> Any:
    from mmtop.tui.app import MmtopApp
    from mmtop.tui.launch import Launch

    now = datetime(2026, 1, 2, tzinfo=UTC)
    return MmtopApp(Launch(root, "path"), watch=False, now=lambda: now)


async def _until(pilot: Any, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await pilot.pause(0.02)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("params.lr > 0.15 and status = 'finished'", ["beta"]),
        ('metrics."val/acc" >= 0.55', ["beta"]),
        ("name like 'al%' or name ilike 'BET_'", ["alpha", "beta"]),
        ("name not in ('alpha')", ["beta"]),
        ("name rlike '^a' or name regexp '^zz'", ["alpha"]),
        ("name ~ '^b'", ["beta"]),
        ("regexp_like(name, 'ph')", ["alpha"]),
        ("params.note is not null and not (name is null)", ["alpha", "beta"]),
        ("array_contains(tags, 't')", ["alpha", "beta"]),
        ("cast(params.lr * 10 as int) = 2", ["beta"]),
        ("params.lr::double / 2 + 1 - 1 < 0.06", ["alpha"]),
        ("not (name = 'alpha') and lower(name) = 'beta'", ["beta"]),
        ("params.lr between 0.05 and 0.15", ["alpha"]),
        ("abs(-params.lr) > 0.15 and coalesce(params.lr, 1) < 1", ["beta"]),
        ("name ~* '^ALP' and starts_with(name, 'al')", ["alpha"]),
        ("name = 'it''s' or name = $$alpha$$", ["alpha"]),
        ("name = 'alpha' -- a comment read_csv('x')", ["alpha"]),
    ],
)
def test_documented_filters_still_work(plain_root: Path, where: str, expected: list[str]) -> None:
    frame = store.open(plain_root).runs(where=where)
    assert sorted(frame["name"].to_list()) == expected


@pytest.mark.parametrize("where", ["(" * 3000 + "true" + ")" * 3000, "not " * 3000 + "true"])
def test_a_deeply_nested_filter_is_a_clear_error(plain_root: Path, where: str) -> None:
    with pytest.raises(store.QueryError, match="nested too deeply"):
        store.open(plain_root).runs(where=where)


def test_a_comment_cannot_smuggle_a_call_past_the_check(
    plain_root: Path, http_server: tuple[str, list[str]]
) -> None:
    url, hits = http_server
    sneaky = f"name = 'alpha' -- */ or name in (select * from read_csv('{url}/k.csv'))"
    frame = store.open(plain_root).runs(where=sneaky)
    assert frame["name"].to_list() == ["alpha"]
    assert hits == []


# ----------------------------------------------------------------------------- output
# Every command and text format; Parquet is the one exact-bytes format (checked apart).
def _commands(ids: dict[str, str]) -> list[list[str]]:
    a, b, crashed = ids["alpha"], ids["beta"], ids["crashed"]
    runs = [a, b, crashed]
    listing = [["ls", "-f", f] for f in ("table", "csv", "json", "jsonl", "md")]
    listing += [["ls", "-q"], ["ls", "-c", "run_id,name,tags,params\\."]]
    exports = [["export", "-f", f] for f in ("csv", "json", "jsonl")]
    exports += [["export", "--history", "-f", f] for f in ("csv", "json", "jsonl")]
    exports += [["export", "--history", "--wide", "-f", f] for f in ("csv", "json", "jsonl")]
    shows = [["show", r, "-f", f] for r in (a, crashed) for f in ("text", "json")]
    diffs = [["diff", *runs, "--all", "-f", f] for f in ("table", "csv", "json", "md")]
    doctor = [["doctor", "-f", f] for f in ("text", "json")] + [["doctor", "--deep"]]
    return listing + exports + shows + diffs + doctor


def test_every_command_and_format_writes_inert_text_to_pipes(
    hostile: tuple[Path, dict[str, str]], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    root, ids = hostile
    live: list[str] = []
    for args in _commands(ids):
        code, out, err = cli(capsysbinary, *args, "--root", root)
        assert code in (0, 1), (args, err)
        text = out.decode("utf-8")
        assert text.strip(), args
        found = sorted({f"U+{ord(c):04X}" for c in LIVE.findall(text + err)})
        if found:
            live.append(f"{' '.join(args[:3])}: {', '.join(found)}")
    assert live == []


def test_files_written_with_output_flag_are_inert_too(
    hostile: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    root, ids = hostile
    for i, args in enumerate([["ls", "-f", "csv"], ["diff", ids["alpha"], ids["beta"]]]):
        target = tmp_path / f"out{i}.txt"
        code, _, err = cli(capsysbinary, *args, "--root", root, "-o", target)
        assert code == 0, err
        assert not LIVE.search(target.read_text(encoding="utf-8")), args


def test_json_keeps_hostile_text_exact_as_escapes(
    hostile: tuple[Path, dict[str, str]], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    root, ids = hostile
    code, out, _ = cli(capsysbinary, "ls", "-f", "json", "--root", root)
    assert code == 0
    assert not LIVE.search(out.decode())
    rows = {r["run_id"]: r for r in json.loads(out)}
    assert set(rows) == set(ids.values())  # the crashed folder name, exact
    assert rows[ids["alpha"]]["params"][OSC52] == "sgd"
    assert rows[ids["alpha"]]["name"] == "alpha\x1b[2J\u202e"
    assert "\\u001b" in out.decode() and "\\u202e" in out.decode()


def test_parquet_is_the_exact_bytes_format(
    hostile: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    root, ids = hostile
    target = tmp_path / "runs.parquet"
    code, _, err = cli(capsysbinary, "ls", "-f", "parquet", "-o", target, "--root", root)
    assert code == 0, err
    frame = pl.read_parquet(target)
    assert OSC52 in "".join(frame.columns)
    assert set(frame["run_id"]) == set(ids.values())


def test_csv_cells_show_escapes_and_defuse_formulas(
    hostile: tuple[Path, dict[str, str]], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    root, ids = hostile
    code, out, _ = cli(capsysbinary, "ls", "-f", "csv", "--root", root, "-s", "run_id")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    assert rows[0]["name"] == "alpha<U+202E>"  # the clear-screen sequence is dropped
    assert rows[0]["params.formula"] == "'" + FORMULA
    assert f"params.{clean(OSC52)}" in rows[0]


# ----------------------------------------------------------------------------- app CSV
async def _export(app: Any, pilot: Any, target: Path) -> None:
    from textual.widgets import Input

    from mmtop.tui.screens.prompt import PromptScreen

    await pilot.press("e")
    await _until(pilot, lambda: isinstance(app.screen, PromptScreen))
    app.screen.query_one(Input).value = str(target)
    await pilot.press("enter")


async def test_app_export_is_the_cli_csv_byte_for_byte(
    hostile: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    from mmtop.tui.widgets.runs_table import RunsTable

    root, _ = hostile
    target = tmp_path / "app.csv"
    app = _app(root)
    async with app.run_test(size=(160, 40)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "loads", 0) >= 1)
        app.screen.sort_by("run_id", descending=False)
        await pilot.pause()
        keys = [c.key for c in app.screen.query_one(RunsTable).columns]
        await _export(app, pilot, target)
        await _until(pilot, target.exists)
    columns = ",".join(dict.fromkeys(["run_id", *keys]))
    code, out, err = cli(
        capsysbinary, "ls", "--root", root, "-f", "csv", "-s", "run_id", "-c", columns
    )
    assert code == 0, err
    assert len(keys) >= 4
    written = target.read_bytes()
    assert written == out
    assert b"'" + FORMULA.encode() in written
    assert not LIVE.search(written.decode())


async def test_app_export_failure_leaves_no_temp_file(
    plain_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: pl.DataFrame, file: Any = None, **_: Any) -> None:
        # Part of the file is written, then the disk fills up.
        if isinstance(file, (str, Path)):
            Path(file).write_bytes(b"run_id\n")
        else:
            file.write(b"run_id\n")
        raise OSError(errno.ENOSPC, "No space left on device")

    folder = tmp_path / "out"
    folder.mkdir()
    app = _app(plain_root)
    async with app.run_test(size=(120, 30)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "loads", 0) >= 1)
        monkeypatch.setattr(pl.DataFrame, "write_csv", disk_full)
        await _export(app, pilot, folder / "runs.csv")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running  # the failure is a notification, not a crash
    assert os.listdir(folder) == []


# ----------------------------------------------------------------------------- bidi
@pytest.mark.parametrize("char", BIDI + ["\u2028", "\x85", "\x9b"])
def test_bidi_and_c1_controls_become_visible_escapes(char: str) -> None:
    shown = clean(f"evil{char}txt.sh")
    assert shown == f"evil<U+{ord(char):04X}>txt.sh"
    assert not LIVE.search(shown)


async def test_app_views_show_bidi_controls_as_escapes(
    hostile: tuple[Path, dict[str, str]],
) -> None:
    from mmtop.tui.widgets.runs_table import RunsTable

    root, ids = hostile
    app = _app(root)
    async with app.run_test(size=(200, 40)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "loads", 0) >= 1)
        app.screen.sort_by("run_id", descending=False)
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        drawn = [
            "".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)
        ]
        text = "\n".join(drawn)
        assert "alpha<U+2" in text, drawn[:4]  # the name column may cut it short
        assert not LIVE.search(text)
