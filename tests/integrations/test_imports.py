"""The integrations are entry points for training code: the store never imports them, and
importing one does not import its framework until its logger or callback is used."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = (
    "lightning",
    "pytorch_lightning",
    "transformers",
    "accelerate",
    "keras",
    "torch",
    "sklearn",
)
INTEGRATIONS = ("lightning", "pytorch_lightning", "huggingface", "keras", "sklearn")


def test_importing_the_store_and_the_integration_modules_imports_no_framework() -> None:
    code = (
        "import sys\n"
        "import mmtop.store\n"
        "from mmtop import store\n"
        "store.Run, store.open\n"
        f"for name in {INTEGRATIONS!r}:\n"
        "    __import__('mmtop.store.integrations.' + name)\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
