"""Headless `mmtop` in fresh processes: --help, and `ls` over a generated 10k-run store.

Budgets (DESIGN.md section 6): `mmtop ls` over 10k runs <= 1 s warm in a fresh process and
within 2x of a bare polars read of the same files; `mmtop --help` well under a second.
The store is generated once (by bench_open's generator, which writes the store format
directly) and reused; "cold" removes the reader cache first, "warm" keeps it.

    python benchmarks/bench_cli.py [--runs 10000] [--dir /tmp/mmtop-bench-cli] [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ)
ENV.pop("NO_COLOR", None)
MMTOP = [sys.executable, "-m", "mmtop.tui.cli"]


def _bench_open():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "bench_open", REPO / "benchmarks" / "bench_open.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wall(argv: list[str]) -> float:
    """Seconds for a fresh process to run `argv` to the end, stdout into a pipe."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def best(fn: Callable[[], float], repeat: int) -> tuple[float, float]:
    times = [fn() for _ in range(repeat)]
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mmtop-bench-cli"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bench_open = _bench_open()
    root = args.dir / f"runs-{args.runs}"
    if not (root / "mmtop-store.json").exists():
        shutil.rmtree(root, ignore_errors=True)
        t0 = time.perf_counter()
        bench_open.generate(root, args.runs)
        print(f"generated {args.runs} runs in {time.perf_counter() - t0:.1f} s under {root}")

    python = best(lambda: wall([sys.executable, "-c", "pass"]), args.repeat)
    print(f"python -c pass           min {python[0]:.3f} s  median {python[1]:.3f} s")
    for label, argv in (
        ("mmtop --help", [*MMTOP, "--help"]),
        ("mmtop ls --help", [*MMTOP, "ls", "--help"]),
        ("mmtop completion bash", [*MMTOP, "completion", "bash"]),
    ):
        t = best(lambda argv=argv: wall(argv), args.repeat)
        print(f"{label:24} min {t[0]:.3f} s  median {t[1]:.3f} s")

    shutil.rmtree(root / ".mmtop", ignore_errors=True)
    cold = wall([*MMTOP, "ls", "--root", str(root)])
    print(f"mmtop ls, {args.runs} runs, cold cache: {cold:.3f} s")
    ls_runs = {
        "ls (table)": [*MMTOP, "ls", "--root", str(root)],
        "ls --format csv": [*MMTOP, "ls", "--root", str(root), "-f", "csv"],
        "ls --format json": [*MMTOP, "ls", "--root", str(root), "-f", "json"],
        "ls --sort --limit 20": [
            *MMTOP,
            "ls",
            "--root",
            str(root),
            "--sort=-metrics.m0",
            "-n",
            "20",
        ],
        "ls --where": [*MMTOP, "ls", "--root", str(root), "-w", "params.p0 > 0.5", "-q"],
    }
    results: dict[str, tuple[float, float]] = {}
    for label, argv in ls_runs.items():
        results[label] = best(lambda argv=argv: wall(argv), args.repeat)
        t = results[label]
        print(f"mmtop {label:22} warm min {t[0]:.3f} s  median {t[1]:.3f} s")

    bare = best(lambda: wall([sys.executable, "-c", bench_open.BARE, str(root)]), args.repeat)
    ratio = results["ls (table)"][0] / bare[0]
    print(f"bare polars/json read (process)  min {bare[0]:.3f} s  median {bare[1]:.3f} s")
    print(f"mmtop ls / bare read = {ratio:.2f}x (budget <= 2x; ls budget <= 1 s)")

    export_out = args.dir / "history.csv"
    t0 = time.perf_counter()
    wall([*MMTOP, "export", "--root", str(root), "--history", "-o", str(export_out)])
    elapsed = time.perf_counter() - t0
    with export_out.open("rb") as handle:
        points = sum(1 for _ in handle) - 1
    print(
        f"mmtop export --history: {points:,} points in {elapsed:.2f} s "
        f"({points / elapsed:,.0f} points/s incl. start-up), {export_out.stat().st_size:,} bytes"
    )


if __name__ == "__main__":
    main()
