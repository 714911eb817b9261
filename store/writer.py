"""`store.Run`: the logging API a training script uses.

A run is a folder of plain files (docs/FORMAT.md). Points are buffered in memory and a
background thread writes them as immutable Parquet parts every `flush_every` seconds, refreshes
the heartbeat and rewrites this writer's summary file; `finish` (or leaving the `with` block)
flushes the rest and records the final status.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from array import array
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import lifecycle, paths, run_index, shared
from .beats import StoreClock
from .capture import ConsoleCapture, SystemSampler, collect_code, collect_env, redact_argv
from .errors import StoreError, StoreWriteError, first_line
from .flushing import Flusher, record_end
from .folders import claim_new_run_dir, ensure_store, find_run_dir
from .fsio import (
    create_json_exclusive,
    locked,
    touch,
    update_json,
    write_bytes_atomic,
    write_json_atomic,
)
from .ids import hostname, new_writer_id, now_iso, username
from .logging_api import ExplicitLogging
from .names import check_key, check_params, check_path_component, check_run_id
from .notes import touch_parent
from .run_args import RunArgs, check_run_args
from .safe_files import inside
from .schema import FINAL_STATUSES, RUN_SCHEMA_VERSION
from .steps import check_step, last_step, step_error

if TYPE_CHECKING:
    from .s3.remote_run import Staging

HEARTBEAT_EVERY = 1.0
MAX_BUFFERED_CALLS = 500_000
_now = time.time


def _float_array(values: list[Any]) -> array[float]:
    return array("d", values)


def to_float(key: str, value: Any) -> float:
    """A logged value as float: numbers, numpy/torch scalars, 0-d arrays; never text."""
    if isinstance(value, str | bytes | bytearray) or value is None:
        raise TypeError(f"value for {key!r} is not a number: {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        kind = TypeError if isinstance(exc, TypeError) else ValueError
        raise kind(f"value for {key!r} is not a number: {shown}") from None


class Summary(dict[str, Any]):
    """`run.summary`: explicit end-of-run values (test accuracy, ...), keyed like metrics."""

    def __setitem__(self, key: str, value: Any) -> None:
        check_key(key)
        super().__setitem__(key, to_float(key, value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for k, v in dict(*args, **kwargs).items():
            self[k] = v


class Run(ExplicitLogging):
    """One training run. Use as a context manager, or call `finish()` yourself.

    Captured automatically, each switchable off: the environment (env.json), the code
    (code.json, code.patch), system metrics every `system_every` seconds (system/ parts),
    and, when asked for, the console (console.log).

    Processes that share one run (DDP ranks, a job array) pass the same `run_id` and
    `world_size` (default: WORLD_SIZE/RANK as torchrun, Lightning and accelerate set them, or
    SLURM's inside an srun step); the run ends once all of them have (docs/FORMAT.md).
    """

    def __init__(
        self,
        experiment: str | None = None,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        root: str | os.PathLike[str] | None = None,
        run_id: str | None = None,
        resume: bool = False,
        flush_every: float = 2.0,
        capture_env: bool = True,
        capture_code: bool = True,
        capture_system: bool = True,
        system_every: float = 5.0,
        capture_console: bool = False,
        world_size: int | None = None,
        rank: int | None = None,
        parent_model: str | None = None,
    ) -> None:
        # In this order: nothing is written until every argument has passed, and nothing runs
        # in the background (or is registered to be ended at exit) until the run is on disk.
        args = check_run_args(
            root=root,
            flush_every=flush_every,
            tags=tags,
            world_size=world_size,
            rank=rank,
            run_id=run_id,
            name=name,
            capture_system=capture_system,
            system_every=system_every,
            params=params,
        )
        self.root = args.root
        # A store on object storage: written into a private local folder mirrored to it.
        self._staging: Staging | None = None
        if args.remote is not None:
            from .s3.remote_run import Staging

            self._staging = Staging(args.remote)
            self.root = self._staging.folder
        self.writer_id = new_writer_id()
        self.flush_every = args.flush_every
        self.summary = Summary()
        self._next_step = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._finished = False
        self._owner = True  # created or resumed the run (False: joined another's live run)
        self._launch = args.launch
        self.rank = self._launch.rank
        try:
            self._open(experiment, name, run_id, resume, args, parent_model)
            run_index.note(self.root, self.run_id, self.path.parent.name, "start")
            if self._staging is not None:
                self._staging.push_index_log()
            self._start(capture_env, capture_code, capture_system, system_every, capture_console)
        except BaseException:
            if self._staging is not None:
                self._staging.close()
            raise

    @property
    def url(self) -> str | None:
        """The run's location on object storage (s3://bucket/prefix/exp/run_id), if there."""
        if self._staging is None:
            return None
        return f"{self._staging.url}/{self.path.parent.name}/{self.path.name}"

    # ----------------------------------------------------------------- creation
    def _open(
        self,
        experiment: str | None,
        name: str | None,
        run_id: str | None,
        resume: bool,
        args: RunArgs,
        parent_model: str | None,
    ) -> None:
        """Join the run `run_id` names when it exists, else create a new one."""
        if self._staging is not None:
            self._staging.pull_for(None if run_id is None else check_run_id(run_id))
            if parent_model:  # the model's registry, to pin the version as on a disk
                from .registry.layout import parse_ref
                from .s3.edits import pull_model

                pull_model(self._staging, parse_ref(parent_model)[0])
        ensure_store(self.root)
        # Pinned to a version now: the alias may move before this run registers its model.
        parent = _pin_model(self.root, parent_model) if parent_model else None

        existing = find_run_dir(self.root, check_run_id(run_id)) if run_id is not None else None
        if existing is not None:
            self._join(existing, resume, args.params, args.tags)
        elif resume:
            where = self._staging.url if self._staging is not None else self.root
            raise ValueError(f"cannot resume run {run_id!r}: no such run under {where}")
        else:
            exp = check_path_component(
                "default" if experiment is None else experiment, "experiment name"
            )
            if not inside(self.root / exp, self.root):
                raise ValueError(
                    f"experiment folder {self.root / exp} is a link out of the store: "
                    "mmtop does not write through it"
                )
            if run_id is None:
                self.run_id, self.path = claim_new_run_dir(self.root, exp)
            else:
                self.run_id, self.path = run_id, paths.run_dir(self.root, exp, run_id)
            self._create(exp, name, args.tags, args.params, args.reproduces)

        if parent is not None:
            self.meta = update_json(
                self.path / paths.RUN_JSON, lambda m: m.update(parent_model=parent)
            )

    def _create(
        self,
        experiment: str,
        name: str | None,
        tags: list[str],
        params: dict[str, Any],
        reproduces: str | None,
    ) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        # Beat before run.json exists: a running run without a heartbeat reads as crashed.
        touch(self.path / paths.HEARTBEAT)
        launch = self._launch
        if launch.world_size is not None and launch.world_size > 1:
            self._beat_writer()
        meta: dict[str, Any] = {
            "schema_version": RUN_SCHEMA_VERSION,
            "run_id": self.run_id,
            "experiment": experiment,
            "name": name or f"run-{self.run_id[-6:]}",
            "status": "running",
            "created": now_iso(),
            "ended": None,
            "host": hostname(),
            "user": username(),
            "pid": os.getpid(),
            "command": redact_argv(sys.argv),
            "tags": tags,
            "error": None,
        }
        if launch.world_size is not None and launch.world_size > 1:
            meta["world_size"] = launch.world_size
        if reproduces is not None:
            meta["reproduces"] = reproduces
        meta["writers"] = [shared.writer_record(self.writer_id, launch, 0)]
        if params:
            # Params first, so a reader that sees run.json finds them beside it; merged under
            # the lock, so a process that loses the race below cannot wipe the winner's.
            self.log_params(params)
        if create_json_exclusive(self.path / paths.RUN_JSON, meta):
            self.meta = meta
            return
        # Another process with the same run_id won the race: join its run instead.
        self._owner = False
        self._join(self.path, resume=False, tags=tags)

    def _join(
        self,
        folder: Path,
        resume: bool,
        params: dict[str, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Become a writer of the run in `folder`: admitted (or refused) and recorded under
        the run's lock, with this writer's tags merged in the same update."""
        self.path = folder
        if self._launch.world_size is not None and self._launch.world_size > 1:
            self._beat_writer()  # before the record: a recorded writer without a beat is dead
        reopened = False
        # Probed (in the store's cache folder, as readers do) only if another writer's
        # heartbeat is to be judged.
        clock = StoreClock(paths.cache_dir(self.root), True)

        def enter(meta: dict[str, Any]) -> None:
            nonlocal reopened
            reopened = shared.admit(meta, self.writer_id, self._launch, resume, folder, clock.now)
            if tags:
                shared.merge_tags(meta, tags)

        meta = update_json(folder / paths.RUN_JSON, enter)
        self.run_id = str(meta["run_id"])
        self._owner = reopened
        if resume:
            self._next_step = last_step(folder) + 1
        if reopened:
            touch_parent(folder)  # a resumed run is news to watchers of its experiment
        if params:
            self.log_params(params)
        self.meta = meta

    def _start(
        self,
        capture_env: bool,
        capture_code: bool,
        capture_system: bool,
        system_every: float,
        capture_console: bool,
    ) -> None:
        """Heartbeat, captures, the background flusher and the exit handlers of a run that
        is now on disk; only from here on is there anything to flush or to end."""
        self._flusher = Flusher(
            self.run_id, self.path, self.writer_id, self.summary, self.flush_every
        )
        self._metrics = self._flusher.metrics.buffer
        self._system = self._flusher.system.buffer
        # Bound once: `log` is on the training loop's hot path.
        self._calls = self._metrics.calls
        self._append = self._calls.append
        self._keyset_of = self._metrics.keyset_ids.get
        self._sys_step = -1  # system samples are numbered per writer
        self._sampler: SystemSampler | None = None
        self._console: ConsoleCapture | None = None
        self._shared = shared.is_shared(self.meta)
        self.world_size: int | None = self.meta["world_size"] if self._shared else None
        self._sys_prefix = f"sys/rank{self.rank}/" if self._shared and self.rank is not None else ""
        touch(self.path / paths.HEARTBEAT)
        if self._shared:
            self._beat_writer()
        self._capture(capture_env, capture_code)
        if capture_system:
            self._sampler = SystemSampler(self._on_system_sample, every=system_every)
            self._sampler.start()
        # One console log per rank of a shared run; otherwise the joiners of a run leave the
        # console to the process that created (or resumed) it.
        per_rank = self._sys_prefix != ""
        if capture_console and (self._owner or per_rank):
            self._console = ConsoleCapture(paths.console_log(self.path, self.rank))
            self._console.start()
        lifecycle.register(self)
        self._thread = threading.Thread(
            target=self._background, name=f"mmtop-flush-{self.run_id}", daemon=True
        )
        self._thread.start()

    def _beat_writer(self) -> None:
        beat = paths.writer_heartbeat(self.path, self.writer_id)
        beat.parent.mkdir(exist_ok=True)
        touch(beat)

    def _capture(self, env: bool, code: bool) -> None:
        """env.json, code.json and code.patch: written once, by each writer that starts."""
        if env:
            write_json_atomic(self.path / paths.ENV_JSON, collect_env())
        if code:
            info, patch = collect_code()
            write_json_atomic(self.path / paths.CODE_JSON, info)
            if patch is not None:
                write_bytes_atomic(self.path / paths.CODE_PATCH, patch.encode("utf-8"))

    def _on_system_sample(self, values: dict[str, float], when: float) -> None:
        if self._sys_prefix:
            values = {self._sys_prefix + k.removeprefix("sys/"): v for k, v in values.items()}
        keys = tuple(values)
        keyset = self._system.keyset_id(keys)
        if keyset is None:
            keyset = self._system.add_keyset(keys)
        self._sys_step += 1
        step = self._sys_step
        self._system.calls.append((step, when, keyset, array("d", values.values())))

    # ----------------------------------------------------------------- logging
    @property
    def experiment(self) -> str:
        return str(self.meta["experiment"])

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Log scalar values at `step` (default: one past the last step). All or nothing."""
        if self._finished:
            raise RuntimeError(f"run {self.run_id} is already finished")
        keys = tuple(data)
        if not keys:
            return
        keyset = self._keyset_of(keys)
        if keyset is None:
            for key in keys:
                check_key(key)
            keyset = self._metrics.add_keyset(keys)
        try:
            # array('d') converts and type-checks every value in C: floats, ints, bools and
            # anything with __float__ (numpy/torch scalars, 0-d arrays); text is refused.
            values = _float_array(list(data.values()))
        except (TypeError, ValueError, OverflowError):
            for key, value in data.items():
                to_float(key, value)  # raises, naming the offending key
            raise
        if step is None:
            step = self._next_step
            if step >> 63:  # past int64: the step after 2**63-1
                raise ValueError(step_error(step, "the step after the last one"))
        elif type(step) is not int:
            step = check_step(step)
        elif step >> 63:  # 0 for exactly 0 <= step <= 2**63-1, one cheap C operation
            raise ValueError(step_error(step))
        self._next_step = step + 1
        self._append((step, _now(), keyset, values))
        if len(self._calls) > MAX_BUFFERED_CALLS:
            self._wake.set()

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Merge `params` (nested dicts merge key by key) into params.json, atomically."""
        new = check_params(params)
        target = self.path / paths.PARAMS_JSON

        def merge(current: dict[str, Any]) -> None:
            merged = _deep_merge(current, new)
            current.clear()
            current.update(merged)

        with locked(self.path):
            # Created once, else merged: a read-modify-write the object store can also do.
            try:
                update_json(target, merge)
            except FileNotFoundError:
                if not create_json_exclusive(target, new):
                    update_json(target, merge)

    # ----------------------------------------------------------------- flushing
    def flush(self) -> None:
        """Write buffered points now (the background thread does this on its own).

        When a write fails (a full disk) this raises, and every unwritten point stays in
        memory for the next flush.
        """
        self._flusher.flush()

    def _background(self) -> None:
        flusher = self._flusher
        last_beat = time.monotonic()
        tick = min(self.flush_every, HEARTBEAT_EVERY)
        while not self._stop.is_set():
            self._wake.wait(tick)
            self._wake.clear()
            if self._stop.is_set():
                break
            now = time.monotonic()
            if (
                now - flusher.last_flush >= self.flush_every
                or len(self._calls) > MAX_BUFFERED_CALLS
            ):
                flusher.background_flush(now)
            if now - last_beat >= HEARTBEAT_EVERY:
                try:
                    touch(self.path / paths.HEARTBEAT)
                    if self._shared:
                        self._beat_writer()
                except OSError as exc:
                    print(f"mmtop store: heartbeat of run {self.run_id}: {exc}", file=sys.stderr)
                last_beat = now

    # ----------------------------------------------------------------- ending
    def finish(self, status: str = "finished", error: dict[str, Any] | None = None) -> None:
        """Flush everything and record the final status (finished, failed or killed).

        When the points cannot be written (the disk stays full), a run that was to end
        `finished` ends `failed` with that error, and this raises StoreWriteError once the
        status is recorded.
        """
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}: {status!r}")
        with self._flusher.lock:
            if self._finished:
                return
            self._finished = True
        self._stop.set()
        self._wake.set()
        if self._sampler is not None:
            self._sampler.stop()
        if self._console is not None:
            self._console.stop()
            if self._staging is not None:  # written around fsio: uploaded whole, at the end
                log = self._console.path
                self._staging.push_files(log, log.with_name(log.name + ".1"))
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        failure: StoreWriteError | None = None
        try:
            self._flusher.flush_final()
        except Exception as exc:  # noqa: BLE001 - reported by finish, not lost
            failure = self._flusher.error(exc)
            if status == "finished":
                status, error = "failed", lifecycle.error_info(failure)

        def close(meta: dict[str, Any]) -> None:
            shared.close(meta, self.writer_id, status, error)

        try:
            self.meta = record_end(self.path / paths.RUN_JSON, close)
        except OSError as exc:
            if failure is None:
                raise
            raise StoreWriteError(
                f"{failure}; its status could not be recorded either: {first_line(exc)}",
                failure.errno,
            ) from exc
        finally:
            lifecycle.unregister(self)
        run_index.note(self.root, self.run_id, self.path.parent.name, "finish")
        if self._staging is not None:
            # The staging folder holds this run alone: the fold reads the object store.
            self._staging.push_index_log()
            if failure is None:
                self._staging.close()
            if status != "killed":
                from .s3.index_push import fold_if_due

                fold_if_due(self._staging.url)
        elif status != "killed":  # preempted: leave quickly, the next run folds the log
            run_index.fold_if_due(self.root)
        if failure is not None:
            raise failure

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.finish("finished")
            return
        status = "killed" if isinstance(exc, KeyboardInterrupt) else "failed"
        try:
            self.finish(status, lifecycle.error_info(exc))
        except StoreError as store_exc:  # the exception on its way out matters more
            print(f"mmtop store: {store_exc}", file=sys.stderr)

    def __repr__(self) -> str:
        return f"<store.Run {self.run_id} {self.path}>"


def _pin_model(root: Path, ref: str) -> dict[str, Any]:
    """{name, version} of the model version `ref` names now."""
    from .registry.catalog import Catalog

    found = Catalog(root).resolve(ref)
    return {"name": found.name, "version": found.version}


def _deep_merge(base: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
