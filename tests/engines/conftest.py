"""A store with the awkward cases engines meet: compacted parts with covered ones left
behind, a run moved to another experiment, hidden folders, a system folder."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from mmtop import store

ENGINES_MD = Path(__file__).resolve().parents[2] / "docs" / "ENGINES.md"


def query(name: str, root: Path) -> str:
    """The SQL of docs/ENGINES.md under `<!-- query: name -->`, for the store at `root`."""
    text = ENGINES_MD.read_text()
    m = re.search(rf"<!-- query: {re.escape(name)} -->\n```sql\n(.*?)```", text, re.S)
    assert m, f"no query {name!r} in docs/ENGINES.md"
    return m.group(1).replace("STORE", str(root))


@pytest.fixture(autouse=True)
def _cwd_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MMTOP_DIR", raising=False)


@pytest.fixture(scope="module")
def engine_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("engines") / "mmruns"
    ids = []
    for i, exp in enumerate(["digits", "digits", "digits", "mnist"]):
        with store.Run(
            experiment=exp,
            name=f"r{i}",
            params={"lr": 0.1 * (i + 1), "opt": {"name": ["sgd", "adam"][i % 2]}},
            tags=["a", "b"][: i % 3],
            root=root,
            capture_env=False,
            capture_code=False,
            capture_system=False,
        ) as run:
            for step in range(30):
                run.log({"val/acc": (step + i) / 40, "train/loss": 1 / (step + 1)}, step=step)
                if step % 10 == 9:
                    run.flush()  # several parts, merged into one when the run ends
        ids.append(run.run_id)
    # A covered part left behind by an interrupted compaction: same writer, a range the
    # merged part covers. Readers (and the engines' queries) must not count it twice.
    metrics = next(root.glob(f"*/{ids[0]}/metrics"))
    (merged,) = [p for p in metrics.glob("*.parquet") if p.name.count("-") == 2]
    writer = merged.name.split("-")[0]
    pl.read_parquet(merged).head(7).write_parquet(metrics / f"{writer}-000001.parquet")
    # A run moved to another experiment: the folder is the truth.
    (root / "moved").mkdir()
    shutil.move(str(next(root.glob(f"*/{ids[2]}"))), str(root / "moved" / ids[2]))
    # Hidden folders that hold JSON and Parquet but are not experiments.
    (root / "_scratch" / "x" / "metrics").mkdir(parents=True)
    shutil.copy(merged, root / "_scratch" / "x" / "metrics" / merged.name)
    (root / "_scratch" / "x" / "run.json").write_text('{"name": "not a run"}')
    return root


@pytest.fixture(scope="module")
def engine_sql(engine_store: Path) -> Callable[[str], str]:
    """docs/ENGINES.md's query of that name, for the test store."""
    return lambda name: query(name, engine_store)


@pytest.fixture(scope="module")
def engine_points(engine_store: Path) -> pl.DataFrame:
    """Every point of the test store as mmtop reads it, with the run's experiment."""
    st = store.open(engine_store, cache=False)
    runs = st.runs()
    h = st.history(runs["run_id"].to_list())
    return (
        h.join(runs.select("run_id", "experiment"), on="run_id")
        .select("run_id", "experiment", "step", "time", "key", "value")
        .sort("run_id", "key", "step")
    )
