"""Model inputs, predictions and labels as polars: one conversion for baselines and logs.

A 2-D array becomes columns "0".."k-1" (the registry's input examples do the same), so the
features of a version's baseline and of its logged predictions carry the same names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ..tables import to_arrow


def as_frame(data: Any) -> tuple[pl.DataFrame, bool]:
    """(frame, is_tensor): polars/pandas/pyarrow frames and dicts of columns as they are;
    arrays, tensors and lists of rows as columns "0".."k-1"."""
    if isinstance(data, pl.DataFrame):
        return data, False
    array = _array(data)
    if array is not None:
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        flat = array.reshape(array.shape[0], -1)
        return pl.DataFrame({str(i): flat[:, i] for i in range(flat.shape[1])}), True
    try:
        frame = pl.from_arrow(to_arrow(data))
    except TypeError:
        raise TypeError(
            f"cannot read inputs from {type(data).__name__}: give a polars/pandas frame, "
            "a dict of columns or a 2-D array"
        ) from None
    assert isinstance(frame, pl.DataFrame)
    return frame, False


def _array(data: Any) -> np.ndarray[Any, Any] | None:
    if isinstance(data, np.ndarray):
        return data
    if hasattr(data, "detach") and hasattr(data, "numpy"):  # torch tensors
        return np.asarray(data.detach().cpu().numpy())
    if isinstance(data, list | tuple):
        return np.asarray(data)
    return None


def as_model_input(frame: pl.DataFrame, model: Any) -> Any:
    """What to hand the model: a pandas frame when it was fitted on named columns
    (scikit-learn's `feature_names_in_`), else a 2-D array."""
    if hasattr(model, "feature_names_in_"):
        try:
            return frame.to_pandas()
        except ImportError:
            return frame
    return frame.to_numpy()


def as_series(values: Any, name: str) -> pl.Series:
    """One column of predictions, labels or ids from an array, list, Series or tensor."""
    if isinstance(values, pl.Series):
        return values.alias(name)
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()  # pandas
    array = _array(values)
    if array is None:
        array = np.asarray(values)
    if array.ndim > 1:
        if array.shape[1] != 1:
            raise ValueError(f"{name} must be one value per row, got shape {array.shape}")
        array = array[:, 0]
    return pl.Series(name, array)


def is_classification(values: pl.Series) -> bool:
    """Labels or predictions that are classes (not floats) rather than regression targets."""
    return not values.dtype.is_float()


def as_class(values: pl.Series) -> pl.Series:
    """Class labels as strings, so 3, 3.0 and "3" from different callers compare equal."""
    if values.dtype.is_float():
        integral = values.drop_nulls()
        if integral.len() and (integral == integral.round(0)).all():
            values = values.cast(pl.Int64, strict=False)
    return values.cast(pl.String)
