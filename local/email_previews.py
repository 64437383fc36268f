"""`make emails`: renders every email kind in both locales from the sample
events into a folder with an index.html to open in a browser."""

from __future__ import annotations

import argparse
import html
from dataclasses import replace
from pathlib import Path

from chalicelib.config import Settings
from chalicelib.notify import emails as catalogue
from chalicelib.notify.formatting import LOCALES
from local.email_samples import DETAIL_TYPES, sample, secrets

#: Samples beyond one per detail-type: (name, detail-type, order fields changed).
VARIANTS = (("OrderPlaced-bank_transfer", "OrderPlaced", {"payment_method": "bank_transfer"}),)
#: Bank details for the previews when the settings have none, so the
#: bank-transfer emails show their GiroCode.
SAMPLE_PAYEE = catalogue.Payee("Muster Shop GmbH", "DE89370400440532013000", "COBADEFFXXX")


def write_previews(out: Path, settings: Settings) -> list[Path]:
    """Writes <detail-type>.<kind>.<locale>.html/.txt plus an index; returns the files.
    An inline image (the GiroCode) is written beside its email, which shows it."""
    out.mkdir(parents=True, exist_ok=True)
    shop = catalogue.Shop.from_settings(settings)
    if not shop.payee.iban:
        shop = replace(shop, payee=SAMPLE_PAYEE)
    written: list[Path] = []
    rows = []
    cases = [(name, name, {}) for name in DETAIL_TYPES] + list(VARIANTS)
    for name, detail_type, changes in cases:
        for locale in LOCALES:
            values = sample(detail_type, locale)
            values.get("order", {}).update(changes)
            detail = catalogue.parse(detail_type, values)
            assert detail is not None
            # The merchant reads in the merchant's locale: preview both.
            as_merchant_reads = replace(shop, merchant_locale=locale)
            for email in catalogue.emails_for(
                detail_type, detail, as_merchant_reads, secrets(detail_type)
            ):
                stem = f"{name}.{email.kind}.{locale}"
                page, links = email.html, ""
                for image in email.images:
                    picture = out / f"{stem}.{image.content_id.split('@')[0]}.{image.subtype}"
                    picture.write_bytes(image.data)
                    page = page.replace(f"cid:{image.content_id}", picture.name)
                    written.append(picture)
                    links += f' · <a href="{picture.name}">image</a>'
                (out / f"{stem}.html").write_text(page, encoding="utf-8")
                (out / f"{stem}.txt").write_text(
                    f"Subject: {email.subject}\nTo: {email.to}\n"
                    + "".join(f"{k}: {v}\n" for k, v in email.headers.items())
                    + "\n"
                    + email.text,
                    encoding="utf-8",
                )
                written += [out / f"{stem}.html", out / f"{stem}.txt"]
                rows.append(
                    f"<tr><td>{name}</td><td>{email.kind}</td><td>{email.locale}</td>"
                    f"<td>{html.escape(email.subject)}</td>"
                    f'<td><a href="{stem}.html">HTML</a> · <a href="{stem}.txt">text</a>'
                    f"{links}</td></tr>"
                )
    index = out / "index.html"
    index.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Email previews</title></head>'
        '<body style="font-family:sans-serif"><h1>Email previews</h1>'
        "<table cellpadding=6><tr><th>event</th><th>kind</th><th>locale</th><th>subject</th>"
        "<th>open</th></tr>" + "\n".join(rows) + "</table></body></html>",
        encoding="utf-8",
    )
    return [*written, index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="build/emails", type=Path)
    args = parser.parse_args()
    files = write_previews(args.out, Settings(table_name="preview", stage="local"))
    print(f"{len(files)} files written; open {args.out / 'index.html'}")


if __name__ == "__main__":
    main()
