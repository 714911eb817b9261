"""`mmtop reproduce RUN`: rebuild a run's code, environment and command; with --run, run it
and say whether the result matched (exit 0), differed (exit 3) or could not be rebuilt (1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mmtop.tui.cli.common import open_store, resolve, root_text
from mmtop.tui.cli.errors import EXIT_DIFFERS, EXIT_OK, CliError, UsageError
from mmtop.tui.safe_text import clean


def run(ns: argparse.Namespace) -> int:
    from mmtop.tui import reproduce_plan
    from mmtop.tui.cli import reproduce_build as build

    if not ns.rtol >= 0:
        raise UsageError(f"--rtol must be >= 0, got {ns.rtol!r}")
    st = open_store(ns)
    run_id = resolve(st, ns.run)
    plan = reproduce_plan.plan(st.run(run_id))
    if plan.missing:
        pieces = "; ".join(str(m) for m in plan.missing)
        raise CliError(f"cannot rebuild run {run_id}: not captured: {pieces}")
    out = Path(ns.output) if ns.output else Path(f"reproduce-{run_id}")
    opts = build.Options(
        out=out,
        store_root=root_text(ns),
        python=ns.python,
        reuse_packages=ns.reuse_packages,
        repo=Path(ns.repo) if ns.repo else None,
    )
    try:
        folder = build.write(plan, opts)
    except build.StepFailed as exc:
        raise CliError(f"could not rebuild run {run_id}: {exc}") from None
    _say(_describe(plan, folder))
    if not ns.run_it:
        _say(f"next: sh {folder / build.SCRIPT}   (or mmtop reproduce {run_id} --run)")
        return EXIT_OK
    if plan.redacted:
        raise CliError(
            f"could not rebuild run {run_id}: step 'run' refused: the command had "
            f"{len(plan.redacted)} redacted value(s); put them back in "
            f"{folder / build.SCRIPT} and run it yourself"
        )
    before = set(open_store(ns).runs()["run_id"].to_list())
    for step in build.STEPS:
        _say(f"step {step} ...")
        code = build.run_step(folder, step)
        if code != 0:
            raise CliError(
                f"could not rebuild run {run_id}: step {step!r} failed "
                f"(exit status {code}; its output is above)"
            )
    return _judge(ns, run_id, before, float(ns.rtol))


def _judge(ns: argparse.Namespace, run_id: str, before: set[str], rtol: float) -> int:
    from mmtop.tui.cli import reproduce_check

    st = open_store(ns)
    new = [r for r in st.runs()["run_id"].to_list() if r not in before]
    rebuilt = [r for r in new if st.run(r).meta.get("reproduces") == run_id]
    if not rebuilt:
        raise CliError(
            f"could not rebuild run {run_id}: step 'run' logged no run that reproduces it "
            f"in {root_text(ns)!r} (does the script choose its own store root?)"
        )
    newest = sorted(rebuilt)[-1]
    if len(rebuilt) > 1:
        _say(f"{len(rebuilt)} new runs reproduce {run_id}; comparing the newest, {newest}")
    verdict = reproduce_check.compare(st, run_id, newest, rtol)
    _say(f"rebuilt run: {newest}")
    reproduce_check.render(verdict, sys.stdout.buffer, rtol)
    sys.stdout.flush()
    return EXIT_OK if verdict.reproduced else EXIT_DIFFERS


def _describe(plan: Any, folder: Path) -> str:
    from mmtop.tui.formatting import shell_command

    def one(text: object) -> str:
        return clean(text, single_line=True)

    branch = f" ({one(plan.branch)})" if plan.branch else ""
    lines = [
        f"reproduction of run {plan.run_id} in {one(folder)}",
        f"  commit    {plan.commit}{branch}",
        f"  patch     {plan.patch_bytes} bytes applied" if plan.patch else "  patch     none",
        f"  packages  {len(plan.pinned)} pinned in requirements.txt",
        f"  command   (in {one(plan.workdir)}) python {one(shell_command(plan.argv))}",
    ]
    lines += [f"  not pinned: {one(why)}" for why in plan.unpinned]
    if plan.untracked:
        shown = ", ".join(one(u) for u in plan.untracked[:5])
        more = f" and {len(plan.untracked) - 5} more" if len(plan.untracked) > 5 else ""
        lines.append(f"  not captured (untracked files): {shown}{more}")
    if plan.redacted:
        lines.append(
            f"  the command had {len(plan.redacted)} redacted value(s): never stored, "
            "fill them in reproduce.sh"
        )
    lines += [f"  note: {one(note)}" for note in plan.notes]
    return "\n".join(lines)


def _say(text: str) -> None:
    sys.stderr.write(clean(text) + "\n")
    sys.stderr.flush()
