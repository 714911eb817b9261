"""Regenerate sample_runs/: real (small) training runs on data that ships with scikit-learn.

    pip install -e '.[samples]' && python sample_runs/generate.py

Three experiments (digits, wine, breast-cancer), each a grid of hyperparameters over several
seeds, trained epoch by epoch with `partial_fit` and logged through `store.Run`: per-epoch
train/val loss and accuracy, the validation confusion matrix and predicted probabilities, the
datasets' fingerprints, environment and code capture, notes. One run fails (divergence), one is
left `running` by a process that died (it shows as crashed). Values are deterministic; run ids
and timestamps are not. Absolute paths of this machine are scrubbed from the captured files,
and heartbeat files are left out (a run marked running without one reads as crashed).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from mmtop import store

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ROOT = HERE
CAPTURES = {"capture_system": True, "system_every": 0.2}


def load(name: str) -> tuple[Any, ...]:
    loader = {"digits": load_digits, "wine": load_wine, "breast-cancer": load_breast_cancer}[name]
    data = loader()
    x_train, x_val, y_train, y_val = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    scaler = StandardScaler().fit(x_train)
    names = [str(n) for n in data.target_names]
    return scaler.transform(x_train), scaler.transform(x_val), y_train, y_val, names


def frame(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> pl.DataFrame:
    cols = {f"x{i}": x[:, i] for i in range(x.shape[1])}
    return pl.DataFrame(cols).with_columns(pl.Series("y", y))


def train(
    experiment: str,
    model: Any,
    params: dict[str, Any],
    epochs: int,
    tags: list[str],
    fail_at: int | None = None,
) -> None:
    x_train, x_val, y_train, y_val, names = load(experiment)
    classes = np.unique(y_train)
    short = {"alpha": "a", "eta0": "lr", "learning_rate_init": "lr", "learning_rate": ""}
    label = "-".join(
        f"{short.get(k, k)}{v:g}" if isinstance(v, float) else f"{short.get(k, k)}{v}"
        for k, v in params["optim"].items()
        if k != "learning_rate" or v != "constant"
    )
    label += f"-s{params['seed']}"
    name = f"{params['model']['kind']}{params['model'].get('hidden', '')}-{label}"
    with store.Run(
        experiment=experiment, name=name, params=params, tags=tags, root=ROOT, **CAPTURES
    ) as run:
        run.log_dataset(frame(x_train, y_train), "train", uri=f"sklearn://{experiment}#train")
        run.log_dataset(frame(x_val, y_val), "val", uri=f"sklearn://{experiment}#val")
        rng = np.random.default_rng(params["seed"])
        for epoch in range(epochs):
            order = rng.permutation(len(x_train))
            for batch in np.array_split(order, 4):
                model.partial_fit(x_train[batch], y_train[batch], classes=classes)
            p_train = model.predict_proba(x_train)
            p_val = model.predict_proba(x_val)
            metrics = {
                "train/loss": log_loss(y_train, p_train, labels=classes),
                "train/acc": accuracy_score(y_train, p_train.argmax(1)),
                "val/loss": log_loss(y_val, p_val, labels=classes),
                "val/acc": accuracy_score(y_val, p_val.argmax(1)),
                "lr": float(getattr(model, "learning_rate_init", params["optim"].get("eta0", 0))),
            }
            if fail_at is not None and epoch == fail_at:
                run.log({**metrics, "train/loss": float("nan")}, step=epoch)
                raise FloatingPointError(f"loss diverged to NaN at epoch {epoch}")
            run.log(metrics, step=epoch)
        run.summary["test/acc"] = metrics["val/acc"]
        run.log_confusion_matrix(y_val, p_val.argmax(1), labels=list(classes), name="val")
        run.log_predictions(p_val, y_true=y_val, class_names=names, name="val")
        run.note(
            f"Trained {epochs} epochs of {params['model']['kind']} with {params['optim']}; "
            f"val accuracy {metrics['val/acc']:.3f}."
        )


def sgd(seed: int, **optim: Any) -> tuple[Any, dict[str, Any]]:
    model = SGDClassifier(loss="log_loss", random_state=seed, **optim)
    params = {"model": {"kind": "sgd", "loss": "log_loss"}, "optim": optim, "seed": seed}
    return model, params


def mlp(seed: int, hidden: int, **optim: Any) -> tuple[Any, dict[str, Any]]:
    model = MLPClassifier(hidden_layer_sizes=(hidden,), random_state=seed, **optim)
    params = {"model": {"kind": "mlp", "hidden": hidden}, "optim": optim, "seed": seed}
    return model, params


CRASHED = """
import os, sys
from mmtop import store
run = store.Run(experiment="digits", name="sgd-preempted", root={root!r},
                params={{"model": {{"kind": "sgd", "loss": "log_loss"}},
                        "optim": {{"alpha": 0.001}}, "seed": 7}},
                tags=["grid"], capture_system=False)
