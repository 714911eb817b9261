"""Hashing a version's files at registration, and checking them again later."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def sha256_file(path: Path) -> str:
    # artifacts imports pyarrow, which a reader that only lists models does not need.
    from ..artifacts import sha256_file as digest

    return digest(path)


def describe_files(folder: Path, under: str) -> list[dict[str, Any]]:
    """Every file below `folder/under` as {path (relative to folder), size, sha256}, sorted."""
    base = folder / under
    found = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
    return [
        {
            "path": p.relative_to(folder).as_posix(),
            "size": p.stat().st_size,
            "sha256": sha256_file(p),
        }
        for p in found
    ]


@dataclass
class VerifyReport:
    """The outcome of checking every file a manifest lists."""

    checked: int = 0
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    pointer: str | None = None  # a pointer version: where its files are (nothing to hash)

    @property
    def ok(self) -> bool:
        return not self.mismatched and not self.missing

    def __str__(self) -> str:
        if self.ok and self.pointer is not None:
            return f"pointer, files at {self.pointer}"
        if self.ok:
            return f"{self.checked} files verified"
        parts = []
        if self.mismatched:
            parts.append("changed: " + ", ".join(self.mismatched))
        if self.missing:
            parts.append("missing: " + ", ".join(self.missing))
        return "; ".join(parts)


def verify(folder: Path, files: list[dict[str, Any]]) -> VerifyReport:
    report = VerifyReport()
    for entry in files:
        rel = str(entry.get("path", ""))
        target = folder / rel
        # A manifest is data: a path in it must not reach outside the version folder.
        if not rel or os.path.isabs(rel) or ".." in Path(rel).parts or not target.is_file():
            report.missing.append(rel)
            continue
        report.checked += 1
        if target.stat().st_size != entry.get("size") or sha256_file(target) != entry.get("sha256"):
            report.mismatched.append(rel)
    return report
