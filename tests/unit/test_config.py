from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.config import InvalidSettings, validate_settings
from chalicelib.settings import NotificationSettings, OutboxSettings, ServiceSettings, Settings


def test_settings_come_from_shop_variables_with_types_checked():
    settings = validate_settings(
        Settings,
        {"SHOP_TABLE_NAME": "shop-dev", "SHOP_PAYMENT_WINDOW_CARD_MINUTES": "45", "OTHER": "x"},
    )
    assert settings.table_name == "shop-dev"
    assert settings.payment_window_minutes("card") == 45
    assert settings.payment_window_minutes("bank_transfer") == 7 * 24 * 60


def test_a_missing_or_malformed_variable_is_named_at_cold_start():
    with pytest.raises(InvalidSettings, match="SHOP_TABLE_NAME"):
        validate_settings(Settings, {})
    with pytest.raises(InvalidSettings, match="SHOP_PAYMENT_WINDOW_CARD_MINUTES"):
        validate_settings(
            Settings, {"SHOP_TABLE_NAME": "shop-dev", "SHOP_PAYMENT_WINDOW_CARD_MINUTES": "soon"}
        )


# --- each function validates only the settings it uses -------------------------------

ROOT = Path(__file__).resolve().parents[2]
#: Malformed, but only for the functions whose groups hold them.
BAD_PAYMENT = {"SHOP_PAYMENT_SECRETS_CACHE_SECONDS": "soon"}
BAD_EMAIL = {"SHOP_EMAIL_SEND_LEASE_SECONDS": "soon"}
BAD_API = {"SHOP_MAX_BODY_BYTES": "lots"}


def test_each_function_validates_only_its_own_groups():
    table = {"SHOP_TABLE_NAME": "shop-dev"}
    validate_settings(NotificationSettings, {**table, **BAD_PAYMENT, **BAD_API})
    validate_settings(OutboxSettings, {**table, **BAD_PAYMENT, **BAD_EMAIL, **BAD_API})
    validate_settings(ServiceSettings, {**table, **BAD_EMAIL, **BAD_API})
    with pytest.raises(InvalidSettings, match="SHOP_EMAIL_SEND_LEASE_SECONDS"):
        validate_settings(NotificationSettings, {**table, **BAD_EMAIL})
    with pytest.raises(InvalidSettings, match="SHOP_PAYMENT_SECRETS_CACHE_SECONDS"):
        validate_settings(ServiceSettings, {**table, **BAD_PAYMENT})
    with pytest.raises(InvalidSettings, match="SHOP_MAX_BODY_BYTES"):
        validate_settings(Settings, {**table, **BAD_API})


def test_the_notifications_function_never_reads_a_stripe_setting():
    assert not {name for name in NotificationSettings.model_fields if "stripe" in name}
    assert not {name for name in NotificationSettings.model_fields if "payment" in name}
    assert set(Settings.model_fields) >= set(ServiceSettings.model_fields)


def test_the_checkout_and_the_emails_read_the_same_seller_terms_and_bank_details():
    env = {
        "SHOP_TABLE_NAME": "shop-dev",
        "SHOP_LEGAL_NAME": "Teeladen GmbH",
        "SHOP_TERMS_VERSION": "v3.1",
        "SHOP_BANK_IBAN": "DE89370400440532013000",
    }
    for group in (NotificationSettings, ServiceSettings):
        settings = validate_settings(group, env)
        assert (settings.legal_name, settings.terms_version, settings.bank_iban) == (
            "Teeladen GmbH",
            "v3.1",
            "DE89370400440532013000",
        )
    with pytest.raises(InvalidSettings, match="SHOP_TERMS_VERSION"):
        validate_settings(ServiceSettings, {**env, "SHOP_TERMS_VERSION": "neue AGB"})


def cold_start(handler: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Lambda's init of ``handler`` in a new interpreter: its module imported
    with ``_HANDLER`` set, so it prepares what its invocations need."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "_HANDLER"))}
    return subprocess.run(
        [sys.executable, "-c", f"import {handler.rpartition('.')[0]}"],
        cwd=ROOT,
        env={
            **clean,
            "AWS_DEFAULT_REGION": "eu-central-1",
            "SHOP_TABLE_NAME": "shop-unit",
            "_HANDLER": handler,
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("handler", "starts_with", "fails_with"),
    [
        ("chalicelib.jobs.notifications.send_notifications", BAD_PAYMENT, BAD_EMAIL),
        ("chalicelib.jobs.payment_events.apply_payment_events", BAD_EMAIL, BAD_PAYMENT),
    ],
)
def test_a_malformed_setting_fails_only_the_cold_starts_that_use_it(
    handler, starts_with, fails_with
):
    assert cold_start(handler, starts_with).returncode == 0
    failed = cold_start(handler, fails_with)
    assert failed.returncode != 0
    (variable,) = fails_with
    assert f"InvalidSettings: invalid settings: {variable}" in failed.stderr


def test_the_environment_is_read_in_config_only():
    sources = [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]
    readers = [
        path.relative_to(ROOT).as_posix()
        for path in sources
        if path.name != "config.py" and re.search(r"os\.environ|getenv", path.read_text())
    ]
    assert readers == []
