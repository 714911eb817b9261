"""Logging to a store on S3 against logging to a local folder, and what one flush costs.

Starts moto's S3 server on 127.0.0.1 (a free port; nothing leaves the machine), then:
- points/s of `run.log({10 scalars}, step)` for `--steps` steps, flush (every 2 s) and
  finish included, to a local folder and to `s3://<bucket>/bench`;
- one `run.flush()` of `--flush-points` buffered points, local and S3: its wall time and the
  objects it writes (a part, its checksum line file, the summary).

    python benchmarks/bench_s3_write.py [--steps 200000] [--flush-points 10000] [--repeat 3]

Needs `pip install 'mmtop[s3]' 'moto[server]'`. moto is a Python server on the same cores,
so the S3 figures include its own work: a real S3 endpoint costs network latency instead.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request

from mmtop import store

KEYS = [f"train/m{i}" for i in range(10)]


def start_s3() -> str:
    """moto's S3 server in a thread; the AWS environment pointed at it; a new bucket's URL."""
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    endpoint = f"http://{host}:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_REGION="us-east-1",
        AWS_ALLOW_HTTP="true",
    )
    bucket = f"bench-{secrets.token_hex(4)}"
    req = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")
    urllib.request.urlopen(req, timeout=30).close()
    return f"s3://{bucket}/bench"


def log_steps(root: str, steps: int) -> float:
    rng = random.Random(0)
    rows = [[rng.random() for _ in KEYS] for _ in range(1000)]
    t0 = time.perf_counter()
    with store.Run(experiment="bench", root=root, flush_every=2.0, capture_system=False) as run:
        log = run.log
        for step in range(steps):
            log(dict(zip(KEYS, rows[step % 1000], strict=True)), step=step)
    return time.perf_counter() - t0


def one_flush(root: str, points: int) -> tuple[float, int]:
    """Seconds of one flush of `points` buffered points, and the objects it wrote."""
    with store.Run(experiment="flush", root=root, flush_every=3600, capture_system=False) as run:
        for step in range(points // len(KEYS)):
            run.log(dict.fromkeys(KEYS, float(step)), step=step)
        staging = run._staging
        before = staging.pusher.puts if staging is not None else 0
        t0 = time.perf_counter()
        run.flush()
        took = time.perf_counter() - t0
        puts = (staging.pusher.puts - before) if staging is not None else 0
    return took, puts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--flush-points", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    url = start_s3()
    local = tempfile.mkdtemp(prefix="bench-s3-local-")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    targets = (("local folder", local), ("local S3 server", url))
    for _, root in targets:  # imports and first-run costs out of the figures
        log_steps(root, 1000)
    times: dict[str, list[float]] = {name: [] for name, _ in targets}
    for _ in range(args.repeat):  # interleaved: load on the shared box hits both alike
        for name, root in targets:
            times[name].append(log_steps(root, args.steps))
    for name, _ in targets:
        runs = times[name]
        rate = args.steps * len(KEYS) / statistics.median(runs)
        print(
            f"{name:>16}: {args.steps:,} steps x {len(KEYS)} keys: median "
            f"{statistics.median(runs):.2f} s, {rate:,.0f} points/s "
            f"(best {args.steps * len(KEYS) / min(runs):,.0f})"
        )
    for name, root in targets:
        got = [one_flush(root, args.flush_points) for _ in range(args.repeat)]
        took = statistics.median(t for t, _ in got)
        puts = got[0][1]
        what = f", {puts} objects written" if puts else ""
        print(f"{name:>16}: one flush of {args.flush_points:,} points: {took * 1000:.1f} ms{what}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    shutil.rmtree(local, ignore_errors=True)


if __name__ == "__main__":
    main()
