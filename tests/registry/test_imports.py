"""Framework packages stay optional: the store imports them only to save or load a model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmtop import store

FRAMEWORKS = ("sklearn", "skops", "torch", "safetensors", "keras", "h5py", "onnx", "joblib")

CHECK = """
import json, sys
from mmtop import store
if len(sys.argv) > 1:
    s = store.open(sys.argv[1])
    s.models(); s.model("m@prod").verify(); s.model_history("m")
print(json.dumps(sorted(m.split(".")[0] for m in sys.modules)))
"""


def test_import_store_imports_no_framework(
    root: Path, tmp_path: Path, run_bytes: Callable[..., Any]
) -> None:
    (tmp_path / "w.bin").write_bytes(b"w")
    with store.Run("e", root=root, capture_system=False, capture_code=False) as run:
        run.log_model(tmp_path / "w.bin", "m", aliases=["prod"])
    for args in ((), (str(root),)):
        done = run_bytes(CHECK, *args)
        assert done.returncode == 0, done.stderr.decode()
        loaded = set(json.loads(done.stdout))
        assert not loaded & set(FRAMEWORKS), loaded & set(FRAMEWORKS)
