"""Errors the command line turns into exit codes: 1 for runtime trouble, 2 for misuse."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
# `mmtop reproduce --run`: the run was rebuilt and ran, and its results differ.
EXIT_DIFFERS = 3


class CliError(Exception):
    """A runtime problem the user can fix (missing store, unreadable file): exit code 1."""

    exit_code = EXIT_ERROR


class UsageError(CliError):
    """The command line itself is wrong (bad flag value, bad column or sort key): exit 2."""

    exit_code = EXIT_USAGE
