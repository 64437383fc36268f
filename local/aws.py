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


def copy_each_table_once_per_transaction() -> None:
    """Make moto's TransactWriteItems back each table up once, not once per item.

    moto (5.2) deep-copies the whole table for every item of a transaction so
    it can roll back; a 29-item order on a table of a few hundred orders then
    takes seconds. The copies are identical, so copying each table once per
    transaction keeps moto's rollback exactly as it is and makes it ~N times
    faster. Dev-only: moto is never part of the Lambda package.
    """
    from moto.dynamodb import models

    if getattr(models.DynamoDBBackend.transact_write_items, "_copies_once", False):
        return
    original = models.DynamoDBBackend.transact_write_items
    real_copy = models.copy

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        copies: dict[int, tuple[Any, Any]] = {}

        class CopyTablesOnce:
            @staticmethod
            def deepcopy(obj: Any, *args: Any) -> Any:
                if not isinstance(obj, models.Table):
                    return real_copy.deepcopy(obj, *args)
                cached = copies.get(id(obj))
                if cached is None or cached[0] is not obj:
                    cached = copies[id(obj)] = (obj, real_copy.deepcopy(obj, *args))
                return cached[1]

        models.copy = CopyTablesOnce  # type: ignore[assignment]
        try:
            original(self, transact_items)
        finally:
            models.copy = real_copy

    transact_write_items._copies_once = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


copy_each_table_once_per_transaction()


class SerialisedApp:
    """A WSGI app that lets one request at a time into the wrapped app."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            # Drain the body inside the lock: moto builds its response lazily.
            return list(self._app(environ, start_response))


class QuietRequestHandler(MotoRequestHandler):
    """moto's handler without a log line per AWS call (hundreds a second)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class EmbeddedAWS:
    """moto's server in a background thread. Port 0 picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        app = SerialisedApp(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietRequestHandler
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
