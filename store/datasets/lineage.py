"""Which runs and model versions used a dataset version, and which versions it came from.

A run records the version it used in its inputs.json entry (`dataset`) beside the content
fingerprint; a model version copies the run's entries into its manifest. Either side is
matched by fingerprint, so runs logged before the registry existed count as users of the
version whose content they used, when their fingerprint is of the same kind.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .version import DatasetVersion


def runs_using(runs: pl.DataFrame, fingerprint: str) -> list[dict[str, Any]]:
    """{run_id, experiment, name, status, as} of each run with an input of this fingerprint."""
    if "datasets" not in runs.columns or not isinstance(runs.schema["datasets"], pl.Struct):
        return []
    out = []
    fields = [f.name for f in runs.schema["datasets"].fields]
    for field in fields:
        hits = runs.filter(pl.col("datasets").struct.field(field) == fingerprint)
        for row in hits.select("run_id", "experiment", "name", "status").iter_rows(named=True):
            out.append({**row, "as": field})
    return sorted(out, key=lambda r: (str(r["run_id"]), str(r["as"])))


def models_using(
    manifests: list[tuple[str, int, dict[str, Any]]], fingerprint: str
) -> list[dict[str, Any]]:
    """{ref, run_id, as} of each model version whose lineage lists this fingerprint."""
    out = []
    for name, number, manifest in manifests:
        lineage = manifest.get("lineage") or {}
        for d in lineage.get("datasets") or []:
            if isinstance(d, dict) and d.get("fingerprint") == fingerprint:
                out.append(
                    {
                        "ref": f"{name}/{number}",
                        "run_id": lineage.get("run_id"),
                        "as": d.get("name"),
                    }
                )
    return out


def derived_from(version: DatasetVersion, others: list[DatasetVersion]) -> list[dict[str, str]]:
    """Versions that name this one as their `labels` or `parent`."""
    out = []
    for other in others:
        for field in ("labels", "parent"):
            if other.related(field) == version.ref:
                out.append({"ref": other.ref, "as": field})
    return out