for epoch in range(6):
    run.log({{"train/loss": 2.0 / (epoch + 1), "val/acc": 0.5 + epoch * 0.05}}, step=epoch)
run.note("Node was preempted mid-training; resume with store.Run(run_id=..., resume=True).")
run.flush()
os._exit(0)  # dies without finishing: the run stays `running` and its heartbeat goes stale
"""


def scrub(root: Path) -> None:
    """Replace this machine's absolute paths in captured files by neutral placeholders."""
    swaps = [(str(REPO), "<repo>"), (sys.prefix, "<python>"), (str(Path.home()), "~")]
    for path in root.rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        new = text
        for old, placeholder in swaps:
            new = new.replace(old, placeholder)
        if new != text:
            path.write_text(new, encoding="utf-8")
    for path in root.rglob("code.patch"):
        path.unlink()  # the repo's own uncommitted diff is not sample data
    for path in root.rglob("heartbeat"):
        # A checkout stamps files with the time of the checkout; without a heartbeat file the
        # preempted run reads as crashed on every machine, not only once its file ages.
        path.unlink()


def main() -> None:
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    for child in ROOT.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
    (ROOT / "mmtop-store.json").unlink(missing_ok=True)

    for alpha, eta0, seed in itertools.product([1e-4, 1e-3], [0.01, 0.1], [0, 1, 2]):
        model, params = sgd(seed, alpha=alpha, learning_rate="constant", eta0=eta0)
        tags = ["grid", "baseline"] if (alpha, eta0, seed) == (1e-4, 0.01, 0) else ["grid"]
        train("digits", model, params, epochs=15, tags=tags)
    for hidden, lr, seed in itertools.product([16, 32], [1e-3, 1e-2], [0, 1]):
        model, params = mlp(seed, hidden, learning_rate_init=lr)
        train("wine", model, params, epochs=25, tags=["mlp"])
    for schedule, seed in itertools.product(["optimal", "adaptive"], [0, 1, 2]):
        model, params = sgd(seed, alpha=1e-3, learning_rate=schedule, eta0=0.05)
        train("breast-cancer", model, params, epochs=12, tags=["schedule"])

    model, params = sgd(3, alpha=1e-5, learning_rate="constant", eta0=5.0)
    try:
        train("digits", model, params, epochs=15, tags=["grid", "unstable"], fail_at=4)
    except FloatingPointError:
        pass
    script = CRASHED.format(root=str(ROOT))
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ})

    failed = store.open(ROOT).runs(where="status = 'failed'")
    for run_id in failed["run_id"]:
        store.open(ROOT).comment(
            run_id, "eta0=5.0 is far too large for SGD here; use <= 0.1.", author="sample"
        )
    shutil.rmtree(ROOT / ".mmtop", ignore_errors=True)
    scrub(ROOT)
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    runs = store.open(ROOT).runs()
    print(json.dumps({"runs": runs.height, "bytes": total}))


if __name__ == "__main__":
    main()
