"""Run ids, writer ids, and who/where a process is."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import secrets
import socket
from functools import lru_cache


def new_run_id(now: dt.datetime | None = None) -> str:
    """Time-sortable, 48 random bits per second: 20261127T015823Z-3f9a1c07b2e4.

    Unlikely to repeat but not unique by itself: the writer claims the run's folder and draws
    again when it is taken (folders.claim_new_run_dir).
    """
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(6)}"


def new_writer_id() -> str:
    return secrets.token_hex(4)


@lru_cache(maxsize=1)
def hostname() -> str:
    return socket.gethostname()


@lru_cache(maxsize=1)
def username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
