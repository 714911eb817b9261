"""Validation of untrusted names: experiments, run ids, tags, metric keys, table names.

Names that become path components are refused unless they are plainly safe; names that are
only stored (run names, tags) just have to be text without control characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_KEY_LEN = 256
MAX_NAME_LEN = 200
# File systems limit one path component to 255 bytes; leave room for temporary suffixes.
MAX_COMPONENT_BYTES = 200

# Params nested deeper than this are refused: readers parse them recursively.
MAX_PARAM_DEPTH = 64

# Matched with fullmatch: `$` also accepts a trailing newline.
RUN_ID_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def check_text(value: object, what: str, max_len: int = MAX_NAME_LEN) -> str:
    """A free-text name (run name, tag): a non-empty str without control characters."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}")
    if not value or not value.strip():
        raise ValueError(f"{what} must not be empty")
    if len(value) > max_len:
        raise ValueError(f"{what} is longer than {max_len} characters: {value[:40]!r}...")
    if _has_control(value):
        raise ValueError(f"{what} contains a control character: {value!r}")
    return value


def check_path_component(value: object, what: str) -> str:
    """A name that becomes a folder or file name: no separators, `..`, NUL or controls."""
    text = check_text(value, what)
    if text in (".", "..") or "/" in text or "\\" in text or "\x00" in text:
        raise ValueError(f"{what} must not contain path separators or be '.'/'..': {text!r}")
    if text.startswith((".", "_")):
        raise ValueError(f"{what} must not start with '.' or '_': {text!r}")
    if text != text.strip():
        raise ValueError(f"{what} must not start or end with white space: {text!r}")
    if len(text.encode("utf-8")) > MAX_COMPONENT_BYTES:
        raise ValueError(
            f"{what} is longer than {MAX_COMPONENT_BYTES} bytes in UTF-8: {text[:40]!r}..."
        )
    return text


def check_run_id(value: object) -> str:
    if not isinstance(value, str) or not RUN_ID_RE.fullmatch(value):
        raise ValueError(
            f"run_id must be 1-128 letters, digits, '.', '_' or '-' (not first): {value!r}"
        )
    return value


def check_key(key: object, what: str = "metric key") -> str:
    """A metric (or param) key: non-empty str, at most 256 characters, no control characters."""
    if not isinstance(key, str):
        raise TypeError(f"{what} must be a string, got {type(key).__name__}: {key!r}")
    if not key:
        raise ValueError(f"{what} must not be empty")
    if len(key) > MAX_KEY_LEN:
        raise ValueError(f"{what} is longer than {MAX_KEY_LEN} characters: {key[:40]!r}...")
    if _has_control(key):
        raise ValueError(f"{what} contains a control character: {key!r}")
    return key


def check_params(
    params: Mapping[str, Any],
    what: str = "params",
    key: str = "param key",
    max_depth: int = MAX_PARAM_DEPTH,
) -> dict[str, Any]:
    """Params (or other nested JSON a user hands the writer) as given, once every `key` at
    every level passes `check_key` and no object or list is nested more than `max_depth`
    deep, `params` itself being level 1 (a cycle is refused as too deep)."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{what} must be a mapping, got {type(params).__name__}")
    _check_param_value(params, "", 1, _Rule(what, key, max_depth))
    return dict(params)


@dataclass(frozen=True)
class _Rule:
    what: str
    key: str
    max_depth: int


_CONTAINERS = (Mapping, list, tuple, set, frozenset)


def _check_param_value(value: Any, where: str, depth: int, rule: _Rule) -> None:
    if isinstance(value, Mapping):
        children = []
        for key, child in value.items():
            check_key(key, f"{rule.key} in {where[:80]!r}" if where else rule.key)
            children.append((child, f"{where}.{key}" if where else key))
    elif isinstance(value, _CONTAINERS):
        children = [(c, f"{where}[{i}]") for i, c in enumerate(value) if _is_nested(c)]
    else:
        # Arrays are written as nested lists, one level per dimension.
        ndim = getattr(value, "ndim", 0)
        if isinstance(ndim, int) and depth - 1 + ndim > rule.max_depth:
            raise ValueError(_too_deep(rule, where))
        return
    if depth > rule.max_depth:
        raise ValueError(_too_deep(rule, where))
    for child, child_where in children:
        _check_param_value(child, child_where, depth + 1, rule)


def _is_nested(value: Any) -> bool:
    ndim = getattr(value, "ndim", 0)
    return isinstance(value, _CONTAINERS) or (isinstance(ndim, int) and ndim > 0)


def _too_deep(rule: _Rule, where: str) -> str:
    return f"{rule.what} are nested more than {rule.max_depth} levels deep at {where[:80]!r}"
