"""The registry half of `store.Store`: list, resolve, register and annotate model versions."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import paths
from ..errors import ReadOnlyStoreError
from ..records import Problem
from . import layout
from .catalog import Catalog
from .events import EventLog
from .model_version import ModelVersion

if TYPE_CHECKING:
    import polars as pl

    from ..monitoring.report import MonitoringReport


class ModelRegistry:
    """Mixed into `store.Store`: needs `root`, `read_only`, `resolve` and `_dir_of`."""

    root: Path
    _catalog_obj: Catalog | None = None

    @property
    def read_only(self) -> bool:
        raise NotImplementedError

    def resolve(self, ref: str) -> str:
        raise NotImplementedError

    def _dir_of(self, run_id: str) -> Path:
        raise NotImplementedError

    @property
    def _catalog(self) -> Catalog:
        if self._catalog_obj is None:
            self._catalog_obj = Catalog(self.root)
        return self._catalog_obj

    # ----------------------------------------------------------------- reading
    def models(self, name: str | None = None) -> pl.DataFrame:
        """One row per committed version: name, version, aliases, created, flavour, size,
        run_id, experiment, parent, description, deprecated, user, host, metrics (struct)."""
        from .frame import models_frame

        if name is not None:
            layout.check_model_name(name)
        return models_frame(self._catalog, name)

    def model(self, ref: str, at: dt.datetime | None = None) -> ModelVersion:
        """`name@alias`, `name/3` or `name` (newest); `at`: what the ref meant at that time."""
        return self._catalog.resolve(ref, at)

    def model_history(self, name: str) -> pl.DataFrame:
        """Every event of a model in order: seq, time, action, version, alias, key, from, to,
        user, host, reason."""
        from .frame import history_frame

        return history_frame(self._catalog.log(layout.check_model_name(name)).read())

    def aliases_at(self, name: str, at: dt.datetime) -> dict[str, int]:
        """Which version each alias of `name` pointed at, at time `at` (replayed events)."""
        return dict(self._catalog.log(layout.check_model_name(name)).state(at).aliases)

    def model_problems(self) -> list[Problem]:
        """Registry files skipped by the last `models()` listing, and interrupted versions."""
        return self._catalog.problems if self._catalog_obj is not None else []

    # ----------------------------------------------------------------- writing
    def register_model(
        self,
        name: str,
        model: Any = None,
        *,
        run: str | None = None,
        path: str | os.PathLike[str] | None = None,
        input_example: Any = None,
        aliases: Iterable[str] = (),
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent: str | None = None,
        allow_pickle: bool = False,
        init_kwargs: Mapping[str, Any] | None = None,
        baseline: Any = None,
        baseline_y: Any = None,
        drift_thresholds: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> ModelVersion:
        """Register a model object, or a file or folder (`path`, which may name one of the
        run's artifacts), as the next version of `name`, with lineage from `run`; baseline,
        thresholds and reason as in `Run.log_model`."""
        self._writable_registry()
        if (model is None) == (path is None):
            raise ValueError("pass either a model object or path=..., not both or neither")
        run_dir = self._dir_of(self.resolve(run)) if run is not None else None
        if path is not None:
            model = _locate(Path(path), run_dir)
        number = self._register(
            name,
            model,
            run=run_dir,
            input_example=input_example,
            aliases=aliases,
            description=description,
            tags=tags,
            parent=self.parent_of(parent) if parent is not None else None,
            allow_pickle=allow_pickle,
            init_kwargs=init_kwargs,
            baseline=baseline,
            baseline_y=baseline_y,
            thresholds=dict(drift_thresholds) if drift_thresholds is not None else None,
            reason=reason,
        )
        return self._catalog.version(name, number)

    def parent_of(self, ref: str) -> dict[str, Any]:
        """{name, version} of the version `ref` names now (an alias is pinned to its version)."""
        found = self.model(ref)
        return {"name": found.name, "version": found.version}

    def set_alias(self, name: str, alias: str, version: int) -> dict[str, Any] | None:
        """Point `alias` at a committed version; returns the event (None: already there)."""
        from .register import move_alias

        self._writable()
        layout.check_alias(alias)
        self._catalog.manifest(layout.check_model_name(name), layout.check_version(version))
        return move_alias(self._log(name), alias, version)

    def remove_alias(
        self, name: str, alias: str, version: int | None = None
    ) -> dict[str, Any] | None:
        """Remove `alias`; returns the event (None: it pointed nowhere).

        With `version`, only while the alias still points there: if it was moved meanwhile,
        nothing is recorded and ValueError says where it points now.
        """
        from .register import move_alias

        self._writable()
        return move_alias(self._log(name), layout.check_alias(alias), None, only_from=version)

    def set_model_tag(self, ref: str, key: str, value: str) -> dict[str, Any] | None:
        from ..names import check_text
        from .register import change

        self._writable()
        v = self.model(ref)
        check_text(key, "tag key")
        check_text(value, "tag value")
        initial = (v.manifest.get("tags") or {}).get(key)
        return change(self._log(v.name), v.version, "tag", value, key=key, initial=initial)

    def set_model_description(self, ref: str, text: str) -> dict[str, Any] | None:
        from .register import MAX_DESCRIPTION, change

        self._writable()
        v = self.model(ref)
        if not isinstance(text, str) or len(text) > MAX_DESCRIPTION:
            raise ValueError(f"description must be text of at most {MAX_DESCRIPTION} characters")
        initial = str(v.manifest.get("description") or "")
        return change(self._log(v.name), v.version, "description", text, initial=initial)

    def deprecate_model(
        self, ref: str, reason: str = "", deprecated: bool = True
    ) -> dict[str, Any] | None:
        from .register import change

        self._writable()
        v = self.model(ref)
        return change(self._log(v.name), v.version, "deprecated", deprecated, reason=reason)

    # ------------------------------------------------------------- deployments
    def deploy(self, ref: str, target: str, note: str | None = None) -> dict[str, Any] | None:
        """Record that the version `ref` names now serves at `target`; returns the event
        (None: it already serves there)."""
        from .deployments import deploy

        self._writable()
        layout.check_target(target)
        v = self.model(ref)
        return deploy(self._log(v.name), v.version, target, note)

    def rollback(self, name: str, target: str, note: str | None = None) -> dict[str, Any]:
        """Deploy again, at `target`, the version the one serving there replaced."""
        from .deployments import rollback

        self._writable()
        layout.check_target(target)
        return rollback(self._log(name), target, note)

    def undeploy(self, name: str, target: str, note: str | None = None) -> dict[str, Any]:
        """Record that nothing of `name` serves at `target` any more (an event, like a
        deployment); ValueError when nothing does."""
        from .deployments import undeploy

        self._writable()
        layout.check_target(target)
        event = undeploy(self._log(name), target, note)
        assert event is not None  # only a conditional undeploy records nothing
        return event

    def retire(self, ref: str, reason: str = "") -> list[dict[str, Any]]:
        """Take the version `ref` names out of service: undeploy it from every target where
        it serves, then deprecate it with `reason`. Returns the events recorded (none when
        it served nowhere and was deprecated already)."""
        from ..names import check_text
        from .deployments import MAX_NOTE, undeploy

        self._writable()
        if reason:
            check_text(reason, "retire reason", MAX_NOTE)
        v = self.model(ref)
        log = self._log(v.name)
        events: list[dict[str, Any]] = []
        for target, serving in sorted(log.state().deployments.items()):
            if serving != v.version:
                continue
            try:
                # Only while it still serves there: a deployment made meanwhile stays.
                event = undeploy(log, target, reason or "retired", only=v.version)
            except ValueError:  # undeployed meanwhile
                continue
            if event is not None:
                events.append(event)
        deprecated = self.deprecate_model(v.ref, reason)
        if deprecated is not None:
            events.append(deprecated)
        return events

    def deployments(self, name: str) -> pl.DataFrame:
        """Every deployment of a model in order: seq, time, target, version, from, rollback,
        undeployed (this event stopped the target: version null), current (this event set
        the target's version now serving), user, host, note."""
        from .deployments import timeline

        return timeline(self._catalog.log(layout.check_model_name(name)).read())

    def deployed(self, name: str, at: dt.datetime | None = None) -> dict[str, int]:
        """Which version serves at each target of `name`, now or at time `at`."""
        return dict(self._catalog.log(layout.check_model_name(name)).state(at).deployments)

    # ------------------------------------------------------------- monitoring
    def monitoring(
        self,
        name: str,
        target: str = "prod",
        window: str | int = "1d",
        *,
        thresholds: Mapping[str, Any] | None = None,
        max_drop: float = 0.05,
        min_labels: int = 30,
        since: dt.datetime | None = None,
    ) -> MonitoringReport:
        """Drift, prediction drift, latency and quality of `name` at `target` per window
        ("30m", "1h", "1d" or a number of predictions) against the baseline of the version
        that served each window; `.windows`, `.drift`, `.alerts` are polars frames and
        `.status` is "ok", "alert" or "no data" (see store/monitoring/report.py)."""
        from ..monitoring.report import build
        from ..monitoring.story import story

        layout.check_model_name(name)
        layout.check_target(target)

        def baseline_of(version: int) -> dict[str, Any] | None:
            try:
                return self._catalog.version(name, version).baseline()
            except (KeyError, OSError, ValueError):
                return None

        report = build(
            self.root,
            name,
            target,
            baseline_of,
            window=window,
            thresholds=dict(thresholds) if thresholds is not None else None,
            max_drop=max_drop,
            min_labels=min_labels,
            since=since,
        )
        timeline = self.deployments(name)
        report.deployments = timeline.filter(timeline["target"] == target)
        report.story = story(self._catalog, name, target, report)
        return report

    def targets(self, name: str) -> list[str]:
        """Targets `name` was ever deployed at or has a prediction log for, sorted."""
        from ..monitoring.layout import targets

        logged = targets(self.root, layout.check_model_name(name))
        deployed = self.deployments(name)["target"].to_list()
        return sorted(set(logged) | set(deployed))

    def _log(self, name: str) -> EventLog:
        return self._catalog.log(layout.check_model_name(name))

    def _writable_registry(self) -> None:
        """Raise when `register_model` cannot write here."""
        self._writable()

    def _register(self, name: str, model: Any, **kwargs: Any) -> int:
        """Register `model` as the next version of `name`; its number."""
        from .register import register

        return register(self.root, name, model, **kwargs)

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"the store at {self.root} is read-only")


def _locate(path: Path, run_dir: Path | None) -> Path:
    """`path` as given, else relative to the run folder, else one of the run's artifacts."""
    if path.exists() or run_dir is None or path.is_absolute():
        if not path.exists():
            raise FileNotFoundError(f"model path does not exist: {path}")
        return path
    for candidate in (run_dir / path, run_dir / paths.ARTIFACTS_DIR / path):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"run {run_dir.name} has no file or artifact {str(path)!r}")
