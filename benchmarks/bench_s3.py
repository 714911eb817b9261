"""Reading a store on S3: `store.open("s3://...").runs()` in a fresh process, cold and warm,
beside a bare read of the same objects with obstore.

Starts moto's S3 server on 127.0.0.1 in a process of its own (nothing leaves the machine),
generates N runs in the store format (bench_open.py's runs: 20 params, 5 metrics), runs
`mmtop compact` on them so the run index is there as writers leave it, and uploads them.

- cold: a fresh process, an empty mirror folder;
- warm: a fresh process, the mirror left by the cold open (what `mmtop ls` costs the
  second time);
- bare: a fresh process that lists every object under the prefix and GETs the files a
  runs table needs (run.json, params.json, summaries), 16 at a time, then parses them into
  a polars frame: what a reader without the index and the mirror would do.

    python benchmarks/bench_s3.py [--runs 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SERVER = """
import sys
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app),
           threaded=True)
"""

OPEN = """
import sys, time
t0 = time.perf_counter()
from mmtop import store
st = store.open(sys.argv[1])
df = st.runs()
print(time.perf_counter() - t0, df.height, st.mirror.requests)
"""

BARE = """
import asyncio, json, sys, time
t0 = time.perf_counter()
import obstore
import polars as pl
from obstore.store import from_url
client = from_url(sys.argv[1])
keys = [o["path"] for batch in obstore.list(client, chunk_size=1000) for o in batch]
want = [k for k in keys if k.count("/") >= 2 and not k.startswith("_")
        and (k.endswith(("/run.json", "/params.json")) or "/summary/" in k)]
async def get_all():
    gate = asyncio.Semaphore(16)
    async def one(key):
        async with gate:
            got = await obstore.get_async(client, key)
            return key, bytes(await got.bytes_async())
    return await asyncio.gather(*(one(k) for k in want))
runs = {}
for key, data in asyncio.run(get_all()):
    folder, _, name = key.rpartition("/")
    if folder.endswith("/summary"):
        run = runs.setdefault(folder.rpartition("/")[0], {})
        run.setdefault("metrics", {}).update(
            {k: v["last"] for k, v in json.loads(data)["metrics"].items()})
    else:
        runs.setdefault(folder, {})[name] = json.loads(data)
rows = [{**r.get("run.json", {}), "params": r.get("params.json", {}),
         "metrics": r.get("metrics", {})} for r in runs.values()]
df = pl.DataFrame(rows)
print(time.perf_counter() - t0, df.height, len(keys) // 1000 + 1 + len(want))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def upload(local: Path, url: str) -> int:
    import obstore
    from obstore.store import from_url

    client = from_url(url)
    files = [
        p
        for p in local.rglob("*")
        if p.is_file() and not any(x.startswith(".") for x in p.relative_to(local).parts)
    ]

    async def put_all() -> None:
        gate = asyncio.Semaphore(16)

        async def one(p: Path) -> None:
            async with gate:
                await obstore.put_async(client, p.relative_to(local).as_posix(), p.read_bytes())

        await asyncio.gather(*(one(p) for p in files))

    asyncio.run(put_all())
    return len(files)


def timed(script: str, url: str, env: dict[str, str]) -> tuple[float, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", script, url], check=True, capture_output=True, text=True, env=env
    )
    wall, rows, requests = out.stdout.split()
    return float(wall), int(rows), int(requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    ns = parser.parse_args()

    from bench_open import generate

    from mmtop import store

    work = Path(tempfile.mkdtemp(prefix="mmtop-bench-s3-"))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_REGION="us-east-1",
        AWS_ALLOW_HTTP="true",
        MMTOP_CACHE=str(work / "cache"),
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "MMTOP_DIR"):
        env.pop(name, None)
    os.environ.clear()
    os.environ.update(env)
    try:
        for _ in range(200):
            try:
                req = urllib.request.Request(f"{env['AWS_ENDPOINT_URL']}/bench", method="PUT")
                urllib.request.urlopen(req, timeout=5).close()
                break
            except OSError:
                time.sleep(0.1)
        local = work / "local"
        generate(local, ns.runs)
        store.compact(local)
        url = "s3://bench/store"
        t0 = time.perf_counter()
        objects = upload(local, url)
        print(f"{ns.runs} runs, {objects} objects uploaded in {time.perf_counter() - t0:.1f} s")
        colds, warms, bares = [], [], []
        for _ in range(ns.repeat):
            shutil.rmtree(work / "cache", ignore_errors=True)
            cold = timed(OPEN, url, env)
            warm = timed(OPEN, url, env)
            bare = timed(BARE, url, env)
            assert cold[1] == warm[1] == bare[1] == ns.runs, (cold, warm, bare)
            colds.append(cold[0])
            warms.append(warm[0])
            bares.append(bare[0])
            print(
                f"cold {cold[0]:.2f} s ({cold[2]} requests), warm {warm[0]:.2f} s "
                f"({warm[2]} requests), bare list+GET {bare[0]:.2f} s ({bare[2]} requests)"
            )
        print(
            f"median: cold {statistics.median(colds):.2f} s, warm {statistics.median(warms):.2f} s,"
            f" bare {statistics.median(bares):.2f} s; load {os.getloadavg()[0]:.1f}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
