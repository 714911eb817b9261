"""Prediction logging (`store.monitor`) to a store on object storage.

The model's registry events and the monitored version's manifest and baseline (not its
model files) are pulled into a staging folder; the ordinary `PredictionLogger` then writes
its prediction and label parts there, each one a conditional create on the object store
(store/s3/push.py). Closing the logger flushes and removes the staging folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import paths
from ..registry import layout
from .push import remote_errors
from .remote_run import Staging, pull, pull_tree

if TYPE_CHECKING:
    from ..monitoring.logger import PredictionLogger


def monitor(
    url: str, name: str, target: str, version: int | None, flush_every: float
) -> PredictionLogger:
    from ..monitoring.logger import monitor as local_monitor
    from ..registry.catalog import Catalog

    staging = Staging(url)
    try:
        model = f"{paths.MODELS_DIR}/{layout.check_model_name(name)}"
        pull(staging.remote, staging.folder, paths.STORE_MARKER)
        pull_tree(staging.remote, staging.folder, f"{model}/{layout.EVENTS_DIR}/")
        if version is None:
            version = Catalog(staging.folder).log(name).state().deployments.get(target)
        if version is not None:
            prefix = f"{model}/{layout.VERSIONS_DIR}/{layout.check_version(version)}/"
            with remote_errors(staging.url, prefix):
                found = staging.remote.walk(prefix)
            for key, modified in found:
                if not key[len(prefix) :].startswith(f"{layout.MODEL_DIR}/"):
                    pull(staging.remote, staging.folder, key, modified)
        logger = local_monitor(
            name, target, root=staging.folder, version=version, flush_every=flush_every
        )
    except BaseException:
        staging.close()
        raise
    logger.on_close = staging.close
    return logger
