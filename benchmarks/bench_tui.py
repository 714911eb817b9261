"""The terminal app at scale: first paint, sort/filter keystroke to repaint, and RSS.

Generates stores of N runs (written straight in the store format: 20 params of which a few
vary, 5 metrics, mixed statuses) once under --dir, then measures each size in a fresh
process driving the app headless (`App.run_test()`), with the reader's cache cold (no .mmtop/)
and warm:

- first paint: from before `import mmtop.tui.app` to the first frame that shows the table's rows
  (the import is timed separately);
- keystroke to repaint: what a key's binding runs (sort, reverse, metric sort, a filter
  keystroke, quick search) plus the screen update that paints it, median of several;
- RSS of the process once the table is on screen.

    python benchmarks/bench_tui.py [--runs 10000 100000] [--dir /tmp/mmtop-bench-tui]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGETS = {10_000: 1.5, 100_000: 4.0}
STATUSES = ["finished"] * 8 + ["failed", "killed"]


def generate(root: Path, n: int) -> None:
    """Write N runs the way the writer leaves them (fast: no Parquet parts, no threads)."""
    from mmtop.store import paths
    from mmtop.store.folders import ensure_store
    from mmtop.store.schema import RUN_SCHEMA_VERSION

    ensure_store(root)
    keys = ["train/loss", "val/loss", "val/acc", "lr", "grad_norm"]
    for i in range(n):
        exp = f"exp{i % 25}"
        run_id = f"2026{1 + i // 86400 % 12:02d}{1 + i // 3600 % 28:02d}T{i // 60 % 60:02d}" \
                 f"{i % 60:02d}00Z-{i:06x}"  # fmt: skip
        folder = root / exp / run_id
        (folder / paths.SUMMARY_DIR).mkdir(parents=True)
        meta = {
            "schema_version": RUN_SCHEMA_VERSION,
            "run_id": run_id,
            "experiment": exp,
            "name": f"{['sgd', 'adam', 'lion'][i % 3]}-run-{i}",
            "status": STATUSES[i % len(STATUSES)],
            "created": f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
            "ended": f"2026-01-02T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
            "host": f"node{i % 16}",
            "user": "bench",
            "pid": 1000 + i,
            "command": ["train.py", "--seed", str(i)],
            "tags": [["baseline"], ["sweep"], ["sweep", "gpu"]][i % 3],
            "error": None,
        }
        (folder / paths.RUN_JSON).write_text(json.dumps(meta))
        params = {f"p{j}": 0.1 * j for j in range(15)}  # the same everywhere: hidden
        params.update(
            lr=10 ** -(1 + i % 4),
            batch=[32, 64, 128][i % 3],
            seed=i,
            optim={"name": ["sgd", "adam", "lion"][i % 3], "momentum": 0.9},
        )
        (folder / paths.PARAMS_JSON).write_text(json.dumps(params))
        metrics = {
            k: {
                "last": ((i * 37 + j * 11) % 1000) / 1000,
                "last_step": 99,
                "last_time": 0.0,
                "min": ((i * 13 + j) % 500) / 1000,
                "max": 0.5 + ((i * 7 + j) % 500) / 1000,
                "count": 100,
            }
            for j, k in enumerate(keys)
        }
        summary = {"writer": "w0", "updated": 0, "metrics": metrics, "values": {}}
        (folder / paths.SUMMARY_DIR / "w0.json").write_text(json.dumps(summary))


CHILD = r"""
import asyncio, json, os, statistics, sys, time
t_start = time.perf_counter()
from mmtop.tui.app import MmtopApp
from mmtop.tui.launch import Launch
from pathlib import Path
t_import = time.perf_counter() - t_start

root = Path(sys.argv[1])
repeats = int(sys.argv[2])


async def main():
    import psutil
    app = MmtopApp(Launch(root, "path"), watch=False)
    out = {"import_s": t_import}
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        while screen.loads < 1:
            await asyncio.sleep(0.005)
        screen._on_timer_update()  # the frame that shows the rows
        out["first_paint_s"] = time.perf_counter() - t_start
        out["store_runs_s"] = screen.load_seconds
        out["rows"] = screen.model.total
        out["rss_mb"] = psutil.Process().memory_info().rss / 2**20

        cpu = {}

        async def repaint(action):
            samples, cpu_samples = [], []
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                action()
                await pilot._wait_for_screen()
                screen._on_timer_update()
                samples.append(time.perf_counter() - t0)
                cpu_samples.append(time.process_time() - c0)
            cpu[len(cpu)] = statistics.median(cpu_samples)
            return statistics.median(samples)

        table = screen.table
        table.cursor_col = 1
        out["sort_name_ms"] = 1000 * await repaint(screen.action_sort_focused)
        out["reverse_ms"] = 1000 * await repaint(screen.action_reverse_sort)
        out["sort_metric_ms"] = 1000 * await repaint(lambda: screen.sort_by("metrics.val/acc"))
        out["metric_min_ms"] = 1000 * await repaint(screen.action_cycle_metric_agg)
        texts = iter(["params.lr > 1e-3", "params.lr > 1e-2", "params.lr > 1e-1"] * repeats)
        out["filter_sql_ms"] = 1000 * await repaint(lambda: screen.set_filter(next(texts)))
        words = iter(["adam", "adam-", "adam-r", "adam-ru", "adam-run"] * repeats)
        out["filter_words_ms"] = 1000 * await repaint(lambda: screen.set_filter(next(words)))
        out["clear_filter_ms"] = 1000 * await repaint(lambda: screen.set_filter(""))
        out["cursor_down_ms"] = 1000 * await repaint(table.action_cursor_down)
        out["rss_after_mb"] = psutil.Process().memory_info().rss / 2**20
        out["worst_cpu_ms"] = 1000 * max(cpu.values())
    print(json.dumps(out))


asyncio.run(main())
"""


def child(root: Path, repeats: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(repeats)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mmtop-bench-tui"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for n in args.runs:
        root = args.dir / f"runs-{n}"
        if not (root / "mmtop-store.json").exists():
            shutil.rmtree(root, ignore_errors=True)
            t0 = time.perf_counter()
            generate(root, n)
            print(f"generated {n} runs in {time.perf_counter() - t0:.1f} s under {root}")
        shutil.rmtree(root / ".mmtop", ignore_errors=True)
        for mode in ("cold", "warm"):
            r = child(root, args.repeats)
            budget = BUDGETS.get(n)
            verdict = ""
            if budget is not None:
                verdict = "ok" if r["first_paint_s"] <= budget else "OVER"
                verdict = f" (budget {budget} s: {verdict})"
            print(
                f"{n:>7} runs, {mode} cache: first paint {r['first_paint_s']:.2f} s{verdict}"
                f" = import {r['import_s']:.2f} s + store.runs() {r['store_runs_s']:.2f} s"
                f" + app; RSS {r['rss_mb']:.0f} MB (after keys {r['rss_after_mb']:.0f} MB)"
            )
            keys = [k for k in r if k.endswith("_ms") and k != "worst_cpu_ms"]
            worst = max(r[k] for k in keys)
            print(
                "         keystroke to repaint (median ms): "
                + ", ".join(f"{k[:-3]} {r[k]:.0f}" for k in keys)
                + f"  [worst {worst:.0f} ms wall, {r['worst_cpu_ms']:.0f} ms CPU"
                + (f", budget 100 ms: {'ok' if worst <= 100 else 'OVER'}]" if n <= 10_000 else "]")
            )


if __name__ == "__main__":
    main()
