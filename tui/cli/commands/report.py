"""`mmtop report REF... -o report.html`: runs, or a model version, as one HTML file."""

from __future__ import annotations

import argparse
from typing import Any

from mmtop.tui.cli.common import open_store, output, resolve
from mmtop.tui.cli.errors import EXIT_OK, UsageError


def run(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    refs = list(ns.runs)
    models = [ref for ref in refs if _is_model_ref(st, ref)]
    if models:
        if len(refs) > 1:
            raise UsageError("a model report takes one model version; runs are reported apart")
        from mmtop.tui.cli.commands.models import version_of
        from mmtop.tui.report.model import model_report

        html = model_report(st, version_of(st, models[0]), title=ns.title)
    else:
        from mmtop.tui.report.runs import runs_report

        ids = [resolve(st, ref) for ref in refs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise UsageError(f"run given more than once: {', '.join(dupes)}")
        html = runs_report(st, ids, title=ns.title)
    with output(ns.output) as out:
        out.write(html.encode("utf-8"))
    return EXIT_OK


def _is_model_ref(st: Any, ref: str) -> bool:
    """NAME@ALIAS or NAME/VERSION where NAME is a registered model; anything else is a run
    (`experiment/name`, or a run name that holds an @)."""
    name, at, _ = ref.partition("@")
    if not at:
        name, slash, number = ref.rpartition("/")
        if not slash or not number.isdigit():
            return False
    models = st.models()
    return models.height > 0 and name in set(models["name"].to_list())
