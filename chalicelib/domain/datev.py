"""The month's journal as a DATEV booking batch (DATEV-Format, EXTF,
Buchungsstapel, format version 13): a header line of 31 fields, the 125
column headings, one booking per document and VAT rate. Plain Python, no
I/O. The fields, the settings, and what is verified and what is not:
docs/invoices.md, "DATEV (EXTF Buchungsstapel)".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from chalicelib.domain.errors import DatevAccountMissing
from chalicelib.domain.invoice import DocumentKind
from chalicelib.domain.journal import Journal, decimal_comma, rate_text

Chart = Literal["SKR03", "SKR04"]

#: DATEV's automatic revenue accounts (AM: the tax is split off by the
#: account, no tax key) for the standard and the reduced rate.
DEFAULT_REVENUE_ACCOUNTS: Mapping[Chart, Mapping[str, str]] = {
    "SKR03": {"19": "8400", "7": "8300"},
    "SKR04": {"19": "4400", "7": "4300"},
}
#: A collective customer account (Sammeldebitor): personal accounts have one
#: digit more than the G/L accounts (4 + 1).
DEFAULT_CUSTOMER_ACCOUNT = "10000"

#: The 125 column headings of a booking batch, format version 13, in order
#: (DATEV's sample files spell them so; DATEV reads the columns by position).
COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
    "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext",
    "Postensperre", "Diverse Adressnummer", "Geschäftspartnerbank", "Sachverhalt",
    "Zinssperre", "Beleglink",
    *(f"Beleginfo - {part} {n}" for n in range(1, 9) for part in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)", "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart",
    "Sachverhalt L+L", "Funktionsergänzung L+L", "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung",
    *(
        heading
        for n in range(1, 21)
        for heading in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")
    ),
    "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr",
    "Zugeordnete Fälligkeit", "Skontotyp", "Auftragsnummer", "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)", "EU-Land (Anzahlungen)", "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)", "Herkunft-Kz",
    "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz", "Skontosperre",
    "Gesellschaftername", "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer",
    "Postensperre bis", "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung",
    "Festschreibung", "Leistungsdatum", "Datum Zuord. Steuerperiode", "Fälligkeit",
    "Generalumkehr (GU)", "Steuersatz", "Land", "Abrechnungsreferenz", "BVV-Position",
    "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)", "Abw. Skontokonto",
)  # fmt: skip
#: Positions (0-based) of the columns a booking fills.
_AMOUNT, _SIDE, _CURRENCY, _ACCOUNT, _CONTRA, _TAX_KEY, _DATE, _DOCUMENT, _TEXT = (
    0, 1, 2, 6, 7, 8, 9, 10, 13,
)  # fmt: skip
#: Belegfeld 1: at most 36 of these characters.
_DOCUMENT_FIELD_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789$&%*+-/"
)
#: Latin letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h",
                               "\u0131": "i", "Ŧ": "T", "ŧ": "t"})  # fmt: skip
TEXT_LENGTH = 60
LABEL_LENGTH = 30


@dataclass(frozen=True)
class DatevSettings:
    """What the advisor's DATEV client needs to know (from the settings)."""

    consultant_number: int  # Beraternummer, 1001-9999999
    client_number: int  # Mandantennummer, 1-99999
    fiscal_year_start_month: int = 1  # the Wirtschaftsjahr starts on the 1st of it
    account_length: int = 4  # Sachkontenlänge
    chart: Chart = "SKR03"
    customer_account: str = DEFAULT_CUSTOMER_ACCOUNT
    #: rate -> revenue account; the chart's defaults for the rates not named.
    revenue_accounts: Mapping[str, str] = field(default_factory=dict)
    #: rate -> BU-Schlüssel; none for automatic accounts (the defaults).
    tax_keys: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1001 <= self.consultant_number <= 9_999_999:
            raise ValueError("the Beraternummer is 1001-9999999")
        if not 1 <= self.client_number <= 99_999:
            raise ValueError("the Mandantennummer is 1-99999")
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError("the fiscal year starts in a month 1-12")
        if not 4 <= self.account_length <= 8:
            raise ValueError("the Sachkontenlänge is 4-8")
        for account in (self.customer_account, *self.accounts().values()):
            if not (account.isdigit() and len(account) <= self.account_length + 1):
                raise ValueError(f"account {account!r} is not a DATEV account number")
        for key in self.tax_keys.values():
            if not (key.isdigit() and len(key) <= 4):
                raise ValueError(f"tax key {key!r} is not a BU-Schlüssel")

    def accounts(self) -> dict[str, str]:
        """Revenue account per rate: the chart's defaults, then the settings'."""
        return {**DEFAULT_REVENUE_ACCOUNTS[self.chart], **self.revenue_accounts}

    def revenue_account(self, rate: str) -> str:
        accounts = {_rate_key(r): a for r, a in self.accounts().items()}
        found = accounts.get(_rate_key(rate))
        if found is None:
            raise DatevAccountMissing(
                f"no DATEV revenue account for {rate_text(rate)} % VAT: "
                "set SHOP_DATEV_REVENUE_ACCOUNTS, e.g. 19=8400,7=8300",
                rate=rate,
            )
        return found

    def tax_key(self, rate: str) -> str:
        keys = {_rate_key(r): k for r, k in self.tax_keys.items()}
        return keys.get(_rate_key(rate), "")


