"""MmtopCallback with the real transformers Trainer: a 2-layer BERT built from a config (no
download) trains 6 steps on random tokens on CPU. transformers imports slowly, so few tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmtop import store

pytest.importorskip("torch", reason="the Trainer needs torch (CI installs the CPU build)")
pytest.importorskip("accelerate", reason="the Trainer needs accelerate (in the test extra)")
pytest.importorskip("transformers", reason="the transformers extra is not installed")

from .conftest import RunSnippet, snippet_code


def _points(run: store.RunInfo) -> set[tuple[str, int, float]]:
    h = run.history()
    return set(zip(h["key"].to_list(), h["step"].to_list(), h["value"].to_list(), strict=True))


def test_the_documented_example_logs_args_config_and_every_log_at_its_step(
    run_snippet: RunSnippet, store_root: Path
) -> None:
    g = run_snippet("huggingface")
    trainer = g["trainer"]
    s = store.open(store_root, cache=False)
    (run_id,) = s.runs()["run_id"].to_list()
    run = s.run(run_id)

    assert (run.experiment, run.status, run.error) == ("hf-demo", "finished", None)
    assert run.params["args"]["max_steps"] == 6 and run.params["args"]["report_to"] == []
    assert run.params["config"]["num_hidden_layers"] == 2
    assert run.params["config"]["model_type"] == "bert"
    expected = {
        (key, entry["step"], float(value))
        for entry in trainer.state.log_history
        for key, value in entry.items()
        if key != "step"
    }
    assert _points(run) == expected
    assert {key for key, _, _ in expected} >= {"loss", "learning_rate", "eval_loss", "train_loss"}
    assert sorted(step for key, step, _ in expected if key == "loss") == [2, 4, 6]
    assert sorted(step for key, step, _ in expected if key == "eval_loss") == [3, 6]

    # evaluate() after train() resumes the run, logs its eval_* numbers, and ends it again.
    metrics = trainer.evaluate()
    again = s.run(run_id)
    assert again.status == "finished" and len(again.meta["resumed"]) == 1
    assert again.summary["eval_loss"]["count"] == 3
    assert again.summary["eval_loss"]["last"] == metrics["eval_loss"]

    # A Trainer that starts training again before on_train_end (the last training raised
    # and was caught) ends that run failed and starts a new one.
    callback = next(
        c for c in trainer.callback_handler.callbacks if type(c).__name__ == "MmtopCallback"
    )
    callback.on_train_begin(trainer.args, trainer.state, trainer.control, model=trainer.model)
    first = callback.run.run_id
    callback.on_train_begin(trainer.args, trainer.state, trainer.control, model=trainer.model)
    callback.on_train_end(trainer.args, trainer.state, trainer.control)
    s = store.open(store_root, cache=False)
    assert s.run(first).status == "failed"
    assert s.run(first).error["type"] == "TrainingInterrupted"  # type: ignore[index]
    assert s.run(callback.run.run_id).status == "finished"


BOOM = """
from transformers import TrainerCallback


class Boom(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 3:
            raise RuntimeError("diverged at step 3")

"""


def test_training_that_raises_ends_the_run_failed_with_its_traceback(
    tmp_path: Path, store_root: Path
) -> None:
    code = snippet_code("huggingface")
    code = code.replace("class RandomTokens", BOOM + "\nclass RandomTokens", 1)
    code = code.replace(
        'callbacks=[MmtopCallback(experiment="hf-demo")]',
        'callbacks=[MmtopCallback(experiment="hf-demo"), Boom()]',
    )
    script = tmp_path / "boom.py"
    script.write_text(code, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert out.returncode == 1 and "diverged at step 3" in out.stderr
    s = store.open(store_root, cache=False)
    (run_id,) = s.runs()["run_id"].to_list()
    run = s.run(run_id)
    error: dict[str, Any] = run.error or {}
    assert run.status == "failed"
    assert (error["type"], error["message"]) == ("RuntimeError", "diverged at step 3")
    assert "on_step_end" in error["traceback"]
    assert run.summary["loss"]["last_step"] == 2  # logged at step 2; step 3 raised


def test_only_the_world_zero_process_writes(tmp_path: Path, store_root: Path) -> None:
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from mmtop.store.integrations.huggingface import MmtopCallback

    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to="none", use_cpu=True)
    state = TrainerState(is_world_process_zero=False, global_step=3)
    callback = MmtopCallback(experiment="ddp")
    callback.on_train_begin(args, state, TrainerControl())
    callback.on_log(args, state, TrainerControl(), logs={"loss": 1.0})
    callback.on_train_end(args, state, TrainerControl())
    assert callback.run is None and not store_root.exists()
