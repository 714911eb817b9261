"""Overview tab: status, times, host, command, git, tags, summary, notes and comments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mmtop.store.records import parse_time
from mmtop.tui.formatting import (
    STATUS_STYLES,
    fmt_age,
    fmt_duration,
    fmt_number,
    fmt_time,
    live_duration,
    run_time,
    shell_command,
    status_glyph,
)
from mmtop.tui.run_extras import RunExtras
from mmtop.tui.safe_text import safe, safe_markdown


def _git_line(code: Any) -> Text:
    git = code.get("git") if isinstance(code, dict) else None
    if not isinstance(git, dict):
        return Text("no git information", style="dim")
    text = safe(str(git.get("commit") or "?")[:12], "bold")
    if git.get("branch"):
        text.append(" on ")
        text.append_text(safe(git["branch"], single_line=True))
    text.append("  ")
    if git.get("dirty"):
        text.append("dirty ✱ (uncommitted changes, see code tab)", style="bold yellow")
    else:
        text.append("clean", style="green")
    if git.get("remote_url"):
        text.append("  ")
        text.append_text(safe(git["remote_url"], "dim", single_line=True))
    return text


def _comment_line(comment: Any) -> Text:
    if isinstance(comment, dict):
        when = str(comment.get("time") or comment.get("created") or "")
        who = str(comment.get("user") or comment.get("author") or "")
        body = comment.get("text") or comment.get("body") or ""
    else:
        when, who, body = "", "", comment
    line = Text()
    if when:
        line.append_text(safe(when[:19], "dim", single_line=True))
        line.append(" ")
    if who:
        line.append_text(safe(who, "bold", single_line=True))
        line.append(": ")
    line.append_text(safe(body))
    return line


def writers_table(writers: list[dict[str, Any]]) -> Table:
    """The processes of a shared run: rank, host, pid, status, last step."""
    table = Table(box=None, pad_edge=False, header_style="bold", expand=False)
    for name, justify in (
        ("rank", "right"),
        ("host", "left"),
        ("pid", "right"),
        ("status", "left"),
        ("last step", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for w in sorted(writers, key=lambda w: (w.get("rank") is None, w.get("rank") or 0)):
        status = str(w.get("status") or "?")
        table.add_row(
            fmt_number(w.get("rank")),
            safe(str(w.get("host") or "?"), single_line=True),
            fmt_number(w.get("pid")),
            safe(
                f"{status_glyph(status)} {status}", STATUS_STYLES.get(status, ""), single_line=True
            ),
            fmt_number(w.get("last_step")),
        )
    return table


def last_evidence(info: Any) -> tuple[datetime, str] | None:
    """Without a heartbeat, the newest sign of life a run left, and what it is: its last
    logged point (the summary's per-metric time) or run.json's `updated`."""
    found: list[tuple[datetime, str]] = []
    summary = getattr(info, "summary", {}) or {}
    times = [s.get("last_time") for s in summary.values() if isinstance(s, dict)]
    stamps = [t for t in times if isinstance(t, int | float) and not isinstance(t, bool) and t > 0]
    point = _epoch(max(stamps)) if stamps else None
    if point is not None:
        found.append((point, "its last logged point"))
    meta = getattr(info, "meta", None)
    updated = parse_time(meta.get("updated")) if isinstance(meta, dict) else None
    if updated is not None:
        found.append((updated, "run.json's updated time"))
    return max(found, key=lambda f: f[0]) if found else None


def _epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _relative(path: Path, root: Path | None) -> Path:
    """The run folder under the store root: shorter, and what tells runs apart."""
    if root is None:
        return path
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def summary_table(summary: dict[str, Any], values: dict[str, Any]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", expand=False)
    for name, justify in (
        ("metric", "left"),
        ("last", "right"),
        ("min", "right"),
        ("max", "right"),
        ("step", "right"),
        ("count", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for key in sorted(summary):
        s = summary[key] if isinstance(summary[key], dict) else {}
        table.add_row(
            safe(key, "green", single_line=True),
            fmt_number(s.get("last")),
            fmt_number(s.get("min")),
            fmt_number(s.get("max")),
            fmt_number(s.get("last_step")),
            fmt_number(s.get("count")),
        )
    for key in sorted(values):
        if key not in summary:
            table.add_row(
                safe(key, "green", single_line=True), fmt_number(values[key]), "", "", "", "summary"
            )
    return table


class OverviewPane(VerticalScroll):
    DEFAULT_CSS = "OverviewPane { padding: 0 1; }"

    def __init__(self, *, now: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._now = now or (lambda: datetime.now(UTC))
        self._shown: tuple[Any, RunExtras, Path | None] | None = None
        self._second = 0

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="overview-facts")
        yield Static(id="overview-body")

    def show(self, info: Any, extras: RunExtras, root: Path | None = None) -> None:
        self._shown = (info, extras, root)
        self._second = int(self._now().timestamp())
        self.query_one("#overview-facts", Static).update(self.facts(info, extras, root))
        self.query_one("#overview-body", Static).update(self.rest(info, extras))

    def tick(self) -> None:
        """A live run's ages and duration, once a second: only the facts are drawn again
        (the metric summary below them can be long), and nothing is read."""
        second = int(self._now().timestamp())
        if self._shown is None or self._shown[0].status != "running" or second == self._second:
            return
        self._second = second
        self.query_one("#overview-facts", Static).update(self.facts(*self._shown))

    def describe(self, info: Any, extras: RunExtras, root: Path | None = None) -> RenderableType:
        return Group(self.facts(info, extras, root), self.rest(info, extras))

    def facts(self, info: Any, extras: RunExtras, root: Path | None = None) -> RenderableType:
        status = str(info.status)
        now = self._now()
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="bold cyan", no_wrap=True)
        facts.add_column()
        facts.add_row(
            "status",
            Text.assemble((f"{status_glyph(status)} {status}", STATUS_STYLES.get(status, ""))),
        )
        created = run_time(info, "created")
        if isinstance(created, datetime):
            facts.add_row("created", f"{fmt_time(created)}  ({fmt_age(created, now)} ago)")
        else:
            facts.add_row("created", created or "")
        ended = run_time(info, "ended")
        seen = getattr(info, "last_seen", None)
        if isinstance(ended, datetime):
            facts.add_row("ended", fmt_time(ended))
        elif ended:
            facts.add_row("ended", ended)
        elif status == "running":
            facts.add_row("ended", Text("still running", style="dim"))
        else:  # its writer stopped beating without saying so: when was it last alive?
            facts.add_row("ended", Text(f"never recorded ({status})", style="dim"))
        if not isinstance(ended, datetime) and isinstance(seen, datetime):
            label = "last beat" if status == "running" else "last seen alive"
            facts.add_row(label, f"{fmt_time(seen)}  ({fmt_age(seen, now)} ago)")
        duration = live_duration(status, created, getattr(info, "duration_s", None), now)
        evidence = None if ended or seen or status == "running" else last_evidence(info)
        if evidence is not None:  # no heartbeat (never beat, or copied without it)
            when, what = evidence
            line = Text(f"{fmt_time(when)}  ({fmt_age(when, now)} ago)  ")
            line.append(f"{what}, no heartbeat", style="dim")
            facts.add_row("last seen alive", line)
            if duration is None and isinstance(created, datetime):
                start = created if created.tzinfo else created.replace(tzinfo=UTC)
                duration = max(0.0, (when - start).total_seconds())
        facts.add_row("duration", fmt_duration(duration))
        host = Text()
        host.append_text(safe(info.host or "?", single_line=True))
        host.append("  user ")
        host.append_text(safe(info.user or "?", single_line=True))
        host.append(f"  pid {info.pid}" if info.pid else "")
        facts.add_row("host", host)
        facts.add_row("command", Text(shell_command(info.command)))
        facts.add_row("git", _git_line(extras.code))
        tags = Text(", ").join(safe(t, "magenta", single_line=True) for t in info.tags)
        facts.add_row("tags", tags if info.tags else Text("none (t adds)", style="dim"))
        facts.add_row("run id", safe(info.run_id))
        reproduces = getattr(info, "meta", {}).get("reproduces")
        if isinstance(reproduces, str) and reproduces:
            facts.add_row("reproduces", safe(reproduces, single_line=True))
        facts.add_row("folder", safe(str(_relative(Path(info.path), root))))
        if info.error:
            err = info.error if isinstance(info.error, dict) else {"message": info.error}
            message = f"{err.get('type', 'error')}: {err.get('message', '')}"
            facts.add_row("error", safe(message, "bold red"))
        return facts

    def rest(self, info: Any, extras: RunExtras) -> RenderableType:
        """Below the facts: writers, metric summary, notes, comments."""
        parts: list[RenderableType] = [Text()]
        world_size = getattr(info, "world_size", None)
        if world_size:
            writers = extras.writers
            title = f"writers ({len(writers)} of world_size {world_size})"
            parts += [Text(title, style="bold underline"), writers_table(writers), Text()]
        summary = getattr(info, "summary", {}) or {}
        values = getattr(info, "values", {}) or {}
        if summary or values:
            parts += [Text("metrics", style="bold underline"), summary_table(summary, values)]
        else:
            parts.append(Text("no metrics logged", style="dim"))
        parts += [Text(), Text("notes", style="bold underline")]
        parts.append(
            safe_markdown(extras.notes) if extras.notes else Text("nothing logged", style="dim")
        )
        parts += [Text(), Text("comments (n adds one)", style="bold underline")]
        if extras.comments:
            parts += [_comment_line(c) for c in extras.comments]
        else:
            parts.append(Text("nothing logged", style="dim"))
        if extras.errors:
            parts += [Text(), Text("could not read", style="bold yellow")]
            parts += [safe(f"{k}: {v}", "yellow") for k, v in sorted(extras.errors.items())]
        return Group(*parts)
