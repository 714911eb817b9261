"""Single-byte flips in a metrics part: how many silently change the data a reader returns?

Writes one run (3 keys x 300 steps, one part), then for each of N seeded flips (one byte XORed
with a random non-zero value at a random offset) classifies what `store.history()` and
`mmtop doctor --deep` make of the damaged copy:

- detected: history() reports the part in problems() (or raises a StoreError), or doctor
  --deep exits 1;
- unchanged: the flip hit bytes no reader looks at, and the points read are the originals;
- silent: history() returned different points and doctor --deep found nothing.

    python benchmarks/flip_parts.py [--flips 200] [--seed 17]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import shutil
import sys
import tempfile
from pathlib import Path

import polars as pl

from mmtop import store
from mmtop.tui import cli


def make_run(root: Path) -> tuple[str, Path]:
    rng = random.Random(0)
    with store.Run(
        experiment="flip", root=root, capture_env=False, capture_code=False, capture_system=False
    ) as run:
        for step in range(300):
            run.log({"a": rng.random(), "b/loss": rng.gauss(0, 1), "c": float(step)}, step=step)
    parts = sorted((run.path / "metrics").glob("*.parquet"))
    assert len(parts) == 1, parts
    return run.run_id, parts[0]


def points(root: Path, run_id: str) -> tuple[pl.DataFrame | None, bool]:
    """(points read, whether the reader reported the part as bad)."""
    st = store.open(root, cache=False)
    try:
        df = st.history(run_id)
    except BaseException:  # noqa: BLE001 - a crash counts as detected, not as silent
        return None, True
    return df, bool(st.problems())


def doctor_flags(root: Path) -> bool:
    sink = io.TextIOWrapper(io.BytesIO())  # the CLI writes bytes to stdout's buffer
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            code = cli.main(["--root", str(root), "doctor", "--deep"])
        except BaseException:  # noqa: BLE001 - a crashed doctor did not report the part
            return False
    return code != 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flips", type=int, default=200)
    ap.add_argument("--seed", type=int, default=17)
    ns = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mmtop-flip-"))
    try:
        clean = tmp / "clean"
        run_id, part = make_run(clean)
        original, _ = points(clean, run_id)
        assert original is not None
        data = part.read_bytes()
        rng = random.Random(ns.seed)
        counts = {"detected": 0, "unchanged": 0, "silent": 0, "read_flagged": 0}
        for i in range(ns.flips):
            work = tmp / f"flip{i}"
            shutil.copytree(clean, work)
            target = work / part.relative_to(clean)
            offset = rng.randrange(len(data))
            damaged = bytearray(data)
            damaged[offset] ^= rng.randrange(1, 256)
            target.write_bytes(bytes(damaged))
            df, flagged = points(work, run_id)
            counts["read_flagged"] += flagged
            if flagged or doctor_flags(work):
                counts["detected"] += 1
            elif df is not None and df.equals(original):
                counts["unchanged"] += 1
            else:
                counts["silent"] += 1
            shutil.rmtree(work)
        print(
            f"{ns.flips} single-byte flips in a {len(data)}-byte part (seed {ns.seed}): "
            f"{counts['silent']} silently changed the data, {counts['detected']} detected "
            f"({counts['read_flagged']} by history() itself), {counts['unchanged']} read back "
            "unchanged",
            file=sys.stderr,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
