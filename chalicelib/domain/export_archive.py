"""The month's export as one ZIP: the journal files at its root, every PDF
under ``belege/``. Plain Python, no I/O: the documents function, which holds
the PDFs, calls it (docs/invoices.md, "The ZIP"). Deterministic: the same
files give the same bytes (one timestamp, the month's first moment; fixed
permissions, creating system and compression; PDFs sorted by name).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain import datev, journal
from chalicelib.domain.journal import Journal

PDF_FOLDER = "belege/"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")
_COMPRESS_LEVEL = 6


def journal_files(
    month_journal: Journal, settings: datev.DatevSettings | None, *, created_at: datetime
) -> list[tuple[str, bytes]]:
    """The journal as CSV and, if the shop has DATEV settings, as a DATEV
    booking batch in Windows-1252 (read by every DATEV import path)."""
    files = [
        (journal.journal_filename(month_journal.month), journal.journal_csv_bytes(month_journal))
    ]
    if settings is not None:
        batch = datev.booking_batch(month_journal, settings, created_at=created_at)
        files.append((datev.batch_filename(month_journal.month), datev.encode(batch, "cp1252")))
    return files


def month_archive(
    month: str, files: Sequence[tuple[str, bytes]], pdfs: Sequence[tuple[str, bytes]]
) -> bytes:
    """The ZIP of ``files`` (at its root, in the order given) and ``pdfs``
    (under ``belege/``, by name). Names are plain file names (no folders, no
    ``..``) and unique; anything else is refused (ValueError)."""
    first = datetime(int(month[:4]), int(month[5:7]), 1)
    stamp = (first.year, first.month, first.day, 0, 0, 0)
    entries = [*files, *((PDF_FOLDER + name, data) for name, data in sorted(pdfs))]
    names = [name for name, _ in entries]
    for name in names:
        plain = name.removeprefix(PDF_FOLDER) if name.startswith(PDF_FOLDER) else name
        if not _SAFE_NAME.match(plain) or ".." in plain:
            raise ValueError(f"not a plain file name: {name!r}")
    if len(set(names)) != len(names):
        raise ValueError("a file name is given twice")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the platform: same bytes everywhere
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=_COMPRESS_LEVEL)
    return out.getvalue()


def archive_filename(month: str) -> str:
    return f"Belege_{month}.zip"
