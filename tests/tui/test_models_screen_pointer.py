"""The Models screen with a pointer version (imported from another registry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmtop.store.registry.pointer import register_pointer
from mmtop.tui.screens.models import ModelsScreen


async def test_a_pointer_version_shows_where_its_files_are(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    h.build_store(root)
    number = register_pointer(
        root,
        "fraud",
        3,
        pointer={
            "uri": "runs:/abc/model",
            "status": "READY",
            "status_message": None,
            "local": None,
        },
        created="2026-01-05T08:00:00.000000+00:00",
        user="ana",
        description="scores payments",
        tags={"team": "risk"},
        lineage={"parent": None},
        imported={"source": "mlflow", "model": "fraud", "version": 3},
    )
    assert number == 3
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("M")
        screen = pilot.app.screen
        assert isinstance(screen, ModelsScreen)
        await h.wait_for(pilot, lambda: screen.loads >= 1 and screen.detail_loads >= 1)
        await pilot.pause()
        assert screen.refs == ["fraud/3"]
        assert "pointer" in h.screen_text(app)
        text = screen.detail_text
        assert text.startswith("fraud/3\nscores payments\n")
        assert "  flavour    pointer from mlflow (READY)\n" in text
        assert "  created    2026-01-05T08:00:00 by ana\n" in text
        assert "  files at   runs:/abc/model\n" in text
        assert "  none       a pointer: files at runs:/abc/model\n" in text
