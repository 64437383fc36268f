"""An embedded AWS: moto's server on loopback, behind one lock.

moto is not safe under concurrent writes (two conditional updates can both
pass inside it), so every request to it is served one at a time. The races
we test are then ours, not the emulator's. boto3 reaches it through
AWS_ENDPOINT_URL, so chalicelib/ has no "local mode" anywhere.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

LOCAL_REGION = "eu-central-1"
# moto accepts any credentials; fixed ones keep boto3 from looking for real ones.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": LOCAL_REGION,
    "AWS_REGION": LOCAL_REGION,
}


class SerialisedApp:
    """A WSGI app that lets one request at a time into the wrapped app."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            # Drain the body inside the lock: moto builds its response lazily.
            return list(self._app(environ, start_response))


class EmbeddedAWS:
    """moto's server in a background thread. Port 0 picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        app = SerialisedApp(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmbeddedAWS:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def environment(self) -> dict[str, str]:
        """What a process needs to talk to this server instead of AWS."""
        return {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": self.url}

    def export(self) -> None:
        os.environ.update(self.environment())
