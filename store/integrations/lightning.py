"""Lightning (`import lightning`): `Trainer(logger=MmtopLogger(experiment="..."))`.

`MmtopLogger` is built on first use, so importing this module does not import Lightning.
See docs/INTEGRATIONS.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    MmtopLogger: Any


def __getattr__(name: str) -> Any:
    if name != "MmtopLogger":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._lightning_logger import logger_class

    return logger_class("lightning.pytorch")


__all__ = ["MmtopLogger"]
