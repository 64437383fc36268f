"""The environment, read here and nowhere else, and the settings validated
from it: once per warm Lambda, each function only the groups it uses
(chalicelib/settings.py), failing its cold start with a message naming the
variable instead of failing the first request that happens to need it.

Importing this module loads no pydantic: every job module reads Lambda's
``_HANDLER`` at import (``lambda_handler``), including the API function's
app.py, which imports them all. The models load with the first settings
asked for.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from chalicelib.settings import (
        ApiSettings,
        CommonSettings,
        DocumentSettings,
        InvoicingSettings,
        NotificationSettings,
        OutboxSettings,
        ServiceSettings,
        Settings,
        SettingsGroup,
    )

Group = TypeVar("Group", bound="SettingsGroup")

ENV_PREFIX = "SHOP_"


class InvalidSettings(RuntimeError):
    """A SHOP_* variable is missing or malformed; the message names it."""


def environment() -> Mapping[str, str]:
    """The process environment the settings are validated from."""
    return os.environ


def lambda_handler() -> str:
    """The function's handler (``app.app``, ``chalicelib.jobs.outbox.publish_order_events``):
    Lambda's reserved ``_HANDLER``; empty outside Lambda (tests, the local stack)."""
    return os.environ.get("_HANDLER", "")


# --- validated settings, cached per warm Lambda --------------------------------------


def validate_settings(group: type[Group], environ: Mapping[str, str]) -> Group:
    """``group``'s fields from their SHOP_* variables in ``environ`` (others
    are ignored); a missing or malformed one raises InvalidSettings naming it."""
    from pydantic import ValidationError

    values = {
        name: environ[f"{ENV_PREFIX}{name.upper()}"]
        for name in group.model_fields
        if f"{ENV_PREFIX}{name.upper()}" in environ
    }
    try:
        return group.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{str(err['loc'][0]).upper()}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise InvalidSettings(f"invalid settings: {problems}") from None


@functools.cache
def settings_of(group: type[Group]) -> Group:
    """``group`` validated from the environment, once (``cache_clear`` for tests)."""
    return validate_settings(group, environment())


def common_settings() -> CommonSettings:
    """The stage, the table and the AWS clients' timeouts: every function."""
    from chalicelib.settings import CommonSettings

    return settings_of(CommonSettings)


def service_settings() -> ServiceSettings:
    """What the use cases' Context carries (the API, the payment-events
    consumer, the schedules)."""
    from chalicelib.settings import ServiceSettings

    return settings_of(ServiceSettings)


def api_settings() -> ApiSettings:
    """The HTTP API's admin keys and request bounds (the API, its authorizer)."""
    from chalicelib.settings import ApiSettings

    return settings_of(ApiSettings)


def notification_settings() -> NotificationSettings:
    """The notifications function's."""
    from chalicelib.settings import NotificationSettings

    return settings_of(NotificationSettings)


def outbox_settings() -> OutboxSettings:
    """The outbox function's."""
    from chalicelib.settings import OutboxSettings

    return settings_of(OutboxSettings)


def invoicing_settings() -> InvoicingSettings:
    """The invoices function's settings (docs/invoices.md)."""
    from chalicelib.settings import InvoicingSettings

    return settings_of(InvoicingSettings)


def document_settings() -> DocumentSettings:
    """The documents function's settings (docs/invoices.md)."""
    from chalicelib.settings import DocumentSettings

    return settings_of(DocumentSettings)


def get_settings() -> Settings:
    """Every setting at once: tests and local tools, never a function's own path."""
    from chalicelib.settings import Settings

    return settings_of(Settings)


def __getattr__(name: str) -> Any:
    # ``from chalicelib.config import Settings`` goes on working; the model
    # (and pydantic) load only when it is asked for.
    if name == "Settings":
        from chalicelib.settings import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- read before any settings are validated -----------------------------------------

#: Stands in for the table's stream until the deployment supplies the real one.
PLACEHOLDER_STREAM_ARN = (
    "arn:aws:dynamodb:eu-central-1:000000000000:table/shop/stream/2026-01-01T00:00:00.000"
)


def table_stream_arn() -> str:
    """The stream the outbox reads (SHOP_TABLE_STREAM_ARN).

    Chalice needs it when app.py is imported, before any setting is
    validated (``chalice package`` imports the app without the table), so it
    is read on its own; the deployment overrides the event source mapping's
    stream with the table's real one (docs/events.md).
    """
    return os.environ.get("SHOP_TABLE_STREAM_ARN") or PLACEHOLDER_STREAM_ARN


# --- CORS (docs/api.md) ---------------------------------------------------------
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
#: A storefront developer's server on this machine; stages set their shops'.
DEFAULT_CORS_ORIGINS = "http://localhost:3000,http://127.0.0.1:3000"


@functools.cache
def cors_origins() -> tuple[str, ...]:
    """The storefront origins browsers may call the API from (SHOP_CORS_ORIGINS,
    comma-separated, each ``scheme://host[:port]``).

    Read on its own, like ``table_stream_arn``: Chalice fixes each route's CORS
    configuration when app.py is imported, before the other settings are read.
    """
    raw = os.environ.get(f"{ENV_PREFIX}CORS_ORIGINS", DEFAULT_CORS_ORIGINS)
    origins = tuple(dict.fromkeys(o.strip().rstrip("/") for o in raw.split(",") if o.strip()))
    bad = [o for o in origins if not _ORIGIN.match(o)]
    if not origins or bad:
        raise InvalidSettings(
            f"invalid settings: {ENV_PREFIX}CORS_ORIGINS: expected comma-separated "
            f"origins like https://shop.example.com, got {', '.join(bad) or 'nothing'}"
        )
    return origins
