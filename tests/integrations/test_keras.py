"""MmtopCallback with the real Keras 3 on the torch backend: a small MLP, 2 epochs on CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmtop import store

from .conftest import RunSnippet, snippet_code


@pytest.fixture(scope="module")
def keras(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Keras picks its backend once, when first imported.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_BACKEND", "torch")
        mp.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras-home")))
        pytest.importorskip("torch", reason="the tests run Keras on torch (CPU build in CI)")
        module = pytest.importorskip("keras", reason="the keras extra is not installed")
    if module.backend.backend() != "torch":
        pytest.skip("keras was already imported with another backend")
    return module


def _points(run: store.RunInfo) -> dict[str, list[tuple[int, float]]]:
    h = run.history()
    out: dict[str, list[tuple[int, float]]] = {}
    for key, step, value in zip(h["key"], h["step"], h["value"], strict=True):
        out.setdefault(key, []).append((step, value))
    return out


def test_the_documented_example_logs_params_summary_epochs_batches_and_test(
    keras: Any, run_snippet: RunSnippet, store_root: Path
) -> None:
    g = run_snippet("keras")
    s = store.open(store_root, cache=False)
    (run_id,) = s.runs()["run_id"].to_list()
    run = s.run(run_id)

    assert (run.experiment, run.status, run.error) == ("keras-demo", "finished", None)
    assert len(run.meta["resumed"]) == 1  # evaluate() after fit() reopened it
    assert run.params["fit"] == {"verbose": 0, "epochs": 2, "steps": 3}
    model = run.params["model"]
    assert (model["class"], model["params"], model["trainable_params"]) == ("Sequential", 178, 178)
    assert model["optimizer"]["name"] == "sgd"
    assert model["optimizer"]["learning_rate"] == pytest.approx(0.1)
    assert [a["name"] for a in run.artifacts] == ["model-summary.txt"]
    summary = (run.path / "artifacts" / "model-summary.txt").read_text(encoding="utf-8")
    assert "Trainable params: 178" in summary and "dense" in summary

    history, test = g["history"].history, g["test"]
    points = _points(run)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert points[key] == [(0, history[key][0]), (1, history[key][1])]
    # 48 training rows in batches of 16: 3 batches an epoch, 6 in all, every 2nd logged.
    assert [step for step, _ in points["batch/loss"]] == [2, 4, 6]
    assert [step for step, _ in points["batch/accuracy"]] == [2, 4, 6]
    assert points["test/loss"] == [(2, test["loss"])]
    assert points["test/accuracy"] == [(2, test["accuracy"])]
    assert set(points) == {
        "loss", "accuracy", "val_loss", "val_accuracy",
        "batch/loss", "batch/accuracy", "test/loss", "test/accuracy",
    }  # fmt: skip


def test_training_that_raises_ends_the_run_failed_with_its_traceback(
    keras: Any, tmp_path: Path, store_root: Path
) -> None:
    code = snippet_code("keras").replace(
        "callbacks=[callback]",
        "callbacks=[callback, keras.callbacks.LambdaCallback("
        "on_epoch_begin=lambda epoch, logs: (1 / 0) if epoch == 1 else None)]",
        1,
    )
    script = tmp_path / "boom.py"
    script.write_text(code, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert out.returncode == 1 and "ZeroDivisionError" in out.stderr
    s = store.open(store_root, cache=False)
    (run_id,) = s.runs()["run_id"].to_list()
    run = s.run(run_id)
    error: dict[str, Any] = run.error or {}
    assert run.status == "failed"
    assert (error["type"], error["message"]) == ("ZeroDivisionError", "division by zero")
    assert "on_epoch_begin" in error["traceback"]
    assert run.summary["loss"]["last_step"] == 0  # epoch 0 was logged; epoch 1 raised


def test_batch_every_must_be_a_count(keras: Any) -> None:
    from mmtop.store.integrations.keras import MmtopCallback

    with pytest.raises(ValueError, match="batch_every must be an integer >= 0, got -1"):
        MmtopCallback(batch_every=-1)


def test_a_caught_exception_ends_the_run_failed_when_the_next_fit_starts(
    keras: Any, store_root: Path
) -> None:
    import numpy as np

    from mmtop.store.integrations.keras import MmtopCallback

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((8, 4), "float32"), np.zeros(8, "float32")
    callback = MmtopCallback(experiment="caught", capture_system=False)
    boom = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        model.fit(x, y, epochs=2, callbacks=[callback, boom], verbose=0)
    first = callback.run.run_id
    model.fit(x, y, epochs=1, callbacks=[callback], verbose=0)
    s = store.open(store_root, cache=False)
    assert s.run(first).status == "failed"
    assert (s.run(first).error or {})["type"] == "TrainingInterrupted"
    assert s.run(callback.run.run_id).status == "finished"
