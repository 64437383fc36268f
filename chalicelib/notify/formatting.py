"""Money and dates as a German or English reader expects them.

A few lines instead of Babel: two locales and a short currency list do not
justify megabytes in the Lambda package.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.money import CURRENCY_EXPONENTS

LOCALES = ("de", "en")
DEFAULT_LOCALE = "en"
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def supported_locale(locale: str | None) -> str:
    """``de-AT`` -> ``de``; anything we have no templates for -> English."""
    language = (locale or "").split("-")[0].split("_")[0].lower()
    return language if language in LOCALES else DEFAULT_LOCALE


def money(amount: int, currency: str, locale: str) -> str:
    """``money(123456, "EUR", "de") == "1.234,56 €"``; ``en``: ``"€1,234.56"``."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    units, minor = divmod(abs(amount), 10**exponent)
    grouped = f"{units:,}"
    symbol = _SYMBOLS.get(currency)
    if locale == "de":
        number = grouped.replace(",", ".") + (f",{minor:0{exponent}d}" if exponent else "")
        return f"{sign}{number} {symbol or currency}"
    number = grouped + (f".{minor:0{exponent}d}" if exponent else "")
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}"


def local_time(moment: datetime, timezone: str) -> datetime:
    try:
        return moment.astimezone(ZoneInfo(timezone))
    except ZoneInfoNotFoundError:
        # No tz database in the runtime: UTC is still right, only less friendly.
        return moment


def date_time(moment: datetime, locale: str, timezone: str) -> str:
    """``23.11.2026, 13:00 Uhr`` / ``23 Nov 2026, 13:00``, in the shop's time zone."""
    t = local_time(moment, timezone)
    if locale == "de":
        return f"{t:%d.%m.%Y, %H:%M} Uhr"
    return f"{t.day} {_MONTHS_EN[t.month - 1]} {t.year}, {t:%H:%M}"
