"""The month's export for the tax advisor: the journal, its CSV, the DATEV
booking batch and the ZIP (docs/invoices.md, "The month's export")."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import datev, export_archive, journal
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import DatevAccountMissing
from chalicelib.domain.invoice import Buyer, Credited, CreditReason, credit_note_for
from chalicelib.domain.order import PaymentMethod
from tests.invoice_samples import AT, invoice_of, paid_order

DATEV = datev.DatevSettings(consultant_number=29098, client_number=55003)
CREATED = datetime(2027, 1, 2, 14, 4, 40, 439_000)


def credit(invoice, amount, credited=None, number="GS-2026-00001", source="evt-1", day=4):
    return credit_note_for(
        invoice,
        number=number,
        amount=amount,
        credited=credited or Credited.nothing(),
        reason=CreditReason.REFUND,
        source=source,
        issued_at=AT,
        issue_date=date(2026, 12, day),
    )


def sample_month():
    """Two invoices (one to a company, by bank transfer) and a credit note."""
    first = invoice_of(paid_order(order_id="o-1"), "RE-2026-00001")
    company = replace(
        invoice_of(paid_order({"mug": 2}, order_id="o-2", method=PaymentMethod.BANK_TRANSFER)),
        number="RE-2026-00002",
        buyer=Buyer(name="Max Muster", address=("Weg 2",), company="Tee & Co. KG"),
    )
    note = credit(first, 1000)
    return journal.journal_of("2026-12", [first, company, note]), (first, company, note)


def parse(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";"))


def cents(amount: str) -> int:
    sign = -1 if amount.startswith("-") else 1
    units, fraction = amount.lstrip("-").split(",")
    assert len(fraction) == 2 and "." not in units
    return sign * (int(units) * 100 + int(fraction))


# --- the journal and its CSV -----------------------------------------------------------


def test_the_csv_has_one_row_per_document_and_rate_as_german_excel_reads_it():
    month, (_first, _company, _note) = sample_month()
    text = journal.journal_csv(month)
    assert text.startswith("\ufeffBelegnummer;Belegart;Belegdatum;")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    rows = parse(text)
    assert [(r["Belegnummer"], r["USt-Satz %"]) for r in rows] == [
        ("RE-2026-00001", "7"),
        ("RE-2026-00001", "19"),
        ("RE-2026-00002", "19"),
        ("GS-2026-00001", "7"),
        ("GS-2026-00001", "19"),
    ]
    # The sample invoice of docs/invoices.md: 7 % net 22,59, tax 1,58, gross 24,17.
    assert rows[0] == {
        "Belegnummer": "RE-2026-00001",
        "Belegart": "Rechnung",
        "Belegdatum": "03.12.2026",
        "Korrigiert Rechnung": "",
        "Kunde": "Erika Mustermann",
        "Bestellnummer": "7K3M-9Q2X",
        "Zahlungsart": "Karte",
        "Währung": "EUR",
        "USt-Satz %": "7",
        "Netto": "22,59",
        "USt": "1,58",
        "Brutto": "24,17",
        "Beleg Netto": "38,81",
        "Beleg USt": "4,66",
        "Beleg Brutto": "43,47",
    }
    assert rows[2]["Kunde"] == "Tee & Co. KG" and rows[2]["Zahlungsart"] == "Überweisung"
    assert rows[3]["Belegart"] == "Rechnungskorrektur"
    assert rows[3]["Korrigiert Rechnung"] == "RE-2026-00001"
    assert cents(rows[3]["Brutto"]) + cents(rows[4]["Brutto"]) == -1000
    assert rows[3]["Beleg Brutto"] == "-10,00"


def test_the_csv_adds_up_to_the_cent_per_rate_and_per_document():
    month, documents = sample_month()
    rows = parse(journal.journal_csv(month))
    for document in documents:
        mine = [r for r in rows if r["Belegnummer"] == document.number]
        for column, total in (("Netto", document.net), ("USt", document.tax),
                              ("Brutto", document.gross)):  # fmt: skip
            assert sum(cents(r[column]) for r in mine) == total
            assert {cents(r[f"Beleg {column}"]) for r in mine} == {total}
    for rate, amounts in month.totals_by_rate().items():
        at_rate = [r for r in rows if r["USt-Satz %"] == journal.rate_text(rate)]
        assert sum(cents(r["Brutto"]) for r in at_rate) == amounts.gross
        assert sum(cents(r["USt"]) for r in at_rate) == amounts.tax
        assert sum(cents(r["Netto"]) for r in at_rate) == amounts.net


def test_a_name_that_looks_like_a_formula_is_never_run_by_a_spreadsheet():
    invoice = invoice_of(paid_order())
    tricky = replace(invoice, buyer=Buyer(name='=HYPERLINK("x";"y")', address=()))
    rows = parse(journal.journal_csv(journal.journal_of("2026-12", [tricky])))
    assert rows[0]["Kunde"] == '\'=HYPERLINK("x";"y")'
    assert journal.safe_text("Line\none") == "Line one"


def test_amounts_and_rates_are_written_with_a_decimal_comma():
    assert journal.decimal_comma(123456) == "1234,56"
    assert journal.decimal_comma(-5) == "-0,05"
    assert journal.decimal_comma(0) == "0,00"
    assert [journal.rate_text(r) for r in ("19", "7", "5.5", "0", "7.00")] == [
        "19", "7", "5,5", "0", "7",
    ]  # fmt: skip


def test_a_document_of_another_month_or_listed_twice_is_refused():
    invoice = invoice_of(paid_order())
    with pytest.raises(ValueError, match="not issued in 2026-11"):
        journal.journal_of("2026-11", [invoice])
    with pytest.raises(ValueError, match="twice"):
        journal.journal_of("2026-12", [invoice, invoice])


def test_an_empty_month_is_a_header_only():
    empty = journal.journal_of("2026-12", [])
    assert parse(journal.journal_csv(empty)) == []
    assert datev.booking_batch(empty, DATEV, created_at=CREATED).count("\r\n") == 2


# --- DATEV -----------------------------------------------------------------------------


def batch_lines(month, settings=DATEV):
    return datev.booking_batch(month, settings, created_at=CREATED).split("\r\n")


def fields(line: str) -> list[str]:
    return next(csv.reader([line], delimiter=";"))


def test_the_datev_header_is_a_booking_batch_of_format_version_13():
    month, _ = sample_month()
    header = batch_lines(month)[0]
    # DATEV's own example header (developer.datev.de, "DATEV-Format"), with our values.
    assert header == (
        '"EXTF";700;21;"Buchungsstapel";13;20270102140440439;;"RE";"";"";29098;55003;'
        '20260101;4;20261201;20261231;"Rechnungen 2026-12";"";1;0;0;"EUR";;"";;;"03";;;"";""'
    )
    assert len(header.split(";")) == 31


def test_the_fiscal_year_may_start_in_another_month():
    month, _ = sample_month()
    july = datev.DatevSettings(consultant_number=1001, client_number=1, fiscal_year_start_month=7)
    assert fields(batch_lines(month, july)[0])[12] == "20260701"
    assert datev.fiscal_year_start(date(2027, 3, 1), 7) == date(2026, 7, 1)
    assert datev.month_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))


def test_one_booking_per_document_and_rate_on_the_charts_revenue_accounts():
    month, (_first, company, note) = sample_month()
    lines = batch_lines(month)
    assert lines[1].split(";") == list(datev.COLUMNS) and len(datev.COLUMNS) == 125
    assert lines[-1] == ""
    bookings = [fields(line) for line in lines[2:-1]]
    assert all(len(b) == 125 for b in bookings)
    summary = [(b[0], b[1], b[2], b[6], b[7], b[8], b[9], b[10]) for b in bookings]
    assert summary == [
        ("24,17", "S", "EUR", "10000", "8300", "", "0312", "RE-2026-00001"),
        ("19,30", "S", "EUR", "10000", "8400", "", "0312", "RE-2026-00001"),
        (f"{journal.decimal_comma(company.gross)}", "S", "EUR", "10000", "8400", "", "0312",
         "RE-2026-00002"),
        (journal.decimal_comma(-note.rates[0].gross), "H", "EUR", "10000", "8300", "", "0412",
         "GS-2026-00001"),
        (journal.decimal_comma(-note.rates[1].gross), "H", "EUR", "10000", "8400", "", "0412",
         "GS-2026-00001"),
    ]  # fmt: skip
    assert bookings[0][13] == "RE-2026-00001 Erika Mustermann"
    assert bookings[3][13] == "GS-2026-00001 zu RE-2026-00001 Erika Mustermann"
    # Text fields quoted, numbers and accounts not.
    assert lines[2].startswith('24,17;"S";"EUR";;;;10000;8300;"";0312;"RE-2026-00001";;;"RE-')


def test_skr04_a_configured_account_and_tax_key_and_a_missing_rate():
    month, _ = sample_month()
    skr04 = datev.DatevSettings(
        consultant_number=1001, client_number=1, chart="SKR04",
        revenue_accounts={"19": "4401"}, tax_keys={"19": "3"},
    )  # fmt: skip
    bookings = [fields(line) for line in batch_lines(month, skr04)[2:-1]]
    assert [(b[7], b[8]) for b in bookings[:2]] == [("4300", ""), ("4401", "3")]
    assert fields(batch_lines(month, skr04)[0])[26] == "04"
    zero = journal.journal_of("2026-12", [invoice_of(paid_order(products={
        "tea": Product(sku="tea", name="Tee", price=500, currency="EUR",
                       tax_rate=Decimal("0"), available=9)}, lines={"tea": 1}))])  # fmt: skip
    with pytest.raises(DatevAccountMissing) as refused:
        datev.booking_batch(zero, DATEV, created_at=CREATED)
    assert refused.value.details == {"rate": "0"}


def test_datev_settings_are_checked():
    for wrong in (
        {"consultant_number": 1000},
        {"client_number": 0},
        {"fiscal_year_start_month": 13},
        {"customer_account": "12a"},
        {"revenue_accounts": {"19": "8400000"}},
        {"tax_keys": {"19": "x"}},
    ):
        with pytest.raises(ValueError):
            datev.DatevSettings(**{"consultant_number": 1001, "client_number": 1, **wrong})


def test_text_datev_cannot_hold_is_transliterated_and_the_file_encodes_in_both_charsets():
    assert datev.datev_text('Łukasz Dvořák "Ü"\nzwei', 60) == 'Lukasz Dvorák "Ü" zwei'
    assert datev.datev_text("Šárka Nguyễn", 60) == "Šárka Nguyen"
    assert datev.datev_text("王", 60) == "?"
    assert datev.datev_text("x" * 70, 60) == "x" * 60
    invoice = invoice_of(paid_order())
    named = replace(invoice, buyer=Buyer(name='Zoë "Ł" Ünal', address=()))
    batch = datev.booking_batch(journal.journal_of("2026-12", [named]), DATEV, created_at=CREATED)
    ansi = datev.encode(batch, "cp1252")
    assert ansi.decode("cp1252") == batch
    assert '"RE-2026-00001 Zoë ""L"" Ünal"'.encode("cp1252") in ansi
    assert datev.encode(batch, "utf-8-sig").startswith(b'\xef\xbb\xbf"EXTF"')


# --- the property: the journal adds up, whatever the documents ---------------------------

RATES = ["0", "7", "19", "20", "5.5"]
ALL_RATES = datev.DatevSettings(
    consultant_number=1001, client_number=1,
    revenue_accounts={"0": "8338", "20": "8410", "5.5": "8310"},
)  # fmt: skip


@st.composite
def documents_(draw):
    documents = []
    for i in range(draw(st.integers(0, 5))):
        products = {
            f"p{j}": Product(
                sku=f"p{j}", name=f"Produkt {j}", price=draw(st.integers(1, 50_000)),
                currency="EUR", tax_rate=Decimal(draw(st.sampled_from(RATES))), available=1000,
            )
            for j in range(draw(st.integers(1, 3)))
        }  # fmt: skip
        lines = {sku: draw(st.integers(1, 5)) for sku in products}
        order = paid_order(lines, products=products, shipping=draw(st.booleans()),
                           order_id=f"o-{i}")  # fmt: skip
        invoice = invoice_of(order, f"RE-2026-{i + 1:05d}")
        documents.append(invoice)
        credited = Credited.nothing()
        for k, cut in enumerate(draw(st.lists(st.integers(1, 30_000), max_size=2))):
            left = sum(rate.gross for rate in credited.remaining(invoice))
            if left == 0:
                break
            note = credit(invoice, min(cut, left), credited, number=f"GS-2026-{i}{k:04d}",
                          source=f"evt-{i}-{k}")  # fmt: skip
            credited = credited.plus(note)
            documents.append(note)
    return documents


@settings(max_examples=120, deadline=None)
@given(documents=documents_())
def test_the_journal_its_csv_and_its_bookings_add_up_to_the_documents_per_rate(documents):
    month = journal.journal_of("2026-12", documents)
    expected: dict[str, list[int]] = {}
    for document in documents:
        for rate in document.rates:
            sums = expected.setdefault(journal.rate_text(rate.rate), [0, 0, 0])
            sums[0] += rate.net
            sums[1] += rate.tax
            sums[2] += rate.gross
    totals = {
        journal.rate_text(rate): [a.net, a.tax, a.gross]
        for rate, a in month.totals_by_rate().items()
    }
    assert totals == expected
    read: dict[str, list[int]] = {}
    for row in parse(journal.journal_csv(month)):
        sums = read.setdefault(row["USt-Satz %"], [0, 0, 0])
        sums[0] += cents(row["Netto"])
        sums[1] += cents(row["USt"])
        sums[2] += cents(row["Brutto"])
    assert read == expected
    # DATEV: debit minus credit per revenue account is the rate's gross.
    booked: dict[str, int] = {}
    for line in batch_lines(month, ALL_RATES)[2:-1]:
        b = fields(line)
        booked[b[7]] = booked.get(b[7], 0) + (1 if b[1] == "S" else -1) * cents(b[0])
    accounts = {journal.rate_text(r): a for r, a in ALL_RATES.accounts().items()}
    wanted = {accounts[r]: sums[2] for r, sums in expected.items() if sums[2]}
    assert {a: v for a, v in booked.items() if v} == wanted


# --- the ZIP ---------------------------------------------------------------------------


def test_the_archive_is_the_same_bytes_for_the_same_files_and_unzips_back():
    month, _ = sample_month()
    files = export_archive.journal_files(month, DATEV, created_at=CREATED)
    assert [name for name, _ in files] == [
        "Rechnungsjournal_2026-12.csv", "EXTF_Buchungsstapel_2026-12.csv",
    ]  # fmt: skip
    pdfs = [("RE-2026-00002.pdf", b"%PDF-2"), ("RE-2026-00001.pdf", b"%PDF-1" * 100)]
    archive = export_archive.month_archive("2026-12", files, pdfs)
    assert export_archive.month_archive("2026-12", files, list(reversed(pdfs))) == archive
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.testzip() is None
        assert opened.namelist() == [
            "Rechnungsjournal_2026-12.csv", "EXTF_Buchungsstapel_2026-12.csv",
            "belege/RE-2026-00001.pdf", "belege/RE-2026-00002.pdf",
        ]  # fmt: skip
        assert opened.read("belege/RE-2026-00001.pdf") == b"%PDF-1" * 100
        assert opened.read("Rechnungsjournal_2026-12.csv") == files[0][1]
        assert (
            opened.read("EXTF_Buchungsstapel_2026-12.csv")
            .decode("cp1252")
            .startswith('"EXTF";700;21;')
        )
        assert {info.date_time for info in opened.infolist()} == {(2026, 12, 1, 0, 0, 0)}
    assert export_archive.journal_files(month, None, created_at=CREATED)[0] == files[0]


@pytest.mark.parametrize("name", ["../x.pdf", "a/b.pdf", "", ".hidden", "a\\b.pdf", "ü.pdf"])
def test_the_archive_refuses_names_that_are_not_plain_file_names(name):
    with pytest.raises(ValueError):
        export_archive.month_archive("2026-12", [], [(name, b"x")])


def test_the_archive_refuses_a_name_given_twice():
    with pytest.raises(ValueError, match="twice"):
        export_archive.month_archive("2026-12", [("a.csv", b"1")], [("b.pdf", b"")] * 2)


# --- the use cases (on the fake invoice store) ------------------------------------------


def fake_context(store, **settings):
    from chalicelib.services.context import Context
    from chalicelib.settings import ServiceSettings

    return Context(
        catalog=None, orders=None, payments=None, invoices=store,
        settings=ServiceSettings(table_name="shop-test", **settings),
        clock=lambda: datetime(2027, 1, 1, 23, 30, tzinfo=UTC),
    )  # fmt: skip


def issued_store(invoices=5):
    from chalicelib.domain.invoice import invoice_entry
    from tests.fake_invoices import FakeInvoices
    from tests.fakes import FakeTable

    store = FakeInvoices(FakeTable())
    for i in range(1, invoices + 1):
        order = paid_order(order_id=f"o-{i}")
        invoice = invoice_of(order, f"RE-2026-{i:05d}")
        store.issue_invoice(invoice, series="RE-2026", sequence=i, order=order,
                            entry=invoice_entry(invoice, trigger="payment", at=AT))  # fmt: skip
    return store


def test_the_listing_pages_by_a_cursor_of_its_own_month(monkeypatch):
    from chalicelib.domain.errors import InvalidCursor, InvalidRequest
    from chalicelib.services import tax_export

    ctx = fake_context(issued_store())
    first = tax_export.list_month_documents("2026-12", page_size=3, cursor=None, ctx=ctx)
    assert [d.number[-1] for d in first.documents] == ["1", "2", "3"]
    second = tax_export.list_month_documents("2026-12", page_size=3, cursor=first.cursor, ctx=ctx)
    assert [d.number[-1] for d in second.documents] == ["4", "5"] and second.cursor is None
    with pytest.raises(InvalidCursor, match="another month"):
        tax_export.list_month_documents("2026-11", page_size=3, cursor=first.cursor, ctx=ctx)
    forged = tax_export.encode_cursor("2026-12", "1#RE' OR 1=1")
    with pytest.raises(InvalidCursor):
        tax_export.list_month_documents("2026-12", page_size=3, cursor=forged, ctx=ctx)
    for month, size in (("2026-13", 3), ("2026-12", 0), ("2026-12", 101)):
        with pytest.raises(InvalidRequest):
            tax_export.list_month_documents(month, page_size=size, cursor=None, ctx=ctx)


def test_the_journal_reads_every_page_and_dates_the_datev_batch_in_the_shops_time(monkeypatch):
    from chalicelib.services import tax_export

    monkeypatch.setattr(tax_export, "JOURNAL_PAGE", 2)
    ctx = fake_context(
        issued_store(), datev_consultant_number=29098, datev_client_number=55003,
        datev_revenue_accounts="19=8401", datev_tax_keys="19=3",
    )  # fmt: skip
    made = tax_export.month_journal("2026-12", output="csv", ctx=ctx)
    assert made.filename == "Rechnungsjournal_2026-12.csv"
    assert (made.documents, made.rows) == (5, 10) and len(parse(made.text)) == 10
    batch = tax_export.month_journal("2026-12", output="datev", ctx=ctx)
    assert batch.filename == "EXTF_Buchungsstapel_2026-12.csv" and batch.rows == 10
    header, _, first, second, *_ = batch.text.lstrip("\ufeff").split("\r\n")
    # 23:30 UTC on 1 January is 00:30 on 2 January in Berlin.
    assert fields(header)[5] == "20270102003000000"
    assert fields(header)[10:12] == ["29098", "55003"]
    assert (fields(first)[7], fields(second)[7:9]) == ("8300", ["8401", "3"])
    assert tax_export.rate_map("19=8400, 7=8300") == {"19": "8400", "7": "8300"}
    assert tax_export.rate_map("") == {}