def _rate_key(rate: str) -> str:
    return rate_text(rate)


@dataclass(frozen=True)
class Booking:
    """One booking line: a document's gross at one rate."""

    amount: int  # minor units, positive
    side: Literal["S", "H"]
    account: str
    contra_account: str
    tax_key: str
    document_date: date
    document_number: str
    text: str
    currency: str


def bookings_of(journal: Journal, settings: DatevSettings) -> list[Booking]:
    """One booking per document and rate, in the journal's order. An invoice
    debits the customer (S), a credit note credits them (H); a rate with
    nothing on it books nothing (DATEV refuses an amount of zero)."""
    bookings = []
    for entry in journal.entries:
        if not set(entry.number) <= _DOCUMENT_FIELD_CHARACTERS or len(entry.number) > 36:
            raise ValueError(f"{entry.number!r} cannot be a DATEV Belegfeld 1")
        words = [entry.number]
        if entry.kind is DocumentKind.CREDIT_NOTE and entry.corrects:
            words.append(f"zu {entry.corrects}")
        words.append(entry.customer)
        text = datev_text(" ".join(words), TEXT_LENGTH)
        for rate in entry.rates:
            if rate.gross == 0:
                continue
            bookings.append(
                Booking(
                    amount=abs(rate.gross),
                    side="S" if rate.gross > 0 else "H",
                    account=settings.customer_account,
                    contra_account=settings.revenue_account(rate.rate),
                    tax_key=settings.tax_key(rate.rate),
                    document_date=entry.issue_date,
                    document_number=entry.number,
                    text=text,
                    currency=entry.currency,
                )
            )
    return bookings


def datev_text(text: str, length: int) -> str:
    """Text DATEV can hold: one line, Windows-1252 only (accents a code page
    lacks are dropped, anything else becomes "?"), at most ``length``."""
    flat = " ".join(text.split()).translate(_UNDECOMPOSED)
    kept = []
    for char in flat:
        if _in_cp1252(char):
            kept.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        kept.append(base if base and all(_in_cp1252(c) for c in base) else "?")
    return "".join(kept)[:length]


