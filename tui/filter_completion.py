"""What the filter bar offers while a name or a status is typed.

The names are the ones the filter resolves (`store.filter_names.names`), so nothing is
offered that the filter would then refuse; metric keys come with their double quotes.
A typed name matches a candidate whose unquoted spelling starts with it
(`metrics.tes` -> `metrics."test/acc"`), then one with a dotted part that does (`lr` ->
`params.lr`, as bare keys resolve). After `status =` the statuses are offered, quoted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mmtop.store.schema import FINAL_STATUSES

STATUSES = ("running", *FINAL_STATUSES, "crashed")

# A name being typed: starts a word (not inside a number such as 1e-3), may hold dots,
# slashes and the double quotes around a metric key.
_NAME = re.compile(r"(?<![\w.\"'])[A-Za-z_\"][\w./\"-]*$")
_RANK = {"params": 0, "metrics": 1}
_STATUS = re.compile(r"\bstatus\s*(?:=|!=|<>)\s*('?[A-Za-z]*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Completion:
    """Candidates for `text[start:end]` (the typed word, `end` is the cursor)."""

    start: int
    end: int
    candidates: tuple[str, ...]


def _bare(name: str) -> str:
    return name.replace('"', "")


def _in_string(text: str) -> bool:
    return text.count("'") % 2 == 1


def candidates(text: str, cursor: int, names: Sequence[str]) -> Completion | None:
    """What may replace the word before `cursor`; None when nothing does."""
    before = text[:cursor]
    status = _STATUS.search(before)
    if status:
        typed = status.group(1)
        word = typed.lstrip("'").lower()
        found = tuple(f"'{s}'" for s in STATUSES if s.startswith(word) and f"'{s}'" != typed)
        return Completion(status.start(1), cursor, found) if found else None
    if _in_string(before):
        return None
    match = _NAME.search(before)
    if not match:
        return None
    typed = match.group(0)
    bare = _bare(typed)
    if len(bare) < 2 and "." not in bare:
        return None
    first = [n for n in names if _bare(n).startswith(bare) and n != typed]
    second: list[str] = []
    if "." not in bare:
        second = [
            n
            for n in names
            if n not in first and any(p.startswith(bare) for p in _bare(n).split(".")[1:])
        ]
        # As bare keys resolve: a param before a metric, both before the rest.
        second.sort(key=lambda n: _RANK.get(n.split(".", 1)[0], len(_RANK)))
    found = tuple(first + second)
    return Completion(match.start(), cursor, found) if found else None
