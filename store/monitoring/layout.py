"""Where a model's prediction logs live (docs/FORMAT.md, "Prediction logs").

    _models/<name>/monitoring/<target>/predictions/<writer>-<seq>.parquet
    _models/<name>/monitoring/<target>/labels/<writer>-<seq>.parquet

Each part is immutable, written whole by one writing process (its own writer id), with its
sha256 in `<writer>.sha256` beside it, exactly like a run's metric parts.
"""

from __future__ import annotations

from pathlib import Path

from ..registry import layout

MONITORING_DIR = "monitoring"
PREDICTIONS_DIR = "predictions"
LABELS_DIR = "labels"

# Columns of a predictions part besides the features (`x.<name>`) and class probabilities
# (`proba.<class>`).
TIME, VERSION, ID, PREDICTION, LATENCY = "time", "version", "id", "prediction", "latency_ms"
LABEL = "label"
FEATURE_PREFIX = "x."
PROBA_PREFIX = "proba."
# Dictionary encoding only where values repeat: tried on float features it costs more than
# the whole write.
PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": [PREDICTION, VERSION, LABEL],
}


def target_dir(root: Path, name: str, target: str) -> Path:
    return layout.model_dir(root, name) / MONITORING_DIR / layout.check_target(target)


def predictions_dir(root: Path, name: str, target: str) -> Path:
    return target_dir(root, name, target) / PREDICTIONS_DIR


def labels_dir(root: Path, name: str, target: str) -> Path:
    return target_dir(root, name, target) / LABELS_DIR


def targets(root: Path, name: str) -> list[str]:
    """Targets that have a prediction log, sorted."""
    folder = layout.model_dir(root, name) / MONITORING_DIR
    try:
        return sorted(p.name for p in folder.iterdir() if p.is_dir())
    except FileNotFoundError:
        return []
