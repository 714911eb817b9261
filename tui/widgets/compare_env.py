"""Env/code/data tab of the compare screen: what besides params could explain a difference.

A banner says first whether the runs were trained on different data (a dataset used by
only some runs, or with another fingerprint); then one line each for code, Python and
packages; then a table of every differing entry, in sections data, code, python,
packages and machine (all entries with `show_all`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from mmtop.tui import diffing
from mmtop.tui.formatting import fit, fmt_value
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.compare_params import cell
from mmtop.tui.widgets.compare_table import KEY_WIDTH, CompareTable, header

# Fields that change on every logging call and say nothing about the data itself.
VOLATILE_INPUT_FIELDS = frozenset({"logged"})
# Hashes read best by their first digits (the algorithm prefix is the same everywhere).
DIGEST_SUFFIXES = ("fingerprint", "sha256", "commit")
DIGEST_CHARS = 12
SECTIONS = ("data", "code", "python", "packages", "machine")


@dataclass(frozen=True)
class EnvDiff:
    """Everything the tab shows, computed without a terminal."""

    different_data: list[str]
    datasets: list[str]
    sections: dict[str, list[diffing.Row]]
    commits: list[Any]  # one per run (MISSING when not recorded)
    dirty: list[Any]
    pythons: list[Any]


def stable_inputs(inputs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in i.items() if k not in VOLATILE_INPUT_FIELDS} for i in inputs]


def env_diff(
    envs: Sequence[Mapping[str, Any] | None],
    codes: Sequence[Mapping[str, Any] | None],
    inputs: Sequence[Sequence[Mapping[str, Any]]],
    *,
    show_all: bool = False,
) -> EnvDiff:
    data = [stable_inputs(i) for i in inputs]
    env = diffing.env_rows(envs, all_rows=show_all)
    sections = {
        "data": diffing.data_rows(data, all_rows=show_all),
        "code": diffing.code_rows(codes, all_rows=show_all),
        "python": [r for r in env if r.key.startswith("python.")],
        "packages": [r for r in env if r.key.startswith("packages.")],
        "machine": [r for r in env if not r.key.startswith(("python.", "packages."))],
    }
    flat_codes = [diffing.flatten(c or {}) for c in codes]
    flat_envs = [diffing.flatten(e or {}) for e in envs]
    return EnvDiff(
        different_data=diffing.different_data(data),
        datasets=sorted({n for i in data for n in diffing.inputs_by_name(i)}),
        sections=sections,
        commits=[c.get("git.commit", diffing.MISSING) for c in flat_codes],
        dirty=[c.get("git.dirty", diffing.MISSING) for c in flat_codes],
        pythons=[e.get("python.version", diffing.MISSING) for e in flat_envs],
    )


def data_banner(diff: EnvDiff) -> Text:
    """The first thing on the tab: loud when the data differs."""
    if diff.different_data:
        names = ", ".join(diff.different_data)
        text = Text()
        text.append(" ⚠ TRAINED ON DIFFERENT DATA ", style="bold white on red")
        text.append_text(safe(f"  datasets that differ: {names}", "bold red", single_line=True))
        return text
    if diff.datasets:
        names = ", ".join(diff.datasets)
        return safe(f"✓ same data: {names} (fingerprints match)", "green", single_line=True)
    return Text("no datasets recorded (log them with run.log_dataset)", style="dim")


def _counted(values: Sequence[Any], what: str, short: int = 0) -> str:
    known = [fmt_value(v)[:short] if short else fmt_value(v) for v in values]
    counts = Counter(v for v in known if v)
    if not counts:
        return f"{what}: not recorded"
    if len(counts) == 1:
        (value,) = counts
        return f"{what}: {value} everywhere" if len(values) > 1 else f"{what}: {value}"
    parts = ", ".join(f"{v} ({n} run{'s' if n != 1 else ''})" for v, n in counts.most_common(4))
    more = f", +{len(counts) - 4} more" if len(counts) > 4 else ""
    return f"{what}: {len(counts)} different: {parts}{more}"


def summary_lines(diff: EnvDiff, labels: Sequence[str]) -> Text:
    commits = [c for c in diff.commits if c is not diffing.MISSING]
    text = safe(_counted(commits, "git commit", short=8), single_line=True)
    dirty = [labels[i] for i, d in enumerate(diff.dirty) if d is True]
    if dirty:
        text.append_text(safe(f" · uncommitted changes in {', '.join(dirty)}", "yellow"))
    pythons = [p for p in diff.pythons if p is not diffing.MISSING]
    text.append("\n")
    text.append_text(safe(_counted(pythons, "python"), single_line=True))
    packages = [r.key.removeprefix("packages.") for r in diff.sections["packages"] if r.differs]
    text.append("\n")
    if packages:
        shown = ", ".join(packages[:8]) + (
            f", +{len(packages) - 8} more" if len(packages) > 8 else ""
        )
        text.append_text(safe(f"packages: {len(packages)} with other versions: {shown}", "yellow"))
    else:
        text.append("packages: same versions")
    return text


def short_digest(value: Any) -> Any:
    """`blake2b:cea6d2a369a0b13cf...` -> `cea6d2a369a0`; other values unchanged."""
    if not isinstance(value, str):
        return value
    return value.rpartition(":")[2][:DIGEST_CHARS]


def env_cell(key: str, value: Any, base: Any) -> Text:
    """A cell highlighted by the full value, digests shown by their first digits."""
    shown = cell(value, base)
    if key.endswith(DIGEST_SUFFIXES) and isinstance(value, str):
        return safe(short_digest(value), str(shown.style), single_line=True)
    return shown


class EnvDiffPane(Vertical):
    DEFAULT_CSS = """
    EnvDiffPane > #env-banner { height: auto; padding: 0 1; }
    EnvDiffPane > .compare-caption { height: auto; padding: 0 1; }
    EnvDiffPane > CompareTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="env-banner")
        yield Static("", classes="compare-caption")
        yield CompareTable(id="env-table")

    @property
    def table(self) -> CompareTable:
        return self.query_one(CompareTable)

    def show(
        self,
        labels: Sequence[str],
        diff: EnvDiff,
        baseline: int,
        *,
        pattern: re.Pattern[str] | None = None,
    ) -> None:
        self.query_one("#env-banner", Static).update(data_banner(diff))
        summary = summary_lines(diff, labels)
        titles = [header(label, i == baseline) for i, label in enumerate(labels)]
        cells: list[list[Text]] = []
        for section in SECTIONS:
            rows = [r for r in diff.sections[section] if pattern is None or pattern.search(r.key)]
            if not rows:
                continue
            cells.append([Text(f"── {section}", style="bold underline")] + [Text("")] * len(labels))
            for r in rows:
                key = safe(fit(r.key, KEY_WIDTH), "bold" if r.differs else "", single_line=True)
                base = r.values[baseline]
                cells.append([key] + [env_cell(r.key, v, base) for v in r.values])
        if not cells:
            summary.append("\nno differences in environment, code or data", style="italic")
        summary.append("\na: all entries/differences only", style="dim")
        self.query_one(".compare-caption", Static).update(summary)
        self.table.fill(["entry"], titles, cells)
