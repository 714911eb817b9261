"""TensorBoard's exponential moving average, with debiasing, vectorised with numpy.

TensorBoard (vz_line_chart2) smooths a series like this, and users compare our charts with
theirs, so the maths is the same:

    last = 0; n = 0
    for x in values:
        if series is constant or x is not finite: smoothed = x      # gaps stay gaps
        else:
            last = last * w + (1 - w) * x; n += 1
            smoothed = last / (1 - w ** n)                           # debias the zero start

A Python loop over a million points takes most of a second, so the recurrence is solved in
closed form per chunk: inside a chunk starting with state `s`, the state after k finite
values is w**k * s + (1 - w) * sum_j w**(k - j) * x_j, a cumulative sum once scaled by
w**-j. Chunks are short enough that w**-j stays far from overflow.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Keep w**-k under ~1e150 inside a chunk: large enough for few chunks, far from overflow.
_MAX_LOG_SCALE = 150 * math.log(10)
_FORGET_LOG = 18 * math.log(10)
_MAX_TAPS = 64


def ema(values: npt.ArrayLike, weight: float) -> FloatArray:
    """TensorBoard's debiased EMA of `values` with smoothing `weight` in [0, 1).

    Non-finite values are returned unchanged and do not feed the average; a constant series
    (all values equal to the first) is returned unchanged, as TensorBoard does.
    """
    x = np.array(values, dtype=np.float64)  # a copy: the result is built in place
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight!r}")
    if weight == 0.0 or len(x) == 0 or bool(np.all(x == x[0])):
        return x
    finite = np.isfinite(x)
    f = x[finite]
    if len(f) == 0:
        return x
    state = _ema_state(f, weight)
    count = np.arange(1, len(f) + 1, dtype=np.float64)
    debias = -np.expm1(count * math.log(weight))  # 1 - w**n without cancellation
    x[finite] = state / debias
    return x


def _ema_state(f: FloatArray, w: float) -> FloatArray:
    """The undebiased state `last` after each of the finite values `f` (starting from 0)."""
    log_w = math.log(w)
    # A light smoothing forgets fast: after `taps` values the weight is below 1e-18, so a
    # short convolution is exact to rounding and beats thousands of tiny chunks.
    taps = int(math.ceil(_FORGET_LOG / -log_w)) + 1
    if taps <= _MAX_TAPS:
        kernel = (1.0 - w) * np.exp(log_w * np.arange(taps, dtype=np.float64))
        return np.convolve(f, kernel)[: len(f)]
    chunk = max(1, int(_MAX_LOG_SCALE / -log_w))
    out = np.empty_like(f)
    carry = 0.0
    for start in range(0, len(f), chunk):
        part = f[start : start + chunk]
        k = np.arange(1, len(part) + 1, dtype=np.float64)
        grow = np.exp(-log_w * k)  # w**-k
        decay = np.exp(log_w * k)  # w**k
        acc = np.cumsum(part * grow) * decay
        block = decay * carry + (1.0 - w) * acc
        out[start : start + len(part)] = block
        carry = float(block[-1])
    return out


def ema_reference(values: list[float], weight: float) -> list[float]:
    """The straightforward loop, kept for tests and as the definition of `ema`."""
    out: list[float] = []
    if not values:
        return out
    constant = all(v == values[0] for v in values)
    last = 0.0
    n = 0
    for v in values:
        if constant or not math.isfinite(v) or weight == 0.0:
            out.append(v)
            continue
        last = last * weight + (1.0 - weight) * v
        n += 1
        out.append(last / (1.0 - weight**n))
    return out
