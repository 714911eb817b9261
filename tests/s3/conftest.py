"""A local S3 server (moto's server mode on 127.0.0.1, a free port) for the object-storage
tests: started by the first test that needs it, stopped after the module. Nothing leaves the
machine: the endpoint and dummy credentials are set in the environment of the tests and of
the processes they start."""

from __future__ import annotations

import secrets
import threading
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

pytest.importorskip("obstore")
moto_app = pytest.importorskip("moto.moto_server.werkzeug_app")
werkzeug_serving = pytest.importorskip("werkzeug.serving")


class OneRequestAtATime:
    """Moto checks a PUT's If-None-Match / If-Match and then stores the object as two steps with
    no lock between them, so two racing requests on its threaded server can both pass the check.
    S3 itself decides a conditional write atomically; serialising requests gives the tests that
    guarantee, so a race they lose is ours, not the mock's."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    app = moto_app.DomainDispatcherApplication(moto_app.create_backend_app)
    server = werkzeug_serving.make_server("127.0.0.1", 0, OneRequestAtATime(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
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
            server.shutdown()
            thread.join(timeout=30)


@pytest.fixture
def s3_url(s3_env: dict[str, str]) -> str:
    """A new, empty bucket for each test, as an s3:// store root."""
    bucket = f"mmtop-{secrets.token_hex(6)}"
    req = urllib.request.Request(f"{s3_env['AWS_ENDPOINT_URL']}/{bucket}", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
    return f"s3://{bucket}/store"
