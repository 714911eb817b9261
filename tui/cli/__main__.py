"""`python -m tui.cli` runs the same entry point as the `mmtop` script."""

from __future__ import annotations

import sys

from mmtop.tui.cli import main

sys.exit(main())
