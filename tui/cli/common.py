"""What every command needs: the store it points at, where output goes, colour or not."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mmtop.tui.cli.errors import CliError, UsageError
from mmtop.tui.safe_text import clean

if TYPE_CHECKING:
    from mmtop import store


def root_of(ns: argparse.Namespace) -> Path:
    """--root, else $MMTOP_DIR, else ./mmruns (the store's own default)."""
    from mmtop.store import paths

    given = getattr(ns, "root", None)
    return paths.local_root(given) if given else paths.default_root()


def remote_root(ns: argparse.Namespace) -> str | None:
    """The s3:// URL that --root, else $MMTOP_DIR, names; None for a folder."""
    from mmtop.store import paths

    return paths.object_root(getattr(ns, "root", None) or os.environ.get(paths.ROOT_ENV))


def root_text(ns: argparse.Namespace) -> str:
    """The store as a child process's MMTOP_DIR: an s3:// URL as given, else the folder's
    absolute path."""
    remote = remote_root(ns)
    return remote if remote is not None else str(root_of(ns).resolve())


def open_store(ns: argparse.Namespace) -> store.Store:
    """Open the store read-only-safe; a missing folder is a runtime error (exit 1). A store
    on object storage (s3://...) is opened read-only, through a local mirror."""
    from mmtop import store

    remote = remote_root(ns)
    if remote is not None:
        return store.open(remote)
    root = root_of(ns)
    if not root.exists():
        raise CliError(f"no store at {str(root)!r} (use --root PATH or set $MMTOP_DIR)")
    if not root.is_dir():
        raise CliError(f"not a folder: {str(root)!r}")
    return store.open(root)


def resolve(st: store.Store, ref: str) -> str:
    """A run id from RUN: an id, a unique id prefix, `experiment/name`, or a run name that
    only one run has. Ambiguity lists the candidates with their experiment/name; a miss
    suggests the closest names."""
    from mmtop import store

    try:
        return st.resolve(ref)
    except store.AmbiguousRunError as exc:
        _ambiguous(st, ref, list(exc.candidates))
    except store.RunNotFoundError as exc:
        runs = st.runs().select("run_id", "experiment", "name")
        found = runs.filter(runs["name"] == ref.strip())["run_id"].to_list()
        if len(found) == 1:
            return str(found[0])
        if found:
            _ambiguous(st, ref, found)
        hint = _close_matches(ref.strip(), runs)
        raise CliError(f"{exc}" + (f"; did you mean {hint}?" if hint else "")) from None
    raise AssertionError("unreachable")  # _ambiguous raises


def _ambiguous(st: store.Store, ref: str, found: list[str]) -> None:
    names = _names(st, found[:10])
    shown = ", ".join(f"{c} ({names[c]})" if c in names else c for c in found[:10])
    more = f" and {len(found) - 10} more" if len(found) > 10 else ""
    raise CliError(f"{ref!r} is ambiguous, it matches {len(found)} runs: {shown}{more}")


def _close_matches(ref: str, runs: Any) -> str:
    """Up to three run names (or experiment/name) that look like `ref`, quoted, or ""."""
    import difflib

    names = sorted({str(n) for n in runs["name"].to_list() if n})
    full = sorted({f"{e}/{n}" for e, n in zip(runs["experiment"], runs["name"], strict=True) if n})
    pool = full if "/" in ref else names
    hits = difflib.get_close_matches(ref, pool, n=3, cutoff=0.6)
    return " or ".join(repr(clean(h, single_line=True)) for h in hits)


def _names(st: store.Store, ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for run_id in ids:
        try:
            info = st.run(run_id)
        except Exception:  # noqa: BLE001 - a label is a nicety; the id is enough
            continue
        out[run_id] = f"{info.experiment}/{info.name}"
    return out


def is_tty(stream: IO[Any]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def colour_enabled(stream: IO[Any]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return is_tty(stream) and not os.environ.get("NO_COLOR")


def split_list(text: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    """`last,min` -> ["last", "min"], refusing unknown items (usage error)."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    bad = [item for item in items if item not in allowed]
    if bad or not items:
        raise UsageError(f"{flag} takes a comma list of {', '.join(allowed)}; got {text!r}")
    return items


def is_stdout(path: str | None) -> bool:
    return path in (None, "-")


# The format a file name asks for, when --format does not say.
OUTPUT_EXTENSIONS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".md": "md",
    ".txt": "table",
}


def format_for(path: str | None, given: str | None, allowed: tuple[str, ...], default: str) -> str:
    """--format if given; else, for -o FILE, the format its extension names; else `default`.

    A file whose extension names no format it can have (`runs.xlsx`, `runs`) is a usage
    error: writing CSV into a file named .xlsx only surprises later."""
    if given:
        return given
    if is_stdout(path):
        return default
    assert path is not None
    suffix = Path(path).suffix.lower()
    fmt = OUTPUT_EXTENSIONS.get(suffix)
    if fmt not in allowed:
        names = ", ".join(e for e, f in OUTPUT_EXTENSIONS.items() if f in allowed)
        what = f"no format goes with {suffix!r}" if suffix else "the name has no extension"
        raise UsageError(
            f"-o {path!r}: {what}; give --format ({', '.join(allowed)}) or a name ending in {names}"
        )
    return fmt


@contextmanager
def output(path: str | None, *, binary_format: str | None = None) -> Iterator[IO[bytes]]:
    """stdout for None or '-', else FILE, which appears whole (written aside, then renamed).

    `binary_format` names a format that must not be sprayed onto a terminal (Parquet).
    """
    if is_stdout(path):
        if binary_format and is_tty(sys.stdout):
            raise UsageError(f"{binary_format} is binary: write it with -o FILE or to a pipe")
        sys.stdout.flush()
        # Every text format is inert at the source (safe_text): a terminal, a pipe and a
        # file get the same bytes.
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    assert path is not None
    with _atomic(Path(path)) as handle:
        yield handle


@contextmanager
def _atomic(path: Path) -> Iterator[IO[bytes]]:
    # A failed export must not leave a half-written file that looks complete.
    if path.is_dir():
        raise CliError(f"output is a folder: {str(path)!r}")
    if not path.parent.is_dir():
        raise CliError(f"cannot write {str(path)!r}: no folder {str(path.parent)!r}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        try:
            handle = open(tmp, "wb")
        except OSError as exc:  # the user's path in the message, never the temporary one
            raise CliError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        with handle:
            yield handle
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
