"""Costs of a run's automatic captures: env, code, a system sample, the console tee.

Prints figures; asserts nothing. Run: python benchmarks/bench_capture.py
"""

from __future__ import annotations

import gc
import io
import sys
import tempfile
import time
from pathlib import Path


def best_ms(fn: object, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    t = time.perf_counter()
    from mmtop.store.capture import ConsoleCapture, SystemSampler, collect_code, collect_env
    from mmtop.store.capture import env as env_module
    from mmtop.store.capture.console import read_console

    print(f"import mmtop.store.capture      {1000 * (time.perf_counter() - t):8.1f} ms")
    # Pay the interpreter's pending full collection of the freshly imported heap first, so the
    # figure is collect_env's own work (a training process pays that collection regardless).
    gc.collect()
    t = time.perf_counter()
    found = collect_env()
    print(
        f"collect_env, first call         {1000 * (time.perf_counter() - t):8.1f} ms"
        f"  ({len(found['packages'])} packages)"
    )
    print(f"collect_env, cached             {best_ms(collect_env):8.3f} ms")
    print(f"installed_packages, uncached    {best_ms(env_module.installed_packages):8.2f} ms")
    print(f"collect_code (this checkout)    {best_ms(collect_code, 5):8.1f} ms")

    sampler = SystemSampler(lambda values, when: None)
    sampler.sample()
    print(f"SystemSampler.sample()          {1000 * best_ms(sampler.sample, 200):8.1f} us")

    cost = best_ms(sampler.sample, 200) / 1000
    print(f"sampler duty at every=5 s        {100 * cost / 5.0:8.4f} % of one core")

    with tempfile.TemporaryDirectory() as folder:
        line = "epoch 3 step 1200 loss 0.4321 acc 0.9012\n"
        n = 200_000
        real = sys.stdout
        sys.stdout = io.StringIO()
        t = time.perf_counter()
        for _ in range(n):
            sys.stdout.write(line)
        bare = time.perf_counter() - t
        log = Path(folder) / "console.log"
        with ConsoleCapture(log):
            t = time.perf_counter()
            for _ in range(n):
                sys.stdout.write(line)
            teed = time.perf_counter() - t
        sys.stdout = real
        print(f"stdout.write, bare              {1e6 * bare / n:8.2f} us/line")
        print(f"stdout.write, tee'd             {1e6 * teed / n:8.2f} us/line")
        size = log.stat().st_size
        t = time.perf_counter()
        lines = read_console(log)
        print(
            f"read_console, all ({size / 1e6:.1f} MB)      "
            f"{1000 * (time.perf_counter() - t):8.1f} ms  ({len(lines)} lines)"
        )
        print(f"read_console, tail 200          {best_ms(lambda: read_console(log, 200)):8.2f} ms")
        bar = Path(folder) / "bar.log"
        bar.write_text(
            "".join(f"\r{i:6d}/100000 [{'#' * (i // 5000):<20}]" for i in range(100_000)) + "\n"
        )
        print(f"read_console, one 3.4 MB \\r line {best_ms(lambda: read_console(bar), 5):7.1f} ms")


if __name__ == "__main__":
    main()
