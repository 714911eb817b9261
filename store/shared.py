"""Shared runs: several processes (DDP ranks, job-array tasks) writing one run.

A shared run knows how many writers to expect (`world_size`) and each writer records itself
in run.json's `writers`. The run stays `running` until every expected writer of the current
attempt has ended; the writer that ends last records the run's final status. A reader shows
`crashed` while a writer that never ended has a stale heartbeat (`heartbeats/<writer>`).
Every decision here runs on a run.json dict under the run's lock (fsio.update_json), so two
ranks ending at once cannot both think they were last, and a late joiner sees a true status.
Without a world size (or with 1) none of this applies: docs/FORMAT.md, "Shared runs".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import paths
from .fsio import read_json
from .ids import hostname, now_iso, pid_alive
from .schema import FINAL_STATUSES

DEFAULT_STALE_AFTER = 30.0
# A same-host writer whose process is gone is crashed as soon as its heartbeat misses a beat.
DEAD_PID_GRACE = 3.0


@dataclass(frozen=True)
class Launch:
    """How many writers a run expects and which one this process is."""

    world_size: int | None
    rank: int | None
    local_rank: int | None


def _env_int(environ: Mapping[str, str], name: str, low: int) -> int | None:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer >= {low}")
    return value


def from_env(environ: Mapping[str, str] | None = None) -> Launch:
    """World size and rank as launchers set them.

    torchrun, Lightning and accelerate: WORLD_SIZE, RANK, LOCAL_RANK. SLURM only inside an
    srun step (SLURM_STEP_ID set): SLURM_STEP_NUM_TASKS and SLURM_PROCID. Not SLURM_NTASKS
    alone (a batch script sees the allocation's task count but is one process) and never job
    arrays (array tasks are separate jobs).
    """
    env = os.environ if environ is None else environ
    world = _env_int(env, "WORLD_SIZE", 1)
    local = _env_int(env, "LOCAL_RANK", 0)
    if world is not None:
        rank = _env_int(env, "RANK", 0)
        if rank is None and local is not None and env.get("NODE_RANK", "0") == "0":
            rank = local  # one node: the local rank is the rank
        return Launch(world, rank, local)
    if env.get("SLURM_STEP_ID", "").isdigit():
        world = _env_int(env, "SLURM_STEP_NUM_TASKS", 1)
        rank = _env_int(env, "SLURM_PROCID", 0)
        if world is not None and rank is not None:
            return Launch(world, rank, _env_int(env, "SLURM_LOCALID", 0))
    return Launch(None, None, local)


def resolve(
    world_size: int | None, rank: int | None, run_id: str | None, environ: Mapping[str, str]
) -> Launch:
    """The launch of a `store.Run`: explicit arguments first, then the launcher's environment.

    The environment only counts for an explicit `run_id`: ranks share a run by its id, and a
    rank that generates its own id writes a run of its own.
    """
    for name, value, low in (("world_size", world_size, 1), ("rank", rank, 0)):
        if value is not None and (type(value) is not int or value < low):
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    env = from_env(environ) if run_id is not None else Launch(None, None, None)
    size = world_size if world_size is not None else env.world_size
    if size is not None and size > 1 and run_id is None:
        raise ValueError(f"world_size={size} needs run_id=...: the writers share a run by its id")
    me = rank if rank is not None else env.rank
    if size is not None and me is not None and me >= size:
        raise ValueError(f"rank {me} is out of range for world_size={size}")
    return Launch(size, me, env.local_rank)


def is_shared(meta: Mapping[str, Any]) -> bool:
    size = meta.get("world_size")
    return type(size) is int and size > 1


def attempt_of(meta: Mapping[str, Any]) -> int:
    resumed = meta.get("resumed")
    return len(resumed) if isinstance(resumed, list) else 0


def writers_of(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = meta.get("writers")
    return [w for w in found if isinstance(w, dict)] if isinstance(found, list) else []


def current_writers(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    attempt = attempt_of(meta)
    return [w for w in writers_of(meta) if w.get("attempt", 0) == attempt]


def writer_record(writer: str, launch: Launch, attempt: int) -> dict[str, Any]:
    return {
        "writer": writer,
        "rank": launch.rank,
        "local_rank": launch.local_rank,
        "host": hostname(),
        "pid": os.getpid(),
        "started": now_iso(),
        "ended": None,
        "status": "running",
        "attempt": attempt,
    }


def merge_tags(meta: dict[str, Any], tags: list[str]) -> None:
    current = [str(t) for t in meta.get("tags") or []]
    meta["tags"] = current + [t for t in dict.fromkeys(tags) if t not in current]


def admit(
    meta: dict[str, Any],
    writer: str,
    launch: Launch,
    resume: bool,
    run: str | os.PathLike[str],
    store_time: Callable[[], float],
) -> bool:
    """Add this writer to the run in `meta` (run.json of folder `run`), or raise ValueError;
    True if it reopened the run. Other writers' heartbeats are judged by their age on
    `store_time`, the clock that stamps them (store/beats.py, `StoreClock`)."""
    run_id = meta.get("run_id")
    expected = meta.get("world_size") if is_shared(meta) else 1
    size = launch.world_size or 1
    status = meta.get("status")
    ended = status in FINAL_STATUSES
    waiting = [w for w in current_writers(meta) if w.get("ended") is None]
    now = store_time() if is_shared(meta) and waiting else 0.0
    crashed = is_shared(meta) and any(
        writer_stale(w, beat_of(run, w.get("writer")), now, DEFAULT_STALE_AFTER, DEAD_PID_GRACE)
        for w in waiting
    )
    if ended and not resume:
        if is_shared(meta):
            raise ValueError(
                f"run {run_id} is {status}: all {expected} writers it expects "
                f"(world_size={expected}) have ended; pass resume=True to continue it"
            )
        raise ValueError(
            f"run {run_id} is {status}; pass resume=True to continue it (processes that share "
            "one run pass world_size=N, or set WORLD_SIZE, so that none ends it for the others)"
        )
    reopen = resume and (ended or crashed or not is_shared(meta))
    if reopen:
        meta.update(status="running", ended=None, error=None, pid=os.getpid(), host=hostname())
        meta.setdefault("resumed", []).append(now_iso())
        if launch.world_size is not None:
            meta["world_size"] = launch.world_size
    elif launch.world_size is not None and size > 1 and not is_shared(meta):
        # The run was started before the launcher said how many would write it (Lightning's
        # rank 0 runs the script before it starts the other ranks): it becomes shared.
        meta["world_size"] = size
    elif launch.world_size is not None and size != expected:
        raise ValueError(
            f"run {run_id} is shared by world_size={expected} writers; this writer was "
            f"started with world_size={size}"
        )
    meta.setdefault("writers", []).append(writer_record(writer, launch, attempt_of(meta)))
    return reopen


def close(meta: dict[str, Any], writer: str, status: str, error: dict[str, Any] | None) -> None:
    """Record this writer's end in `meta` and, when it is the run's last, the run's status."""
    now = now_iso()
    mine = next((w for w in writers_of(meta) if w.get("writer") == writer), None)
    if mine is None:  # a run.json edited by hand, or written before writers were recorded
        mine = {"writer": writer, "host": hostname(), "pid": os.getpid(), "started": None}
        mine["attempt"] = attempt_of(meta)
        meta.setdefault("writers", []).append(mine)
    mine.update(ended=now, status=status)
    if error is not None:
        mine["error"] = error
    if not is_shared(meta):
        # Another writer of the run may have failed or been killed first: finishing
        # normally here must not hide that.
        if status == "finished" and meta.get("status") in ("failed", "killed"):
            meta["ended"] = now
            return
        meta.update(status=status, ended=now, error=error)
        return
    if mine.get("attempt", 0) != attempt_of(meta):
        return  # a writer of an earlier attempt: the run's status is the new attempt's
    peers = current_writers(meta)
    if len(peers) < meta["world_size"] or any(w.get("ended") is None for w in peers):
        return
    for final in ("failed", "killed"):
        hit = [w for w in peers if w.get("status") == final]
        if hit:
            first = min(hit, key=lambda w: str(w.get("ended")))
            reason = first.get("error")
            if isinstance(reason, dict):
                reason = dict(reason, rank=first.get("rank"))
            meta.update(status=final, ended=now, error=reason)
            return
    meta.update(status="finished", ended=now, error=None)


def writer_stale(
    record: Mapping[str, Any], beat: float, now: float, stale_after: float, grace: float
) -> bool:
    """Whether a writer that has not ended is gone: its heartbeat is stale, or its process
    on this host has died."""
    age = now - beat
    pid = record.get("pid")
    dead_here = record.get("host") == hostname() and isinstance(pid, int) and not pid_alive(pid)
    return age > stale_after or (dead_here and age > grace)


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def beat_of(run: str | os.PathLike[str], writer: Any) -> float:
    """The mtime of a writer's heartbeat file, else of the run's heartbeat: a writer that
    started before the run became shared beats only the run's."""
    own = _mtime(os.path.join(run, paths.HEARTBEATS_DIR, str(writer)))
    return own or _mtime(os.path.join(run, paths.HEARTBEAT))


def liveness(
    run: str | os.PathLike[str], meta: Mapping[str, Any], now: float, stale_after: float
) -> str:
    """`running` or `crashed` for a shared run whose run.json says running."""
    waiting = [w for w in current_writers(meta) if w.get("ended") is None]
    if not waiting:
        # Every writer that came has ended, and some expected ones never came: crashed once
        # nobody has beaten for `stale_after`.
        age = now - _mtime(os.path.join(run, paths.HEARTBEAT))
        return "crashed" if age > stale_after else "running"
    for w in waiting:
        if writer_stale(w, beat_of(run, w.get("writer")), now, stale_after, DEAD_PID_GRACE):
            return "crashed"
    return "running"


def writer_rows(
    run: str | os.PathLike[str], meta: Mapping[str, Any], now: float, stale_after: float
) -> list[dict[str, Any]]:
    """One row per recorded writer: rank, host, pid, status (live ones read from their
    heartbeats), last step (from its summary), start, end, attempt, error."""
    attempt = attempt_of(meta)
    rows = []
    for w in writers_of(meta):
        status = str(w.get("status") or "running")
        if w.get("ended") is None:
            gone = w.get("attempt", 0) != attempt or writer_stale(
                w, beat_of(run, w.get("writer")), now, stale_after, DEAD_PID_GRACE
            )
            status = "crashed" if gone else "running"
        rows.append(
            {
                "writer": w.get("writer"),
                "rank": w.get("rank"),
                "host": w.get("host"),
                "pid": w.get("pid"),
                "status": status,
                "last_step": _last_step(run, w.get("writer")),
                "started": w.get("started"),
                "ended": w.get("ended"),
                "attempt": w.get("attempt", 0),
                "error": w.get("error"),
            }
        )
    return rows


def _last_step(run: str | os.PathLike[str], writer: Any) -> int | None:
    """The largest step this writer logged, from its summary file (None: nothing yet)."""
    try:
        doc = read_json(os.path.join(run, paths.SUMMARY_DIR, f"{writer}.json"))
        steps = [int(s["last_step"]) for s in doc["metrics"].values()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return max(steps) if steps else None
