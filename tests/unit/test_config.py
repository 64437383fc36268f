from __future__ import annotations

import pytest

from chalicelib.config import InvalidSettings, Settings


def test_settings_come_from_shop_variables_with_types_checked():
    settings = Settings.from_environment(
        {"SHOP_TABLE_NAME": "shop-dev", "SHOP_PAYMENT_WINDOW_CARD_MINUTES": "45", "OTHER": "x"}
    )
    assert settings.table_name == "shop-dev"
    assert settings.payment_window_minutes("card") == 45
    assert settings.payment_window_minutes("bank_transfer") == 7 * 24 * 60


def test_a_missing_or_malformed_variable_is_named_at_cold_start():
    with pytest.raises(InvalidSettings, match="SHOP_TABLE_NAME"):
        Settings.from_environment({})
    with pytest.raises(InvalidSettings, match="SHOP_PAYMENT_WINDOW_CARD_MINUTES"):
        Settings.from_environment(
            {"SHOP_TABLE_NAME": "shop-dev", "SHOP_PAYMENT_WINDOW_CARD_MINUTES": "soon"}
        )
