"""`mmtop`: the terminal app with no subcommand, headless commands otherwise.

Subcommands never import Textual; the app is imported only when it is about to start, so
`mmtop ls` in a fresh process pays for argparse, polars and the store, nothing more.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
import traceback
from pathlib import Path

from mmtop.tui.cli.errors import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError, UsageError

__all__ = ["main"]

_TOP_FLAGS_WITH_VALUE = ("--root",)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mmtop` script; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        return _dispatch(args_list)
    except SystemExit as stop:  # argparse --help / misuse
        code = stop.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_ERROR)
    except KeyboardInterrupt:
        sys.stderr.write("mmtop: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader (`| head`) left early: the output it wanted was written; say nothing.
        _silence_stdout()
        return EXIT_OK
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one line + exit code
        if _is_broken_pipe(exc):
            _silence_stdout()
            return EXIT_OK
        code, message = _describe(exc)
        if debug:
            traceback.print_exc(file=sys.stderr)
        elif code == EXIT_ERROR and not _is_expected(exc):
            message += " (run with --debug for the traceback)"
        sys.stderr.write(f"mmtop: error: {message}\n")
        return code


def _dispatch(argv: list[str]) -> int:
    from mmtop.tui.cli import args as cli_args

    argv = cli_args.normalise(argv)
    tui_path = _tui_request(argv, cli_args.COMMANDS)
    if tui_path is not None:
        return _run_app(*tui_path)
    parser = cli_args.build_parser()
    ns = parser.parse_args(argv)
    if getattr(ns, "version", False):
        sys.stdout.write(f"mmtop {_version()}\n")
        return EXIT_OK
    if ns.command is None:  # only top-level flags, e.g. `mmtop --root X`
        return _run_app(getattr(ns, "root", None), None)
    module = importlib.import_module(f"mmtop.tui.cli.commands.{ns.command}")
    result: int = module.run(ns)
    return result


def _tui_request(argv: list[str], commands: dict[str, str]) -> tuple[str | None, str] | None:
    """(root, path) when argv asks for the app (`mmtop`, `mmtop PATH`), else None."""
    root: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--debug":
            i += 1
            continue
        if arg in _TOP_FLAGS_WITH_VALUE and i + 1 < len(argv):
            root = argv[i + 1]
            i += 2
            continue
        if arg.startswith("--root="):
            root = arg.split("=", 1)[1]
            i += 1
            continue
        if arg.startswith("-"):
            return None  # --help, --version or a mistake: argparse says which
        if arg in commands:
            return None
        if i + 1 < len(argv):
            extra = " ".join(argv[i + 1 :])
            raise UsageError(f"unexpected arguments after PATH {arg!r}: {extra}")
        if not Path(arg).exists() and not arg.startswith("s3://"):  # s3://: store/s3/
            raise UsageError(_unknown(arg, commands))
        return (root, arg)
    return None


def _unknown(word: str, commands: dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(commands), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; commands: {', '.join(commands)}"
    return f"{word!r} is neither a command nor an existing folder{hint}"


def _run_app(root: str | None, path: str | None) -> int:
    target = path or root
    # Without a terminal the app has no keys to read and no screen to draw on: Textual's
    # input loop would spin on a closed or redirected stdin, at 100% CPU, forever.
    missing = [
        name
        for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout))
        if not _is_terminal(stream)
    ]
    if missing:
        raise UsageError(
            f"the terminal app needs a terminal, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not one; "
            "headless, use a command such as `mmtop ls`"
        )
    try:
        from mmtop.tui.app import run_app
    except ImportError as exc:
        raise CliError(f"the terminal app is not available: {exc}") from exc
    result = run_app(target)
    return int(result or 0)


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream is not None and stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):  # closed or replaced streams
        return False


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mmtop")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _store_errors() -> tuple[type[BaseException], ...]:
    """(StoreError, QueryError, AmbiguousRunError), or () when the store cannot be imported."""
    try:
        from mmtop.store import errors
    except Exception:  # noqa: BLE001 - a broken install must still get a one-line error
        return ()
    return (errors.StoreError, errors.QueryError, errors.AmbiguousRunError)


def _is_expected(exc: BaseException) -> bool:
    return isinstance(exc, (CliError, OSError, *_store_errors()[:1]))


def _describe(exc: BaseException) -> tuple[int, str]:
    """Exit code and one-line message for an exception raised by a command."""
    from mmtop.tui.safe_text import clean

    found = _store_errors()
    store_error, query_error, ambiguous = found if found else (CliError, CliError, CliError)
    if isinstance(exc, CliError):
        return exc.exit_code, clean(str(exc), single_line=True)
    if isinstance(exc, query_error):
        return EXIT_USAGE, "bad --where expression: " + clean(str(exc), single_line=True)
    if isinstance(exc, ambiguous):
        return EXIT_ERROR, clean(_ambiguous(exc), single_line=True)
    if isinstance(exc, store_error):
        return EXIT_ERROR, clean(str(exc), single_line=True)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return EXIT_ERROR, clean(f"{exc.strerror or exc}{where}", single_line=True)
    text = clean(f"{type(exc).__name__}: {exc}", single_line=True)
    return EXIT_ERROR, f"unexpected {text}"


def _ambiguous(exc: BaseException) -> str:
    candidates: list[str] = list(getattr(exc, "candidates", []) or [])
    message = str(exc)
    if candidates and not all(c in message for c in candidates):
        shown = ", ".join(candidates[:10])
        more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
        message = f"{message}; candidates: {shown}{more}"
    return message


def _is_broken_pipe(exc: BaseException) -> bool:
    # polars and pyarrow report a closed pipe as a plain OSError carrying the OS message.
    if not isinstance(exc, OSError):
        return False
    return exc.errno == errno.EPIPE or "os error 32" in str(exc) or "Broken pipe" in str(exc)


def _silence_stdout() -> None:
    # Python flushes stdout at exit; point it at /dev/null so that flush cannot fail again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
