"""Which charts come first: metrics that move before constants such as a fixed `lr`.

A key is constant when every value seen, across every run, is the same (or there are none);
keys keep their name order within each of the two groups, so pages stay predictable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def is_constant(ranges: Iterable[tuple[float | None, float | None]]) -> bool:
    """True when the (min, max) ranges of a key's values, one per run, all hold one value."""
    seen: set[float] = set()
    for lo, hi in ranges:
        for v in (lo, hi):
            if v is not None and not (isinstance(v, float) and math.isnan(v)):
                seen.add(float(v))
        if len(seen) > 1:
            return False
    return True


def interesting_first(
    keys: Sequence[str], ranges: Mapping[str, Sequence[tuple[float | None, float | None]]]
) -> list[str]:
    """`keys` sorted by name, the ones whose values change first, constants last."""
    return sorted(keys, key=lambda k: (is_constant(ranges.get(k, ())), k))
