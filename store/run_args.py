"""The arguments of `store.Run`, checked before the run touches the disk.

Everything here runs before the store folder or the run folder is written, so a call that is
refused leaves nothing behind: no empty store, and above all no run that reads as `running`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths, shared
from .names import check_params, check_run_id, check_text

REPRODUCES_ENV = "MMTOP_REPRODUCES"


@dataclass(frozen=True)
class RunArgs:
    root: Path  # for a store on object storage: unused, the writer stages it locally
    flush_every: float
    tags: list[str]
    launch: shared.Launch
    params: dict[str, Any]
    reproduces: str | None = None
    remote: str | None = None  # s3://bucket/prefix


def check_run_args(
    *,
    root: str | os.PathLike[str] | None,
    flush_every: float,
    tags: Iterable[str] | None,
    world_size: int | None,
    rank: int | None,
    run_id: str | None,
    name: str | None,
    capture_system: bool,
    system_every: float,
    params: Mapping[str, Any] | None,
) -> RunArgs:
    """The arguments normalized, or the first one that is wrong as a one-line error.

    The order of the checks is part of the behaviour: when several arguments are wrong, the
    caller is told about the same one every time.
    """
    text = os.fspath(root) if root is not None else os.environ.get(paths.ROOT_ENV, "")
    remote = object_root(text)
    local = Path() if remote is not None else paths.local_root(text or paths.DEFAULT_ROOT)
    interval = float(flush_every)
    # A single string is one tag, not one tag per character.
    given = [tags] if isinstance(tags, str) else (tags or [])
    tag_list = [check_text(t, "tag") for t in given]
    launch = shared.resolve(world_size, rank, run_id, os.environ)
    if name is not None:
        check_text(name, "run name")
    # `not > 0` also refuses NaN. An interval of 0 would spin a background thread.
    if not interval > 0:
        raise ValueError(f"flush_every must be > 0 seconds, got {flush_every!r}")
    if capture_system and not system_every > 0:
        raise ValueError(f"system_every must be > 0 seconds, got {system_every!r}")
    return RunArgs(
        local,
        interval,
        tag_list,
        launch,
        check_params(params or {}),
        reproduces_from_env(),
        remote,
    )


def object_root(text: str) -> str | None:
    """`text` when it names a store on object storage the writer can log to (checked, no
    request made); None for a local folder. Other URLs are refused by paths.local_root."""
    if not text.startswith("s3://"):
        return None
    from .objstore import ObjectRoot

    return ObjectRoot(text).url


def reproduces_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The run id `mmtop reproduce` asks a new run to point at, from $MMTOP_REPRODUCES."""
    value = (os.environ if environ is None else environ).get(REPRODUCES_ENV)
    if not value:
        return None
    try:
        return check_run_id(value)
    except ValueError:
        raise ValueError(f"${REPRODUCES_ENV} is not a run id: {value[:80]!r}") from None
