"""A store root that is a URL other than s3:// (read through a mirror: tests/s3/) is refused
with one line, and never becomes a folder `gs:`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.tui.launch import resolve

URLS = ["gs://b/x", "file:///tmp/x", "http://host/runs"]


@pytest.mark.parametrize("url", URLS)
def test_the_api_refuses_a_url_root(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    message = f"store root {url!r} is a URL: the only object storage supported is s3://"
    with pytest.raises(store.StoreError, match=message.replace("/", ".")):
        store.Run(root=url)
    with pytest.raises(store.StoreError, match="is a URL"):
        store.open(url)
    with pytest.raises(store.StoreError, match="is a URL"):
        store.watch(url, lambda: None)
    with pytest.raises(store.StoreError, match="is a URL"):
        resolve(url)
    monkeypatch.setenv("MMTOP_DIR", url)
    with pytest.raises(store.StoreError, match="is a URL"):
        store.Run()
    assert os.listdir(tmp_path) == []


def test_commands_refuse_a_url_root_in_one_line(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("ls", "--root", "gs://bucket/runs")
    assert result.code == 1
    assert result.err == (
        "mmtop: error: store root 'gs://bucket/runs' is a URL: the only object storage "
        "supported is s3://bucket/prefix; otherwise use a local or mounted folder\n"
    )
    monkeypatch.setenv("MMTOP_DIR", "gs://bucket/runs")
    assert cli("doctor").code == 1
    assert os.listdir(tmp_path) == []


def test_import_into_a_gs_root_is_refused_in_one_line(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importers write into a folder or an s3:// store; another URL says so and makes no
    folder named after it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlruns").mkdir()
    result = cli("import", "mlflow", "mlruns", "--root", "gs://bucket/runs")
    assert result.code == 1
    assert result.err == (
        "mmtop: error: store root 'gs://bucket/runs' is a URL: the only object storage "
        "supported is s3://bucket/prefix; otherwise use a local or mounted folder\n"
    )
    assert os.listdir(tmp_path) == ["mlruns"]
