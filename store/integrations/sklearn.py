"""scikit-learn: `autolog()` before `fit` (opt-in, undone by `autolog(disable=True)`), or
`log_estimator(run, est, X_test, y_test)` without any patching. See docs/INTEGRATIONS.md.

Importing this module does not import scikit-learn; `autolog()` does.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from . import _sklearn_metrics as sk
from ._common import scalars

_state = threading.local()  # how deep in patched fits this thread is: only the outer one logs
_patched: dict[type, Callable[..., Any]] = {}
_lock = threading.Lock()


def log_estimator(
    run: Any, est: Any, X_test: Any = None, y_test: Any = None, prefix: str = "test"
) -> dict[str, float]:
    """Log a fitted estimator to `run` (a `store.Run`): `get_params(deep=True)` as params, and
    on (X_test, y_test) the metrics `autolog` computes on training data (`test/accuracy`,
    ... or `test/mse`, ...), the confusion matrix `test` (classifiers) and the data's
    fingerprint as the dataset `test`. Returns the metrics logged."""
    run.log_params(sk.estimator_params(est))
    if X_test is None:
        return {}
    return _evaluate(run, est, X_test, y_test, prefix)


def _evaluate(run: Any, est: Any, X: Any, y: Any, prefix: str) -> dict[str, float]:
    values, pred = sk.metrics(est, X, y, prefix)
    if values:
        run.log(values, step=0)
    if pred is not None and sk.kind(est) == "classifier":
        run.log_confusion_matrix(y, pred, name=prefix)
    columns = sk.data_columns(X, y)
    if columns is not None:
        run.log_dataset(columns, name=prefix)
    return values


def autolog(
    experiment: str | None = None,
    root: str | os.PathLike[str] | None = None,
    log_models: str | None = None,
    max_tuning_runs: int = 5,
    tags: Iterable[str] | None = None,
    disable: bool = False,
    **run_kwargs: Any,
) -> None:
    """Make every scikit-learn estimator's `fit` log a run, as MLflow's sklearn autolog does.

    Each outermost `fit` (a Pipeline's or a search's inner fits are not runs of their own)
    starts a run named after the estimator's class with `get_params(deep=True)`, then logs
    training metrics (`train/...`), the training confusion matrix and the training data's
    fingerprint; a `*SearchCV` also logs `best_params`, `best_cv_score`, `cv_results_` as
    the table `cv_results` and one child run for each of the `max_tuning_runs` best
    candidates. `log_models="name"` registers each fitted estimator as the next version of
    that model (skops). A `fit` that raises ends its run `failed`. `autolog(disable=True)`
    puts every `fit` back. Other keyword arguments go to `store.Run`.
    """
    with _lock:
        _unpatch()
        if disable:
            return
        if type(max_tuning_runs) is not int or max_tuning_runs < 0:
            raise ValueError(f"max_tuning_runs must be an integer >= 0, got {max_tuning_runs!r}")
        options = {
            "experiment": experiment,
            "root": root,
            "log_models": log_models,
            "max_tuning_runs": max_tuning_runs,
            "tags": ["sklearn", *(tags or [])],
            "run_kwargs": run_kwargs,
        }
        for cls in _fit_classes():
            original = cls.__dict__["fit"]
            _patched[cls] = original
            cls.fit = _wrap(original, options)  # type: ignore[attr-defined]


def _unpatch() -> None:
    for cls, original in _patched.items():
        cls.fit = original  # type: ignore[attr-defined]
    _patched.clear()


def _fit_classes() -> list[type]:
    """Every scikit-learn class that defines `fit` itself, the search CVs' base included."""
    import sklearn.model_selection
    from sklearn.utils import all_estimators

    found: dict[type, None] = {}
    estimators = [cls for _, cls in all_estimators()]
    estimators += [sklearn.model_selection.GridSearchCV, sklearn.model_selection.RandomizedSearchCV]
    for est in estimators:
        for cls in est.__mro__:
            if "fit" in cls.__dict__ and cls.__module__.startswith("sklearn."):
                found[cls] = None
    return list(found)


def _wrap(original: Callable[..., Any], options: dict[str, Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_state, "depth", 0):
            return original(self, *args, **kwargs)
        _state.depth = 1
        try:
            return _logged_fit(original, options, self, args, kwargs)
        finally:
            _state.depth = 0

    fit.__mmtop_autolog__ = True  # type: ignore[attr-defined]
    return fit


def _logged_fit(
    original: Callable[..., Any],
    options: dict[str, Any],
    est: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    from ..writer import Run

    # fit(X, y) for most estimators; fit(y) for label encoders; either may be by keyword.
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")

    run = Run(
        experiment=options["experiment"],
        name=type(est).__name__,
        root=options["root"],
        tags=options["tags"],
        params=sk.estimator_params(est),
        **options["run_kwargs"],
    )
    with run:
        fitted = original(est, *args, **kwargs)
        _evaluate(run, est, X, y, "train")
        if hasattr(est, "cv_results_"):
            _log_search(run, est, options)
        if options["log_models"]:
            model = getattr(est, "best_estimator_", est)
            run.log_model(model, options["log_models"])
    return fitted


def _log_search(run: Any, search: Any, options: dict[str, Any]) -> None:
    from ..writer import Run

    if hasattr(search, "best_params_"):
        run.log_params({"best_params": sk.estimator_params_of(search.best_params_)})
    if isinstance(getattr(search, "best_score_", None), int | float):
        run.log({"best_cv_score": float(search.best_score_)}, step=0)
    results = search.cv_results_
    run.log_table("cv_results", sk.cv_table(results))
    refit = getattr(search, "refit", True)
    rank_key = f"rank_test_{refit}" if isinstance(refit, str) else "rank_test_score"
    if rank_key not in results:
        return
    order = sorted(range(len(results["params"])), key=lambda i: int(results[rank_key][i]))
    for i in order[: options["max_tuning_runs"]]:
        row = {k: v[i] for k, v in results.items() if k != "params" and not k.startswith("param_")}
        with Run(
            experiment=options["experiment"] or run.experiment,
            name=f"{run.name}/rank-{int(results[rank_key][i])}",
            root=options["root"],
            tags=[*options["tags"], "cv-candidate"],
            params={"parent_run": run.run_id, **sk.estimator_params_of(results["params"][i])},
            capture_system=False,
            capture_code=False,
            capture_env=False,
        ) as child:
            child.log(scalars(row), step=0)
