"""The app as `mmtop serve` starts it, once per browser session.

textual-serve runs this with Textual's web driver (named in TEXTUAL_DRIVER), which speaks to
the browser over stdin and stdout pipes: there is no terminal, so the CLI's terminal check
(`mmtop [PATH]`) must not run here. PATH, $MMTOP_DIR and the working folder are the server's,
so every session resolves the same store, the bundled samples read-only included.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from mmtop.tui.app import run_app

    return run_app(argv[0] if argv else None)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
