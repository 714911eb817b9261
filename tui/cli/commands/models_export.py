"""`mmtop models export REF -o DIR`: a folder another machine can use without the store.

It holds the model files as registered, manifest.json, requirements.txt, the input example
and a model card (README.md). Files are verified before they are copied, and the folder
appears whole: it is built beside its destination and renamed into place.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

from mmtop.store.registry.events import concerns, describe
from mmtop.tui import diffing
from mmtop.tui.cli import cells
from mmtop.tui.cli.commands.models import version_of
from mmtop.tui.cli.common import open_store, output
from mmtop.tui.cli.errors import EXIT_OK, CliError, UsageError


def run(ns: argparse.Namespace) -> int:
    st = open_store(ns)
    version = version_of(st, ns.ref)
    if not ns.output:
        raise UsageError("models export needs -o DIR")
    if version.pointer is not None:
        from mmtop.store.registry.model_version import pointer_message

        raise CliError(
            f"{pointer_message(version.ref, version.path, version.pointer)}: no files to export"
        )
    dest = Path(ns.output)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CliError(f"{str(dest)!r} exists and is not an empty folder")
    report = version.verify()
    if not report.ok:
        raise CliError(f"{version.ref}: files do not match the manifest: {report}")
    history = st.model_history(version.name)
    staging = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        write_package(version, history.to_dicts(), staging)
        if dest.exists():
            dest.rmdir()
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with output(None) as out:
        count = len(version.files) + 3
        out.write(f"{version.ref}: {count} files written to {cells.human(str(dest))}\n".encode())
    return EXIT_OK


def write_package(version: Any, events: list[dict[str, Any]], folder: Path) -> None:
    folder.mkdir(parents=True)
    for entry in version.files:
        rel = Path(str(entry["path"]))
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(version.path / rel, target)
    shutil.copyfile(version.path / "manifest.json", folder / "manifest.json")
    requirements = "".join(f"{r}\n" for r in version.manifest.get("requirements") or [])
    (folder / "requirements.txt").write_text(requirements, encoding="utf-8")
    (folder / "README.md").write_text(model_card(version, events), encoding="utf-8")


def _md(value: Any) -> str:
    return cells.md_cell(value)


def model_card(version: Any, events: list[dict[str, Any]]) -> str:
    """What the model is, how it was made and how it has been promoted, and how to load it."""
    m = version.manifest
    lin = m.get("lineage") or {}
    code = lin.get("code") or {}
    lines = [f"# {version.ref}", ""]
    if version.description:
        lines += [_md(version.description), ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| version | {version.version} |",
        f"| aliases | {_md(', '.join(version.aliases)) or '(none)'} |",
        f"| created | {_md(m.get('created'))} by {_md(m.get('user'))}@{_md(m.get('host'))} |",
        f"| flavour | {_md(m.get('flavour'))} |",
        f"| serializer | {_md((m.get('serializer') or {}).get('name'))} |",
        f"| size | {m.get('size')} bytes |",
    ]
    if version.deprecated is not None:
        lines.append(f"| deprecated | {_md(version.deprecated) or 'yes'} |")
    lines += ["", "## How to load", "", "```bash", "pip install -r requirements.txt", "```", ""]
    lines += [_loading(version), ""]
    if lin.get("metrics"):
        lines += ["## Metrics at registration", "", "| metric | value |", "|---|---:|"]
        lines += [f"| {_md(k)} | {_md(v)} |" for k, v in sorted(lin["metrics"].items())]
        lines.append("")
    params = diffing.flatten(lin.get("params") or {})
    if params:
        lines += ["## Params", "", "| param | value |", "|---|---|"]
        lines += [f"| {_md(k)} | {_md(v)} |" for k, v in sorted(params.items())]
        lines.append("")
    if lin.get("datasets"):
        lines += ["## Data", "", "| dataset | fingerprint | rows | uri |", "|---|---|---:|---|"]
        lines += [
            f"| {_md(d.get('name'))} | {_md(d.get('fingerprint'))} | {_md(d.get('rows'))} "
            f"| {_md(d.get('uri'))} |"
            for d in lin["datasets"]
        ]
        lines.append("")
    lines += ["## Lineage", ""]
    if lin.get("run_id"):
        lines.append(
            f"- run: {_md(lin.get('experiment'))}/{_md(lin.get('run_id'))} "
            f"({_md(lin.get('run_name'))})"
        )
    if code.get("commit"):
        lines.append(f"- code: {_md(code['commit'])}{' (dirty)' if code.get('dirty') else ''}")
    parent = lin.get("parent")
    if parent:
        lines.append(f"- parent: {_md(parent.get('name'))}/{parent.get('version')}")
    for child in lin.get("children") or []:
        lines.append(f"- child: {_md(child)}")
    if not lin.get("run_id") and not parent:
        lines.append("- registered without a run")
    lines += ["", "## Alias history", ""]
    mine = [e for e in events if concerns(e, version.version)]
    if mine:
        lines += ["| time | change | by |", "|---|---|---|"]
        lines += [f"| {_time(e)} | {_md(describe(e))} | {_md(e.get('user'))} |" for e in mine]
    else:
        lines.append("(no events)")
    lines += ["", "## Files", "", "| file | bytes | sha256 |", "|---|---:|---|"]
    lines += [
        f"| {_md(f.get('path'))} | {f.get('size')} | {_md(f.get('sha256'))} |"
        for f in version.files
    ]
    return "\n".join(lines) + "\n"


def _time(event: dict[str, Any]) -> str:
    when = event.get("time")
    if isinstance(when, dt.datetime):
        return when.strftime("%Y-%m-%d %H:%M:%S UTC")
    return _md(when)


def _loading(version: Any) -> str:
    flavour = version.flavour
    load = version.manifest.get("load") or {}
    if flavour == "sklearn":
        body = [
            "import skops.io as sio",
            f'model = sio.load("model/{load.get("file")}", trusted=[])',
            "# a type outside skops' safe set is named by sio.get_untrusted_types(file=...)",
        ]
    elif flavour == "pytorch":
        module, _, cls = str(load.get("class", "")).partition(":")
        body = [
            "from safetensors.torch import load_model",
            f"from {module} import {cls}",
            f"model = {cls}(**{load.get('init_kwargs') or {}!r})",
            f'load_model(model, "model/{load.get("file")}")',
        ]
    elif flavour == "keras":
        body = [
            "import keras  # with KERAS_BACKEND set to the backend under frameworks",
            f'model = keras.saving.load_model("model/{load.get("file")}", safe_mode=True)',
        ]
    elif flavour == "onnx":
        body = [
            "import onnxruntime",
            f'session = onnxruntime.InferenceSession("model/{load.get("path")}")',
        ]
    elif flavour == "pickle":
        body = ["# pickled: loading runs code from the file; only if you trust its source"]
    else:
        body = [f"# the model is the file or folder model/{load.get('path')}"]
    body.append("# from mmtop: store.load_model(...) on the registry verifies sha256 first")
    return "```python\n" + "\n".join(body) + "\n```"
