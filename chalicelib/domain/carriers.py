"""Tracking links: one template per carrier we know.

A carrier we do not know is fine as long as the merchant gives the tracking
URL; for a known carrier a given URL wins over the template (a merchant may
ship through a reseller with its own tracking page).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from chalicelib.domain.errors import InvalidRequest

#: carrier slug -> tracking page, ``{number}`` filled in URL-encoded.
TEMPLATES: dict[str, str] = {
    "dhl": "https://www.dhl.de/de/privatkunden/dhl-sendungsverfolgung.html?piececode={number}",
    "dhl_express": (
        "https://www.dhl.com/de-en/home/tracking/tracking-express.html"
        "?submit=1&tracking-id={number}"
    ),
    "dpd": "https://tracking.dpd.de/status/de_DE/parcel/{number}",
    "gls": "https://gls-group.com/DE/de/paketverfolgung?match={number}",
    "hermes": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{number}",
    "ups": "https://www.ups.com/track?loc=de_DE&tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "deutsche_post": (
        "https://www.deutschepost.de/de/s/sendungsverfolgung.html?piececode={number}"
    ),
}

CARRIER = re.compile(r"^[a-z0-9][a-z0-9_]{1,31}$")


def normalise_carrier(name: str) -> str:
    """``DHL Express`` and ``dhl-express`` both become ``dhl_express``."""
    slug = re.sub(r"[\s-]+", "_", name.strip().lower())
    if not CARRIER.match(slug):
        raise InvalidRequest(
            "a carrier is 2 to 32 letters, digits or underscores", carrier=name[:40]
        )
    return slug


def tracking_url(carrier: str, tracking_number: str, given: str | None = None) -> str:
    """The customer's tracking link for this parcel."""
    if given:
        return given
    template = TEMPLATES.get(carrier)
    if template is None:
        raise InvalidRequest(
            "for a carrier we have no template for, send `tracking_url`",
            carrier=carrier,
            known=sorted(TEMPLATES),
        )
    return template.format(number=quote(tracking_number, safe=""))