def _in_cp1252(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fiscal_year_start(month_start: date, start_month: int) -> date:
    """The first day of the fiscal year the month is in."""
    year = month_start.year if month_start.month >= start_month else month_start.year - 1
    return date(year, start_month, 1)


def month_bounds(month: str) -> tuple[date, date]:
    """The first and the last day of ``month`` ("2026-12")."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def header_line(journal: Journal, settings: DatevSettings, *, created_at: datetime) -> str:
    """Line 1: the 31 header fields of a booking batch (header version 700,
    format category 21, format version 13)."""
    first, last = month_bounds(journal.month)
    created = f"{created_at:%Y%m%d%H%M%S}{created_at.microsecond // 1000:03d}"
    fields = [
        _quoted("EXTF"),  # 1 Kennzeichen: made by a program outside DATEV
        "700",  # 2 Versionsnummer (of the header)
        "21",  # 3 Formatkategorie: Buchungsstapel
        _quoted("Buchungsstapel"),  # 4 Formatname
        "13",  # 5 Formatversion
        created,  # 6 Erzeugt am: YYYYMMDDHHMMSSFFF
        "",  # 7 Importiert (DATEV fills it)
        _quoted("RE"),  # 8 Herkunft: two letters, the source (RE: Rechnungswesen)
        _quoted(""),  # 9 Exportiert von
        _quoted(""),  # 10 Importiert von
        str(settings.consultant_number),  # 11 Beraternummer
        str(settings.client_number),  # 12 Mandantennummer
        f"{fiscal_year_start(first, settings.fiscal_year_start_month):%Y%m%d}",  # 13 WJ-Beginn
        str(settings.account_length),  # 14 Sachkontenlänge
        f"{first:%Y%m%d}",  # 15 Datum vom
        f"{last:%Y%m%d}",  # 16 Datum bis
        _quoted(datev_text(f"Rechnungen {journal.month}", LABEL_LENGTH)),  # 17 Bezeichnung
        _quoted(""),  # 18 Diktatkürzel
        "1",  # 19 Buchungstyp: Finanzbuchführung
        "0",  # 20 Rechnungslegungszweck: unabhängig
        "0",  # 21 Festschreibung: no, the advisor checks before locking
        _quoted("EUR"),  # 22 WKZ
        "",  # 23 reserviert
        _quoted(""),  # 24 Derivatskennzeichen
        "",  # 25 reserviert
        "",  # 26 reserviert
        _quoted(settings.chart[3:]),  # 27 Sachkontenrahmen: "03" or "04"
        "",  # 28 ID der Branchenlösung
        "",  # 29 reserviert
        _quoted(""),  # 30 reserviert
        _quoted(""),  # 31 Anwendungsinformation
    ]
    return ";".join(fields)


def booking_line(booking: Booking) -> str:
    fields = [""] * len(COLUMNS)
    fields[_AMOUNT] = decimal_comma(booking.amount)
    fields[_SIDE] = _quoted(booking.side)
    fields[_CURRENCY] = _quoted(booking.currency)
    fields[_ACCOUNT] = booking.account
    fields[_CONTRA] = booking.contra_account
    fields[_TAX_KEY] = _quoted(booking.tax_key)
    fields[_DATE] = f"{booking.document_date:%d%m}"
    fields[_DOCUMENT] = _quoted(booking.document_number)
    fields[_TEXT] = _quoted(booking.text)
    return ";".join(fields)


def booking_batch(journal: Journal, settings: DatevSettings, *, created_at: datetime) -> str:
    """The whole file as text: header, column headings, one line per booking."""
    bookings = bookings_of(journal, settings)
    lines = [header_line(journal, settings, created_at=created_at), ";".join(COLUMNS)]
    lines.extend(booking_line(booking) for booking in bookings)
    return "\r\n".join(lines) + "\r\n"


def encode(text: str, charset: Literal["cp1252", "utf-8-sig"]) -> bytes:
    """The file's bytes: Windows-1252 (DATEV's default, read by every import
    path) or UTF-8 with a byte order mark (DATEV's manual import and its
    extf-files API read it; the batch's text is Windows-1252-safe either way)."""
    return text.encode(charset)


def batch_filename(month: str) -> str:
    """DATEV imports files named EXTF_*.csv."""
    return f"EXTF_Buchungsstapel_{month}.csv"
