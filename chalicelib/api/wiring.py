"""How the views reach the services' context.

The views do not import the wiring (chalicelib/bootstrap.py): only entry
points may, so that a view can be read, and tested, without the AWS clients
behind it. The API's entry point, app.py, hands the views their context
provider once, when it registers the blueprints (``wire``); tests that drive
the app through app.py get the same wiring, and a test may wire a provider of
its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.services.context import Context

_provider: list[Callable[[], Context]] = []


class NotWired(RuntimeError):
    """A view ran before app.py wired the API (a programming error)."""


def wire(provider: Callable[[], Context]) -> None:
    """Use ``provider`` (cached by the caller) for every view's context."""
    _provider[:] = [provider]


def context() -> Context:
    """The context of this request: the stores, settings and payment ports."""
    if not _provider:
        raise NotWired("the API is not wired: app.py calls chalicelib.api.wiring.wire")
    return _provider[0]()
