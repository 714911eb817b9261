"""Which charts come first: metrics that move before constants such as a fixed `lr`.

A key is constant when it draws a flat line in every run (each run logged one value for it,
however runs differ: a sweep's `lr` is flat in each run); keys keep their name order within
each of the two groups, so pages stay predictable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def is_constant(ranges: Iterable[tuple[float | None, float | None]]) -> bool:
    """True when every (min, max) range of a key's values, one per run, holds one value."""
    for lo, hi in ranges:
        if lo is None or hi is None:
            continue
        if not (isinstance(lo, float) and math.isnan(lo)) and lo != hi:
            return False
    return True


def interesting_first(
    keys: Sequence[str], ranges: Mapping[str, Sequence[tuple[float | None, float | None]]]
) -> list[str]:
    """`keys` sorted by name, the ones whose values change first, constants last."""
    return sorted(keys, key=lambda k: (is_constant(ranges.get(k, ())), k))
