"""A local S3 server (moto's server mode on 127.0.0.1, a free port) for the object-storage
tests: started by the first test that needs it, stopped after the module. Nothing leaves the
machine: the endpoint and dummy credentials are set in the environment of the tests and of
the processes they start."""

from __future__ import annotations

import secrets
import urllib.request
from collections.abc import Iterator

import pytest

pytest.importorskip("obstore")
moto_server = pytest.importorskip("moto.server")


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
            mp.delenv(key, raising=False)
        try:
            yield env
        finally:
            server.stop()


@pytest.fixture
def s3_url(s3_env: dict[str, str]) -> str:
    """A new, empty bucket for each test, as an s3:// store root."""
    bucket = f"mmtop-{secrets.token_hex(6)}"
    req = urllib.request.Request(f"{s3_env['AWS_ENDPOINT_URL']}/{bucket}", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
    return f"s3://{bucket}/store"
