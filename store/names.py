"""Validation of untrusted names: experiments, run ids, tags, metric keys, table names.

Names that become path components are refused unless they are plainly safe; names that are
only stored (run names, tags) just have to be text without control characters.
"""

from __future__ import annotations

import re
import unicodedata

MAX_KEY_LEN = 256
MAX_NAME_LEN = 200
# File systems limit one path component to 255 bytes; leave room for temporary suffixes.
MAX_COMPONENT_BYTES = 200

_RUN_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$")


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
    if not isinstance(value, str) or not _RUN_ID_RE.match(value):
        raise ValueError(
            f"run_id must be 1-128 letters, digits, '.', '_' or '-' (not first): {value!r}"
        )
    return value


def check_key(key: object) -> str:
    """A metric key: non-empty str, at most 256 characters, no control characters."""
    if not isinstance(key, str):
        raise TypeError(f"metric key must be a string, got {type(key).__name__}: {key!r}")
    if not key:
        raise ValueError("metric key must not be empty")
    if len(key) > MAX_KEY_LEN:
        raise ValueError(f"metric key is longer than {MAX_KEY_LEN} characters: {key[:40]!r}...")
    if _has_control(key):
        raise ValueError(f"metric key contains a control character: {key!r}")
    return key
