"""The wheel ships the sample runs where the app looks for them, and nothing local."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to make a clean checkout")
def test_wheel_holds_the_sample_store_without_caches_or_locks(tmp_path: Path) -> None:
    checkout = tmp_path / "src"
    subprocess.run(["git", "clone", "-q", str(REPO), str(checkout)], check=True)
    # What a developer's working copy has and the wheel must leave out.
    (checkout / "sample_runs" / ".mmtop").mkdir()
    (checkout / "sample_runs" / ".mmtop" / "runs-frame-v1.parquet").write_bytes(b"cache")
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            str(checkout),
            "-w",
            str(tmp_path / "dist"),
        ],
        capture_output=True,
        text=True,
    )
    if built.returncode != 0 and "hatchling" in built.stderr:
        pytest.skip("hatchling is not installed for a build without isolation")
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("mmtop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    samples = [n for n in names if n.startswith("tui/_sample_runs/")]
    assert "tui/_sample_runs/mmtop-store.json" in samples
    assert any(n.endswith("/run.json") for n in samples)
    assert any(n.endswith(".parquet") and "/metrics/" in n for n in samples)
    assert not [n for n in samples if "/.mmtop/" in n or n.endswith((".lock", "generate.py"))]
    assert "tui/app.tcss" in names and "store/__init__.py" in names
