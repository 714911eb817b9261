"""Which store `mmtop [PATH]` opens: PATH, else $MMTOP_DIR, else ./mmruns, else the samples.

The bundled sample runs live at `sample_runs/` in a source checkout and at
`tui/_sample_runs` in a wheel (pyproject force-includes them there). They are opened
read-only: they belong to the installation, not to the user.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mmtop.store import paths

HINT = (
    "no store found: showing the bundled sample runs (read-only). "
    "Log a run with `from mmtop import store`"
)


@dataclass(frozen=True)
class Launch:
    root: Path | str  # a str only for a store on object storage (s3://...)
    source: str  # "path" | "env" | "default" | "sample"
    read_only: bool = False
    hint: str = ""


def sample_root() -> Path | None:
    """The bundled sample store, wherever this installation put it."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_sample_runs", here.parent / "sample_runs"):
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    return None


def resolve(path: str | None, environ: dict[str, str] | None = None) -> Launch:
    env = os.environ if environ is None else environ
    if path:
        remote = paths.object_root(path)
        return Launch(remote if remote else paths.local_root(path), "path")
    remote = paths.object_root(env.get(paths.ROOT_ENV))
    if remote is not None:
        return Launch(remote, "env")
    if env.get(paths.ROOT_ENV):
        root = paths.default_root(env)
        if root.exists():
            return Launch(root, "env")
    default = Path(paths.DEFAULT_ROOT)
    if default.exists():
        return Launch(default, "default")
    sample = sample_root()
    if sample is not None:
        return Launch(sample, "sample", read_only=True, hint=HINT)
    # Nothing to show: open the default location anyway so the first logged run appears live.
    return Launch(paths.default_root(env), "default")
