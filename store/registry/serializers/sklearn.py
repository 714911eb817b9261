"""scikit-learn estimators and pipelines, stored with skops (no pickle).

Loading checks the file's types against skops' safe set; any other type must be named by the
caller in `trusted`, and the error lists those it would need. A trust list stored anywhere in
the file or manifest is never used (GHSA-w582-9x45-8mpx).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UntrustedModelError
from . import mro_modules
from .trust import Trust

FLAVOUR = "sklearn"
FILE = "model.skops"
PACKAGES = ["scikit-learn", "skops", "numpy", "scipy"]


def matches(obj: Any) -> bool:
    return "sklearn" in mro_modules(obj)


def save(obj: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    import sklearn
    import skops
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(obj, folder / FILE)
    return {
        "flavour": FLAVOUR,
        "serializer": {"name": "skops", "version": skops.__version__},
        "frameworks": {"scikit-learn": sklearn.__version__},
        "packages": PACKAGES,
        "load": {"file": FILE, "class": f"{type(obj).__module__}.{type(obj).__qualname__}"},
    }


def load(folder: Path, info: dict[str, Any], trust: Trust) -> Any:
    import skops.io as sio

    target = folder / FILE
    needed = sio.get_untrusted_types(file=target)
    refused = sorted(t for t in needed if t not in trust.trusted)
    if refused:
        raise UntrustedModelError(
            f"{target} holds types outside skops' safe set: {', '.join(refused)}; "
            "pass trusted=[...] naming them only if you trust where this model came from"
        )
    return sio.load(target, trusted=list(needed))


def predict(model: Any, example: Any) -> Any:
    return model.predict(example) if hasattr(model, "predict") else None
