"""autolog and log_estimator with the real scikit-learn on digits: a GridSearchCV, a
regressor, a Pipeline, a fit that raises, and undoing the patch."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mmtop import store

sklearn = pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

from sklearn import metrics as m  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LinearRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from mmtop.store.integrations.sklearn import autolog  # noqa: E402

from .conftest import RunSnippet  # noqa: E402


@pytest.fixture(autouse=True)
def _undo_autolog() -> Iterator[None]:
    yield
    autolog(disable=True)


def _runs(root: Path) -> dict[str, store.RunInfo]:
    s = store.open(root, cache=False)
    return {run.name: run for run in (s.run(i) for i in s.runs()["run_id"].to_list())}


def _last(run: store.RunInfo) -> dict[str, float]:
    return {key: s["last"] for key, s in run.summary.items()}


def _classifier_metrics(est: Any, X: Any, y: Any, prefix: str) -> dict[str, float]:
    pred, proba = est.predict(X), est.predict_proba(X)
    avg = "weighted"
    return {
        f"{prefix}/accuracy": m.accuracy_score(y, pred),
        f"{prefix}/precision": m.precision_score(y, pred, average=avg, zero_division=0),
        f"{prefix}/recall": m.recall_score(y, pred, average=avg, zero_division=0),
        f"{prefix}/f1": m.f1_score(y, pred, average=avg, zero_division=0),
        f"{prefix}/log_loss": m.log_loss(y, proba, labels=est.classes_),
        f"{prefix}/roc_auc": m.roc_auc_score(
            y, proba, multi_class="ovr", average=avg, labels=est.classes_
        ),
    }


def test_the_documented_example_logs_a_search_its_children_and_a_held_out_set(
    run_snippet: RunSnippet, store_root: Path
) -> None:
    g = run_snippet("sklearn")
    search, X_train, y_train = g["search"], g["X_train"], g["y_train"]
    runs = _runs(store_root)
    assert sorted(runs) == [
        "GridSearchCV",
        "GridSearchCV/rank-1",
        "GridSearchCV/rank-2",
        "held-out",
    ]
    assert {r.status for r in runs.values()} == {"finished"}

    parent = runs["GridSearchCV"]
    assert parent.tags == ["sklearn"] and parent.experiment == "sklearn-demo"
    assert parent.params["best_params"] == {"max_depth": 8}
    assert parent.params["estimator__max_depth"] is None
    assert parent.params["param_grid"] == {"max_depth": [2, 4, 8]}
    assert parent.params["estimator"] == "DecisionTreeClassifier(random_state=0)"
    expected = _classifier_metrics(search, X_train, y_train, "train")
    assert _last(parent) == {**expected, "best_cv_score": search.best_score_}
    assert parent.summary["train/accuracy"]["last_step"] == 0

    cm = parent.confusion_matrix("train")
    assert cm.labels == [str(c) for c in range(10)]
    assert cm.matrix == m.confusion_matrix(y_train, search.predict(X_train)).tolist()
    table = parent.table("cv_results")
    assert table.height == 3
    assert table["param_max_depth"].to_list() == [2, 4, 8]
    assert table["mean_test_score"].to_list() == list(search.cv_results_["mean_test_score"])
    (train,) = parent.inputs
    assert (train["name"], train["rows"]) == ("train", len(y_train))
    assert list(train["schema"])[-1] == "target" and len(train["schema"]) == 65

    results = search.cv_results_
    for rank in (1, 2):
        child = runs[f"GridSearchCV/rank-{rank}"]
        i = list(results["rank_test_score"]).index(rank)
        assert child.tags == ["sklearn", "cv-candidate"]
        assert child.params == {"parent_run": parent.run_id, **results["params"][i]}
        assert _last(child)["mean_test_score"] == results["mean_test_score"][i]
        assert _last(child)["rank_test_score"] == rank

    held = runs["held-out"]
    assert held.params["max_depth"] == 8
    expected = _classifier_metrics(search.best_estimator_, g["X_test"], g["y_test"], "test")
    assert _last(held) == expected
    assert [t["name"] for t in held.tables()] == ["confusion.test"]
    assert [i["name"] for i in held.inputs] == ["test"]


def test_regressors_pipelines_failures_and_undo(store_root: Path) -> None:
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300].astype(float)
    autolog(experiment="reg", log_models="digits-ridge", capture_system=False)

    ridge = Ridge(alpha=2.0).fit(X, y)
    pipe = make_pipeline(StandardScaler(), Ridge()).fit(X, y)  # one run, not three
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearRegression().fit(X, y[:10])
    runs = _runs(store_root)
    assert sorted(runs) == ["LinearRegression", "Pipeline", "Ridge"]

    pred = ridge.predict(X)
    mse = m.mean_squared_error(y, pred)
    assert _last(runs["Ridge"]) == {
        "train/mse": mse,
        "train/rmse": math.sqrt(mse),
        "train/mae": m.mean_absolute_error(y, pred),
        "train/r2": m.r2_score(y, pred),
    }
    assert runs["Ridge"].params["alpha"] == 2.0
    assert runs["Pipeline"].params["ridge__alpha"] == 1.0
    assert runs["Pipeline"].params["steps"] == [
        ["standardscaler", "StandardScaler()"],
        ["ridge", "Ridge()"],
    ]
    assert _last(runs["Pipeline"])["train/r2"] == m.r2_score(y, pipe.predict(X))

    failed = runs["LinearRegression"]
    assert failed.status == "failed" and failed.error is not None
    assert failed.error["type"] == "ValueError"
    assert "inconsistent numbers of samples" in failed.error["message"]

    models = store.open(store_root).models()
    assert sorted(models["version"].to_list()) == [1, 2]  # Ridge, then the Pipeline

    autolog(disable=True)
    assert not hasattr(Ridge.fit, "__mmtop_autolog__")
    Ridge().fit(X, y)
    assert len(_runs(store_root)) == 3
