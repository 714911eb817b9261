"""`mmtop ls` over one run with very many metric keys, in fresh processes.

Budget (issue 17, item 16): 100k metric keys in one run, `mmtop ls` <= 2 s. Flattening the
runs frame was quadratic in the number of keys (2k keys 3.9 s, 10k 73 s, 100k killed). The
figure to report is the ratio to a bare program that does the unavoidable part of the work in
the same run: start Python, import polars, parse the run's summary JSON. "cold" removes the
reader cache first, "warm" keeps it. CPU seconds (user + system) are printed too: on a shared
box they move less than wall time.

    python benchmarks/bench_wide.py [--keys 2000,10000,100000] [--dir /tmp/mmtop-bench-wide]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ)
ENV.pop("NO_COLOR", None)
ENV.pop("MMTOP_DIR", None)
MMTOP = [sys.executable, "-m", "mmtop.tui.cli"]
BARE = "import sys, json, polars; json.load(open(sys.argv[1]))"


def generate(root: Path, keys: int) -> Path:
    """One finished run that logged `keys` metrics once, through the public API."""
    from mmtop import store

    with store.Run(
        experiment="wide",
        root=root,
        capture_env=False,
        capture_code=False,
        capture_system=False,
    ) as run:
        run.log({f"layer{i // 100}/m{i:06d}": float(i) for i in range(keys)}, step=0)
    (summary,) = (run.path / "summary").glob("*.json")
    return summary


def wall(argv: list[str], timeout: float, cpu: list[float] | None = None) -> float:
    """Wall seconds of one run of `argv`; its CPU seconds (user + system) go to `cpu`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, timeout=timeout)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.decode()[-500:]}")
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", default="2000,10000,100000")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mmtop-bench-wide"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    print(
        f"{'keys':>7} {'bare':>7} {'ls cold':>8} {'ls warm':>8} {'warm/bare':>9}"
        f" {'cpu cold':>9} {'cpu warm':>9}"
    )
    for keys in (int(k) for k in args.keys.split(",")):
        root = args.dir / f"keys-{keys}"
        shutil.rmtree(root, ignore_errors=True)
        summary = generate(root, keys)
        ls = [*MMTOP, "ls", "--root", str(root)]
        bare = min(wall([sys.executable, "-c", BARE, str(summary)], 60) for _ in range(args.repeat))
        cold: list[float] = []
        cpu_cold: list[float] = []
        for _ in range(args.repeat):
            shutil.rmtree(root / ".mmtop", ignore_errors=True)
            cold.append(wall(ls, args.timeout, cpu_cold))
        cpu_warm: list[float] = []
        warm = min(wall(ls, args.timeout, cpu_warm) for _ in range(args.repeat))
        print(
            f"{keys:>7} {bare:>6.2f}s {min(cold):>7.2f}s {warm:>7.2f}s {warm / bare:>8.1f}x"
            f" {min(cpu_cold):>8.2f}s {min(cpu_warm):>8.2f}s"
        )


if __name__ == "__main__":
    main()
