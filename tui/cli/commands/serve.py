"""`mmtop serve [PATH]`: the terminal app in a browser (textual-serve), one app per session.

textual-serve has no authentication: anyone who reaches the port drives the app, with the
server user's rights over the store. So the default is loopback, reached from elsewhere
through an SSH tunnel, and any other address needs --allow-remote.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import socket
import sys
from pathlib import Path

from mmtop.tui.cli.errors import EXIT_OK, CliError, UsageError

INSTALL = "pip install 'mmtop[serve]'"
EXTRA_MODULES = ("textual_serve", "aiohttp", "aiohttp_jinja2", "jinja2")


def run(ns: argparse.Namespace) -> int:
    host = str(ns.host)
    port = int(ns.port)
    loopback = is_loopback(host)
    if not loopback and not ns.allow_remote:
        raise UsageError(
            f"--host {host} is reachable from other machines and textual-serve has no "
            "authentication; pass --allow-remote to serve there anyway"
        )
    path = _path(ns)
    try:
        from mmtop.tui import serving
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] in EXTRA_MODULES:
            raise CliError(f"mmtop serve needs textual-serve: {INSTALL}") from None
        raise

    from mmtop.tui.launch import resolve

    launch = resolve(path)
    what = f"{launch.root} (read-only sample)" if launch.source == "sample" else str(launch.root)
    url = f"http://{_url_host(host)}:{port}"
    banner = [f"mmtop: serving {what} on {url} (Ctrl+C stops)"]
    if loopback:
        banner.append(f"mmtop: from another machine: {tunnel_command(host, port)}")
        banner.append(f"mmtop: then open {url}")
    else:
        sys.stderr.write(
            f"mmtop: warning: serving on {host} without authentication: anyone who reaches "
            f"port {port} can browse and change this store\n"
        )
    server = serving.MmtopServer(
        serving.app_command(path), host=host, port=port, public_url=url, banner=banner
    )
    server.serve()
    return EXIT_OK


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only; a name other than localhost is not trusted."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tunnel_command(host: str, port: int) -> str:
    """The ssh command that forwards this port from a laptop to the server's loopback."""
    target = host if host.lower().startswith("localhost") else _url_host(host)
    return f"ssh -N -L {port}:{target}:{port} {getpass.getuser()}@{socket.gethostname()}"


def _url_host(host: str) -> str:
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def _path(ns: argparse.Namespace) -> str | None:
    given = ns.path or getattr(ns, "root", None)
    if given is None:
        return None
    path = Path(given)
    if not path.is_dir():
        raise CliError(f"no store folder at {str(given)!r}")
    # The app processes start in the server's folder, but an absolute path reads better
    # in the banner and survives a `cd` in a wrapper script.
    return str(path.resolve())
